/**
 * Evaluates every AWS call the deployed system makes against the synthesized
 * IAM, KMS and resource policies, with @cloud-copilot/iam-simulate (AGPL,
 * test-only; see policy-simulation.ts for why it was chosen and what it cannot
 * model). The calls come from lambdas/ingest/src/aws-calls.ts and the template
 * itself (test/infra/deployed-calls.ts).
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { LAMBDA_S3_CALLS } from '../../lambdas/ingest/src/aws-calls.js'
import { STATES } from '../../lambdas/ingest/src/orchestration.js'
import { outputKeysFor } from '../../lambdas/ingest/src/output-keys.js'
import {
  alarmCalls,
  deployedCalls,
  identityPoliciesOf,
  lambdaCalls,
  largeFileTaskCalls,
  resolvedTemplate,
  SAMPLE_SOURCE_NAME,
  stateMachineCalls,
} from './deployed-calls.js'
import { type AwsCall, evaluate, refusedCalls } from './policy-simulation.js'
import { FAKE_ENV } from './resolve-template.js'
import { template } from './synth.js'

// The default stack: the large-file path and the current table are in it.
const t = resolvedTemplate(template().toJSON())
const calls = deployedCalls(t)

/** The one resource of a type; the stack has exactly one of each used here. */
function only(type: string) {
  const [first, ...rest] = t.ofType(type)
  if (first === undefined || rest.length > 0) throw new Error(`expected one ${type}`)
  return first
}

const lambdaRole = only('AWS::Lambda::Function').props.Role as string
const env = (only('AWS::Lambda::Function').props.Environment as { Variables: Record<string, string> })
  .Variables
const rulePattern = only('AWS::Events::Rule').props.EventPattern as { detail: { bucket: { name: string[] } } }
const raw = String(rulePattern.detail.bucket.name[0])
const processed = env.PROCESSED_BUCKET as string
const keys = outputKeysFor(`incoming/${SAMPLE_SOURCE_NAME}`, 'incoming/', new Date('2026-11-28T10:00:00Z'))
const key = only('AWS::KMS::Key')
const ingestMachine = t
  .ofType('AWS::StepFunctions::StateMachine')
  .find((m) => String(m.props.DefinitionString).includes('sns:publish'))
const topic = only('AWS::SNS::Topic')

/** A call by the Lambda's role, to check for a denial. */
function asLambda(
  action: string,
  resource: string,
  context: Record<string, string | string[]> = {},
): AwsCall {
  const bucket = resource.replace(/^arn:aws:s3:::/, '').split('/')[0] as string
  const policy = t.ofType('AWS::S3::BucketPolicy').find((p) => p.props.Bucket === bucket)
    ?.props.PolicyDocument
  return {
    description: `Lambda ${action} ${resource}`,
    principal: lambdaRole,
    action,
    resource,
    context: { 'aws:SecureTransport': 'true', ...context },
    identityPolicies: identityPoliciesOf(t, lambdaRole),
    ...(action.startsWith('kms:') ? { resourcePolicy: key.props.KeyPolicy } : { resourcePolicy: policy }),
  }
}

describe('every call the deployed system makes', () => {
  it('is the number of calls docs/aws.md says it evaluates', () => {
    const said = /evaluates \*\*(\d+) calls\*\*/.exec(readFileSync('docs/aws.md', 'utf8'))?.[1]
    expect(Number(said)).toBe(calls.length)
  })

  it(`is allowed by the synthesized policies (${calls.length} calls)`, async () => {
    expect(await refusedCalls(calls)).toEqual([])
  }, 60_000)

  it("includes the ingest machine's MERGE (Athena, the writer lock, Glue, S3, KMS) and its start of the table's rebuild", () => {
    const ingestMachine = (c: AwsCall) => /state machine [^,]*-ingest,/.test(c.description)
    const actions = new Set(calls.filter(ingestMachine).map((c) => c.action))
    for (const action of [
      'athena:StartQueryExecution',
      'athena:GetQueryExecution',
      'dynamodb:UpdateItem',
      'dynamodb:GetItem',
      'states:DescribeExecution',
      'glue:UpdateTable',
      's3:PutObject',
      'kms:GenerateDataKey',
      'states:StartExecution',
      'events:PutRule',
    ]) {
      expect(actions, action).toContain(action)
    }
    const backfillRebuild = calls.filter(
      (c) =>
        c.description.includes(`, ${STATES.rebuildAfterBackfill}:`) && c.action === 'states:StartExecution',
    )
    expect(backfillRebuild.map((c) => c.resource)).toEqual([
      expect.stringMatching(/:stateMachine:[^:]+-current-table-rebuild$/),
    ])
  })

  it('covers each kind of caller: Lambda, Fargate task, state machines, rule, dead-letter queue, alarms, logs, access logs', () => {
    const principals = new Set(calls.map((c) => c.principal))
    for (const service of [
      'lambda.amazonaws.com',
      'ecs-tasks.amazonaws.com',
      'states.amazonaws.com',
      'events.amazonaws.com',
      'cloudwatch.amazonaws.com',
      `logs.${FAKE_ENV.region}.amazonaws.com`,
      'logging.s3.amazonaws.com',
    ]) {
      expect(principals).toContain(service)
    }
    // Every Lambda S3 call of the table is evaluated, on the bucket it targets.
    expect(
      lambdaCalls(t).filter((c) => c.action.startsWith('s3:') && !c.action.endsWith('ListBucket')),
    ).toHaveLength(LAMBDA_S3_CALLS.length)
    // And the Fargate task makes every one of them too, as its own role.
    expect(
      largeFileTaskCalls(t).filter((c) => c.action.startsWith('s3:') && !c.action.endsWith('ListBucket')),
    ).toHaveLength(LAMBDA_S3_CALLS.length)
  })
})

describe('the large-file path', () => {
  const task = only('AWS::ECS::TaskDefinition')
  const taskRole = task.props.TaskRoleArn as string
  const asTask = (action: string, resource: string): AwsCall => ({
    ...asLambda(action, resource),
    description: `task ${action} ${resource}`,
    principal: taskRole,
    identityPolicies: identityPoliciesOf(t, taskRole),
  })
  const machineRole = String(ingestMachine?.props.RoleArn)
  const asMachine = (action: string, resource: string, context: Record<string, string> = {}): AwsCall => ({
    description: `state machine ${action} ${resource}`,
    principal: machineRole,
    action,
    resource,
    context,
    identityPolicies: identityPoliciesOf(t, machineRole),
  })

  it("evaluates the task's own calls (its roles, the image pull, its logs) and runTask.sync's, all allowed", async () => {
    const taskCalls = largeFileTaskCalls(t)
    const runJob = stateMachineCalls(t).filter((c) => /ecs:|iam:PassRole|events:/.test(c.action))
    expect(new Set(runJob.map((c) => c.action))).toEqual(
      new Set([
        'ecs:RunTask',
        'iam:PassRole',
        'ecs:DescribeTasks',
        'ecs:StopTask',
        'events:PutTargets',
        'events:PutRule',
        'events:DescribeRule',
      ]),
    )
    expect(await refusedCalls([...taskCalls, ...runJob])).toEqual([])
  })

  const { account, region } = FAKE_ENV
  const denied: [string, AwsCall][] = [
    ['the task writing into the raw bucket', asTask('s3:PutObject', `arn:aws:s3:::${raw}/incoming/x.csv`)],
    [
      'the task reading an output it never reads',
      asTask('s3:GetObject', `arn:aws:s3:::${processed}/${keys.parquet}`),
    ],
    ['the task deleting a manifest', asTask('s3:DeleteObject', `arn:aws:s3:::${processed}/${keys.manifest}`)],
    [
      'the task starting other tasks',
      asTask('ecs:RunTask', `arn:aws:ecs:${region}:${account}:task-definition/x:1`),
    ],
    [
      'the state machine running another task definition',
      asMachine('ecs:RunTask', `arn:aws:ecs:${region}:${account}:task-definition/someone-elses:1`),
    ],
    [
      "the state machine passing the Lambda's role",
      asMachine('iam:PassRole', lambdaRole, { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' }),
    ],
    [
      'the state machine changing another EventBridge rule',
      asMachine('events:PutTargets', `arn:aws:events:${region}:${account}:rule/someone-elses`),
    ],
  ]

  it.each(denied)('refuses %s', async (_, call) => {
    const { decision } = await evaluate(call)
    expect(decision).not.toBe('Allowed')
  })
})

describe('the stack without the large-file path (largeFiles=off)', () => {
  it('allows every call it makes too, and makes no ECS call', async () => {
    const off = deployedCalls(resolvedTemplate(template({ largeFiles: 'off' }).toJSON()))
    expect(off.some((c) => c.action.startsWith('ecs:'))).toBe(false)
    expect(await refusedCalls(off)).toEqual([])
  }, 60_000)
})

describe('the defects issue 9 names', () => {
  it('alarms may publish to the alerts topic and use its key (cloudwatch.amazonaws.com)', async () => {
    const alarms = alarmCalls(t)
    expect(alarms.length).toBeGreaterThanOrEqual(8 * 3)
    expect(await refusedCalls(alarms)).toEqual([])
  })

  it("the ingest state machine's notify steps may publish to the KMS-encrypted topic", async () => {
    const publishes = stateMachineCalls(t).filter(
      (c) => c.description.includes(' Notify') && c.principal === ingestMachine?.props.RoleArn,
    )
    expect(publishes.map((c) => c.action)).toEqual(
      expect.arrayContaining(['sns:Publish', 'kms:GenerateDataKey', 'kms:Decrypt']),
    )
    expect(await refusedCalls(publishes)).toEqual([])
  })

  it('a missing source, lookup or manifest answers 404, whatever s3:prefix S3 puts on its ListBucket check', async () => {
    const listChecks = lambdaCalls(t).filter((c) => c.action === 's3:ListBucket')
    expect(listChecks).toHaveLength(LAMBDA_S3_CALLS.filter((c) => c.mayBeMissing).length * 2)
    expect(await refusedCalls(listChecks)).toEqual([])
  })
})

describe('calls the policies refuse', () => {
  const denied: [string, AwsCall][] = [
    [
      'the Lambda writing outside its output prefixes',
      asLambda('s3:PutObject', `arn:aws:s3:::${processed}/athena-results/x.csv`),
    ],
    [
      'the Lambda writing into the raw bucket',
      asLambda('s3:PutObject', `arn:aws:s3:::${raw}/incoming/x.csv`),
    ],
    [
      'the Lambda reading an output it never reads',
      asLambda('s3:GetObject', `arn:aws:s3:::${processed}/${keys.parquet}`),
    ],
    [
      'the Lambda deleting a manifest',
      asLambda('s3:DeleteObject', `arn:aws:s3:::${processed}/${keys.manifest}`),
    ],
    [
      'the Lambda deleting a specific object version',
      asLambda('s3:DeleteObjectVersion', `arn:aws:s3:::${processed}/${keys.parquet}`),
    ],
    [
      'the Lambda reading outside the incoming prefix',
      asLambda('s3:GetObject', `arn:aws:s3:::${raw}/private/x.csv`),
    ],
    [
      'the Lambda listing outputs it does not read',
      asLambda('s3:ListBucket', `arn:aws:s3:::${processed}`, { 's3:prefix': 'listings/' }),
    ],
    [
      'the Lambda reading over plain HTTP',
      asLambda('s3:GetObject', `arn:aws:s3:::${raw}/incoming/${SAMPLE_SOURCE_NAME}`, {
        'aws:SecureTransport': 'false',
      }),
    ],
    [
      'the Lambda using the data key directly, not through S3',
      asLambda('kms:Decrypt', key.arn, { 'kms:CallerAccount': FAKE_ENV.account }),
    ],
    [
      'an alarm of another account publishing to the topic',
      {
        description: 'foreign alarm',
        principal: 'cloudwatch.amazonaws.com',
        action: 'sns:Publish',
        resource: topic.arn,
        context: {
          'aws:SecureTransport': 'true',
          'aws:SourceAccount': '999999999999',
          'aws:SourceArn': 'arn:aws:cloudwatch:eu-west-2:999999999999:alarm:x',
        },
        identityPolicies: [],
        resourcePolicy: only('AWS::SNS::TopicPolicy').props.PolicyDocument,
      },
    ],
    [
      "an alarm of this account that is not this stack's publishing to the topic",
      {
        description: 'other alarm',
        principal: 'cloudwatch.amazonaws.com',
        action: 'sns:Publish',
        resource: topic.arn,
        context: {
          'aws:SecureTransport': 'true',
          'aws:SourceAccount': FAKE_ENV.account,
          'aws:SourceArn': `arn:aws:cloudwatch:${FAKE_ENV.region}:${FAKE_ENV.account}:alarm:someone-elses-alarm`,
        },
        identityPolicies: [],
        resourcePolicy: only('AWS::SNS::TopicPolicy').props.PolicyDocument,
      },
    ],
    [
      'the ingest state machine using the data key directly, not through SNS',
      {
        description: 'state machine direct KMS',
        principal: String(ingestMachine?.props.RoleArn),
        action: 'kms:Decrypt',
        resource: key.arn,
        context: { 'kms:CallerAccount': FAKE_ENV.account },
        identityPolicies: identityPoliciesOf(t, String(ingestMachine?.props.RoleArn)),
        resourcePolicy: key.props.KeyPolicy,
      },
    ],
    [
      "another rule's events sent to the dead-letter queue",
      {
        description: 'foreign rule',
        principal: 'events.amazonaws.com',
        action: 'sqs:SendMessage',
        resource: only('AWS::SQS::Queue').arn,
        context: {
          'aws:SecureTransport': 'true',
          'aws:SourceAccount': FAKE_ENV.account,
          'aws:SourceArn': `arn:aws:events:${FAKE_ENV.region}:${FAKE_ENV.account}:rule/other`,
        },
        identityPolicies: [],
        resourcePolicy: only('AWS::SQS::QueuePolicy').props.PolicyDocument,
      },
    ],
    [
      'CloudWatch Logs using the key for a log group of another account',
      {
        description: 'foreign log group',
        principal: `logs.${FAKE_ENV.region}.amazonaws.com`,
        action: 'kms:GenerateDataKey',
        resource: key.arn,
        context: {
          'kms:EncryptionContext:aws:logs:arn': `arn:aws:logs:${FAKE_ENV.region}:999999999999:log-group:x`,
        },
        identityPolicies: [],
        resourcePolicy: key.props.KeyPolicy,
      },
    ],
  ]

  it.each(denied)('%s', async (_, call) => {
    const { decision } = await evaluate(call)
    expect(decision).not.toBe('Allowed')
  })
})

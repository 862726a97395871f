/**
 * Every AWS call the deployed system makes, derived from the resolved
 * template and the call tables in lambdas/ingest/src/aws-calls.ts: the
 * Lambda's S3 and KMS requests (from LAMBDA_S3_CALLS), the same requests by
 * the large-file task's role plus its image pull and logs, each state
 * machine's Task and ItemReader integrations (from the ASL, by
 * TASK_INTEGRATIONS; runTask.sync with ECS_RUN_JOB_ACTIONS), the
 * Distributed Map's child executions, the EventBridge rule's targets and
 * dead-letter queue, the alarms' actions, server access logging, the log
 * groups' key, the roles' trust policies.
 */

import { CURRENT_TABLE_INTEGRATIONS } from '../../infra/src/current-table-states.js'
import { START_EXECUTION_SYNC } from '../../infra/src/state-machines.js'
import {
  actionFor,
  DISTRIBUTED_MAP_ACTIONS,
  ECS_RUN_JOB_ACTIONS,
  LAMBDA_LOG_ACTIONS,
  LAMBDA_S3_CALLS,
  type LambdaS3Call,
  S3_COMMANDS,
  type S3CommandGrant,
  SERVICE_KEY_USE,
  TASK_EXECUTION_ACTIONS,
  TASK_INTEGRATIONS,
  type TaskIntegration,
} from '../../lambdas/ingest/src/aws-calls.js'
import { outputKeysFor } from '../../lambdas/ingest/src/output-keys.js'
import { currentTableWriterCalls, scheduleCalls } from './deployed-calls-merge.js'
import type { AwsCall } from './policy-simulation.js'
import { FAKE_ENV, type ResolvedResource, ResolvedTemplate } from './resolve-template.js'

const { account, region, partition } = FAKE_ENV
const TLS = { 'aws:SecureTransport': 'true' }

/** A sample upload the Lambda processes: nested, with a space, as users name files. */
export const SAMPLE_SOURCE_NAME = '2024/shop listings.csv'
const SAMPLE_LAST_MODIFIED = new Date('2026-11-28T10:00:00Z')

/** Identity policies attached to a role: its inline policies and every AWS::IAM::Policy naming it. */
export function identityPoliciesOf(t: ResolvedTemplate, roleArn: string) {
  const role = t.byArnOrRef('AWS::IAM::Role', roleArn)
  if (role.props.ManagedPolicyArns !== undefined) throw new Error(`${roleArn} has managed policies`)
  const inline = ((role.props.Policies as { PolicyName: string; PolicyDocument: unknown }[]) ?? []).map(
    (p) => ({
      name: p.PolicyName,
      policy: p.PolicyDocument,
    }),
  )
  const attached = t
    .ofType('AWS::IAM::Policy')
    .filter((p) => (p.props.Roles as string[]).includes(role.ref))
    .map((p) => ({ name: String(p.props.PolicyName), policy: p.props.PolicyDocument }))
  return [...inline, ...attached]
}

/** The trust policy a service must pass to act as the role. */
function assumeRole(
  t: ResolvedTemplate,
  roleArn: string,
  service: string,
  context: Record<string, string>,
): AwsCall {
  const role = t.byArnOrRef('AWS::IAM::Role', roleArn)
  return {
    description: `${service} assumes ${role.ref}`,
    principal: service,
    action: 'sts:AssumeRole',
    resource: roleArn,
    context,
    identityPolicies: [],
    resourcePolicy: role.props.AssumeRolePolicyDocument,
  }
}

function bucketByName(t: ResolvedTemplate, name: string): ResolvedResource | undefined {
  return t.ofType('AWS::S3::Bucket').find((b) => b.ref === name)
}

function bucketPolicy(t: ResolvedTemplate, name: string): unknown {
  return t.ofType('AWS::S3::BucketPolicy').find((p) => p.props.Bucket === name)?.props.PolicyDocument
}

function keyPolicy(t: ResolvedTemplate, keyArnOrId: string): unknown {
  return t.byArnOrRef('AWS::KMS::Key', keyArnOrId).props.KeyPolicy
}

function keyArnOf(t: ResolvedTemplate, keyArnOrId: string): string {
  return t.byArnOrRef('AWS::KMS::Key', keyArnOrId).arn
}

/** The KMS key a bucket encrypts new objects with by default, if SSE-KMS. */
function bucketKey(bucket: ResolvedResource): { keyArn: string; bucketKeyEnabled: boolean } | undefined {
  const rule = (
    bucket.props.BucketEncryption as
      | {
          ServerSideEncryptionConfiguration: {
            BucketKeyEnabled?: boolean
            ServerSideEncryptionByDefault: { SSEAlgorithm: string; KMSMasterKeyID?: string }
          }[]
        }
      | undefined
  )?.ServerSideEncryptionConfiguration[0]
  const byDefault = rule?.ServerSideEncryptionByDefault
  if (byDefault?.SSEAlgorithm !== 'aws:kms' || byDefault.KMSMasterKeyID === undefined) return undefined
  return { keyArn: byDefault.KMSMasterKeyID, bucketKeyEnabled: rule?.BucketKeyEnabled === true }
}

/**
 * A synthesized template, resolved in the fake environment. Three intrinsics
 * of the large-file task, which the resolver does not know, are given first,
 * as CloudFormation documents them: `Fn::GetAZs` (its VPC spreads over the
 * region's first two AZs) as the fake region's zones, a security group's
 * `GroupId` as its `Ref` (the same id for a group in a VPC), and the `Ref` of
 * a task definition as its ARN (family and revision).
 */
export function resolvedTemplate(json: unknown, stackUuid?: string): ResolvedTemplate {
  const zones = ['a', 'b', 'c'].map((zone) => `${region}${zone}`)
  const resources = (
    json as { Resources: Record<string, { Type: string; Properties?: { Family?: string } }> }
  ).Resources
  const withZones = JSON.parse(JSON.stringify(json), (_, value: unknown) => {
    if (value === null || typeof value !== 'object') return value
    if ('Fn::GetAZs' in value) return zones
    const getAtt = (value as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt']
    if (getAtt?.[1] === 'GroupId') return { Ref: getAtt[0] }
    const ref = resources[(value as { Ref?: string }).Ref ?? '']
    if (ref?.Type === 'AWS::ECS::TaskDefinition') {
      return `arn:${partition}:ecs:${region}:${account}:task-definition/${ref.Properties?.Family}:1`
    }
    return value
  }) as ConstructorParameters<typeof ResolvedTemplate>[0]
  return stackUuid === undefined
    ? new ResolvedTemplate(withZones)
    : new ResolvedTemplate(withZones, stackUuid)
}

/** The ingest Lambda's calls: each S3 request of LAMBDA_S3_CALLS, the KMS use behind it, its logs, its role. */
export function lambdaCalls(t: ResolvedTemplate): AwsCall[] {
  const [fn, ...others] = t.ofType('AWS::Lambda::Function')
  if (fn === undefined || others.length > 0) throw new Error('expected exactly one Lambda function')
  const env = (fn.props.Environment as { Variables: Record<string, string> }).Variables
  const roleArn = fn.props.Role as string
  const identityPolicies = identityPoliciesOf(t, roleArn)
  const calls: AwsCall[] = [
    assumeRole(t, roleArn, 'lambda.amazonaws.com', { 'aws:SourceAccount': account }),
    ...objectProcessingCalls(t, 'Lambda', roleArn, env),
  ]
  const logGroupName = (fn.props.LoggingConfig as { LogGroup: string }).LogGroup
  const logGroupArn = `arn:${partition}:logs:${region}:${account}:log-group:${logGroupName}`
  // IAM authorizes CreateLogStream on the stream it creates, PutLogEvents on the stream it writes.
  calls.push(
    ...LAMBDA_LOG_ACTIONS.map((action) => ({
      description: `Lambda writes its logs: ${action}`,
      principal: roleArn,
      action,
      resource: `${logGroupArn}:log-stream:2026/11/28/[$LATEST]0123456789abcdef`,
      context: {},
      identityPolicies,
    })),
  )
  if ((fn.props.TracingConfig as { Mode?: string } | undefined)?.Mode === 'Active') {
    calls.push(...xray(roleArn, identityPolicies, 'Lambda'))
  }
  return calls
}

/**
 * The large-file task's calls: ECS assuming its two roles, the task role's S3
 * and KMS requests (the same program as the Lambda: LAMBDA_S3_CALLS, with the
 * container's environment), and the execution role's image pull and logs.
 */
export function largeFileTaskCalls(t: ResolvedTemplate): AwsCall[] {
  const calls: AwsCall[] = []
  for (const definition of t.ofType('AWS::ECS::TaskDefinition')) {
    const [container, ...sidecars] = definition.props.ContainerDefinitions as {
      Name: string
      Image: string
      Environment: { Name: string; Value: string }[]
      LogConfiguration: { LogDriver: string; Options: Record<string, string> }
    }[]
    if (container === undefined || sidecars.length > 0) throw new Error('expected one container per task')
    const env = Object.fromEntries(container.Environment.map((v) => [v.Name, v.Value]))
    const taskRole = definition.props.TaskRoleArn as string
    const executionRole = definition.props.ExecutionRoleArn as string
    const service = { 'aws:SourceAccount': account }
    calls.push(
      assumeRole(t, taskRole, 'ecs-tasks.amazonaws.com', service),
      assumeRole(t, executionRole, 'ecs-tasks.amazonaws.com', service),
      ...objectProcessingCalls(t, 'Fargate task', taskRole, env),
    )
    const execution = identityPoliciesOf(t, executionRole)
    const image = /^(\d{12})\.dkr\.ecr\.([^.]+)\.[^/]+\/([^:]+):/.exec(container.Image)
    if (image === null) throw new Error(`image ${container.Image} is not in ECR`)
    const repository = `arn:${partition}:ecr:${image[2]}:${image[1]}:repository/${image[3]}`
    calls.push({
      description: `ECS pulls the task image: ${TASK_EXECUTION_ACTIONS.ecrToken}`,
      principal: executionRole,
      action: TASK_EXECUTION_ACTIONS.ecrToken,
      resource: '*',
      context: {},
      identityPolicies: execution,
    })
    for (const action of TASK_EXECUTION_ACTIONS.ecrPull) {
      calls.push({
        description: `ECS pulls the task image: ${action} ${repository}`,
        principal: executionRole,
        action,
        resource: repository,
        context: {},
        identityPolicies: execution,
      })
    }
    if (container.LogConfiguration.LogDriver !== 'awslogs') throw new Error('only awslogs is modelled')
    const group = container.LogConfiguration.Options['awslogs-group']
    const prefix = container.LogConfiguration.Options['awslogs-stream-prefix']
    for (const action of TASK_EXECUTION_ACTIONS.logs) {
      calls.push({
        description: `ECS sends the task's output to CloudWatch Logs: ${action}`,
        principal: executionRole,
        action,
        // The awslogs driver's stream: <prefix>/<container>/<task id>.
        resource: `arn:${partition}:logs:${region}:${account}:log-group:${group}:log-stream:${prefix}/${container.Name}/0123456789abcdef0123456789abcdef`,
        context: {},
        identityPolicies: execution,
      })
    }
  }
  return calls
}

/**
 * The requests of `processObject` by one principal: each S3 request of
 * LAMBDA_S3_CALLS on the object it targets (from the runtime's environment),
 * the ListBucket behind a 404, and the KMS use S3 makes as the caller.
 */
function objectProcessingCalls(
  t: ResolvedTemplate,
  runtime: string,
  roleArn: string,
  env: Record<string, string>,
): AwsCall[] {
  const identityPolicies = identityPoliciesOf(t, roleArn)
  const incomingPrefix = env.INCOMING_PREFIX as string
  const rawBucket = ingestRuleBucket(t)
  const lookup = /^s3:\/\/([^/]+)\/(.+)$/.exec(env.LOOKUP_URI as string)
  if (lookup === null) throw new Error(`LOOKUP_URI ${env.LOOKUP_URI}`)
  const sourceKey = `${incomingPrefix}${SAMPLE_SOURCE_NAME}`
  const outputs = outputKeysFor(sourceKey, incomingPrefix, SAMPLE_LAST_MODIFIED)
  const processed = env.PROCESSED_BUCKET as string
  const targets: Record<LambdaS3Call['target'], { bucket: string; key: string }> = {
    source: { bucket: rawBucket, key: sourceKey },
    lookup: { bucket: lookup[1] as string, key: lookup[2] as string },
    manifest: { bucket: processed, key: outputs.manifest },
    parquet: { bucket: processed, key: outputs.parquet },
    rejected: { bucket: processed, key: outputs.rejected },
    report: { bucket: processed, key: outputs.report },
  }

  const calls: AwsCall[] = []
  for (const call of LAMBDA_S3_CALLS) {
    const { bucket, key } = targets[call.target]
    const bucketArn = `arn:${partition}:s3:::${bucket}`
    const resourcePolicy = bucketPolicy(t, bucket)
    const who = `${runtime} ${call.command}${call.versioned ? ' (VersionId)' : ''} on ${call.target}`
    calls.push({
      description: `${who}: ${actionFor(call)} s3://${bucket}/${key}`,
      principal: roleArn,
      action: actionFor(call),
      resource: `${bucketArn}/${key}`,
      context: { ...TLS },
      identityPolicies,
      resourcePolicy,
    })
    if (call.mayBeMissing) {
      // S3 answers 404 rather than 403 only to a caller allowed ListBucket. AWS does not document which
      // s3:prefix, if any, that check carries: both are evaluated.
      for (const prefix of [undefined, key]) {
        calls.push({
          description: `${who}, object missing: s3:ListBucket ${bucket}${prefix === undefined ? ' (no s3:prefix)' : ` (s3:prefix ${prefix})`}`,
          principal: roleArn,
          action: 's3:ListBucket',
          resource: bucketArn,
          context: { ...TLS, ...(prefix === undefined ? {} : { 's3:prefix': prefix }) },
          identityPolicies,
          resourcePolicy,
        })
      }
    }
    // Writes name OUTPUT_KMS_KEY_ARN; reads use whatever key the object was written with: the bucket default.
    const grant: S3CommandGrant = S3_COMMANDS[call.command]
    const resource = bucketByName(t, bucket)
    const encryption = resource && bucketKey(resource)
    const keyArn = grant.action === 's3:PutObject' ? env.OUTPUT_KMS_KEY_ARN : encryption?.keyArn
    if (keyArn === undefined) continue
    for (const operation of grant.kms) {
      calls.push({
        description: `${who}: S3 calls ${operation} as the ${runtime}`,
        principal: roleArn,
        action: operation,
        resource: keyArnOf(t, keyArn),
        context: {
          'kms:ViaService': `s3.${region}.amazonaws.com`,
          'kms:CallerAccount': account,
          // With S3 Bucket Keys the encryption context is the bucket's ARN, else the object's.
          'kms:EncryptionContext:aws:s3:arn': encryption?.bucketKeyEnabled
            ? bucketArn
            : `${bucketArn}/${key}`,
        },
        identityPolicies,
        resourcePolicy: keyPolicy(t, keyArn),
      })
    }
  }
  return calls
}

function xray(roleArn: string, identityPolicies: AwsCall['identityPolicies'], who: string): AwsCall[] {
  return ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'].map((action) => ({
    description: `${who} sends traces: ${action}`,
    principal: roleArn,
    action,
    resource: '*',
    context: {},
    identityPolicies,
  }))
}

/** The bucket the upload rule listens to: where sources land. */
function ingestRuleBucket(t: ResolvedTemplate): string {
  const names = t
    .ofType('AWS::Events::Rule')
    .map(
      (rule) =>
        (rule.props.EventPattern as { detail?: { bucket?: { name?: string[] } } }).detail?.bucket?.name,
    )
    .filter((name) => name !== undefined)
  if (names.length !== 1) throw new Error(`expected one S3 rule, found ${names.length}`)
  return (names[0] as string[])[0] as string
}

interface AslState {
  Type: string
  Resource?: string
  Parameters?: Record<string, unknown>
  ItemReader?: { Resource: string; Parameters: Record<string, unknown> }
  ItemProcessor?: { ProcessorConfig?: { Mode?: string }; States: Record<string, AslState> }
  Iterator?: { States: Record<string, AslState> }
  Branches?: { States: Record<string, AslState> }[]
}

function* statesOf(states: Record<string, AslState>): Generator<[string, AslState]> {
  for (const [name, state] of Object.entries(states)) {
    yield [name, state]
    if (state.ItemProcessor) yield* statesOf(state.ItemProcessor.States)
    if (state.Iterator) yield* statesOf(state.Iterator.States)
    for (const branch of state.Branches ?? []) yield* statesOf(branch.States)
  }
}

/** The resources of the current table's own tasks, whose calls deployed-calls-merge.ts derives. */
const CURRENT_TABLE_RESOURCES: ReadonlySet<string> = new Set(
  Object.values(CURRENT_TABLE_INTEGRATIONS).map((integration) => integration.resource),
)

/** A task resource with the partition written as `aws`, as the integration tables name them. */
function normalizedResource(resource: string): string {
  return resource.replace(/^arn:[^:]+:states:::/, 'arn:aws:states:::')
}

/** The calls of a `startExecution.sync:2` task on the state machine its parameters name. */
function startExecutionCalls(
  call: Omit<AwsCall, 'resource' | 'context'>,
  stateMachineArn: string,
): AwsCall[] {
  const execution = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:0123-child`
  const rule = `arn:${partition}:events:${region}:${account}:rule/${START_EXECUTION_SYNC.rule}`
  const on = (actions: readonly string[], resource: string) =>
    actions.map((action) => ({
      ...call,
      action,
      resource,
      context: {},
      description: `${call.description.replace(/: [^:]+$/, '')}: ${action} ${resource}`,
    }))
  return [
    ...on(START_EXECUTION_SYNC.onStateMachine, stateMachineArn),
    ...on(START_EXECUTION_SYNC.onExecution, execution),
    ...on(START_EXECUTION_SYNC.onRule, rule),
  ]
}

function integrationFor(resource: string): TaskIntegration {
  if (resource.startsWith(`arn:${partition}:lambda:`)) return TASK_INTEGRATIONS['arn:aws:lambda:function']
  const normalized = resource.replace(
    /^arn:[^:]+:states:::/,
    'arn:aws:states:::',
  ) as keyof typeof TASK_INTEGRATIONS
  const integration: TaskIntegration | undefined = TASK_INTEGRATIONS[normalized]
  if (integration === undefined) {
    throw new Error(
      `Task integration ${resource} is not listed in TASK_INTEGRATIONS (lambdas/ingest/src/aws-calls.ts)`,
    )
  }
  return integration
}

/** Each state machine's calls: every Task's and ItemReader's integration, with KMS for encrypted topics. */
export function stateMachineCalls(t: ResolvedTemplate): AwsCall[] {
  const calls: AwsCall[] = []
  for (const machine of t.ofType('AWS::StepFunctions::StateMachine')) {
    const roleArn = machine.props.RoleArn as string
    const identityPolicies = identityPoliciesOf(t, roleArn)
    const name = machine.arn.split(':').at(-1)
    calls.push(
      assumeRole(t, roleArn, 'states.amazonaws.com', {
        'aws:SourceArn': machine.arn,
        'aws:SourceAccount': account,
      }),
    )
    const definition = JSON.parse(machine.props.DefinitionString as string) as {
      States: Record<string, AslState>
    }
    for (const [stateName, state] of statesOf(definition.States)) {
      const uses: [string, Record<string, unknown>][] = []
      if (state.Type === 'Task' && state.Resource) uses.push([state.Resource, state.Parameters ?? {}])
      if (state.ItemReader) uses.push([state.ItemReader.Resource, state.ItemReader.Parameters])
      for (const [resource, parameters] of uses) {
        if (CURRENT_TABLE_RESOURCES.has(normalizedResource(resource))) continue
        if (normalizedResource(resource) === START_EXECUTION_SYNC.resource) {
          const target = String(parameters.StateMachineArn)
          calls.push(
            ...startExecutionCalls(
              {
                principal: roleArn,
                action: START_EXECUTION_SYNC.onStateMachine[0],
                identityPolicies,
                description: `state machine ${name}, ${stateName}: startExecution.sync:2`,
              },
              target,
            ),
          )
          continue
        }
        const integration = integrationFor(resource)
        const target = String(
          integration.resourceParameter === 'Resource' ? resource : parameters[integration.resourceParameter],
        )
        const call = {
          principal: roleArn,
          action: integration.action,
          identityPolicies,
          description: `state machine ${name}, ${stateName}: ${integration.action} ${target}`,
        }
        if (integration.action === 'sns:Publish') {
          const topic = t.byArnOrRef('AWS::SNS::Topic', target)
          calls.push({
            ...call,
            resource: topic.arn,
            context: { ...TLS },
            resourcePolicy: topicPolicy(t, topic.arn),
          })
          const key = topic.props.KmsMasterKeyId as string | undefined
          if (key !== undefined && integration.kmsViaService) {
            for (const operation of integration.kmsViaService.operations) {
              calls.push({
                ...call,
                description: `state machine ${name}, ${stateName}: SNS calls ${operation} as the state machine`,
                action: operation,
                resource: keyArnOf(t, key),
                context: {
                  'kms:ViaService': `${integration.kmsViaService.service}.${region}.amazonaws.com`,
                  'kms:CallerAccount': account,
                  'kms:EncryptionContext:aws:sns:topicArn': topic.arn,
                },
                resourcePolicy: keyPolicy(t, key),
              })
            }
          }
        } else if (integration.action === 's3:ListBucket') {
          const bucketArn = `arn:${partition}:s3:::${target}`
          calls.push({
            ...call,
            resource: bucketArn,
            context: { ...TLS, 's3:prefix': String(parameters.Prefix ?? '') },
            resourcePolicy: bucketPolicy(t, target),
          })
        } else if (integration.action === 'ecs:RunTask') {
          calls.push(...runTaskCalls(t, call, target))
        } else {
          calls.push({ ...call, resource: target, context: {} })
        }
      }
      if (state.ItemProcessor?.ProcessorConfig?.Mode === 'DISTRIBUTED') {
        for (const action of DISTRIBUTED_MAP_ACTIONS.onStateMachine) {
          calls.push({
            description: `state machine ${name}, ${stateName}: Distributed Map ${action} of its children`,
            principal: roleArn,
            action,
            resource: machine.arn,
            context: {},
            identityPolicies,
          })
        }
      }
    }
    if ((machine.props.TracingConfiguration as { Enabled?: boolean } | undefined)?.Enabled) {
      calls.push(...xray(roleArn, identityPolicies, `state machine ${name}`))
    }
  }
  return calls
}

/**
 * `ecs:runTask.sync` by a state machine: RunTask on the task definition the
 * family names (its current revision), passing the task's two roles to ECS,
 * watching and stopping the task, and the managed EventBridge rule.
 */
function runTaskCalls(
  t: ResolvedTemplate,
  call: Pick<AwsCall, 'principal' | 'identityPolicies' | 'description'>,
  family: string,
): AwsCall[] {
  const definitions = t.ofType('AWS::ECS::TaskDefinition').filter((d) => d.props.Family === family)
  const [definition] = definitions
  if (definition === undefined || definitions.length > 1)
    throw new Error(`expected one task definition of family ${family}`)
  const cluster = `${family}-cluster`
  const taskArn = `arn:${partition}:ecs:${region}:${account}:task/${cluster}/0123456789abcdef0123456789abcdef`
  const { passRoles, onTask, managedRule } = ECS_RUN_JOB_ACTIONS
  return [
    {
      ...call,
      action: 'ecs:RunTask',
      resource: `arn:${partition}:ecs:${region}:${account}:task-definition/${family}:7`,
      context: {},
    },
    ...[definition.props.TaskRoleArn, definition.props.ExecutionRoleArn].map((role) => ({
      ...call,
      description: `${call.description}: ${passRoles.action} ${String(role)}`,
      action: passRoles.action,
      resource: String(role),
      context: { 'iam:PassedToService': passRoles.toService },
    })),
    ...onTask.map((action) => ({
      ...call,
      description: `${call.description}: ${action} on the task it started`,
      action,
      resource: taskArn,
      context: {},
    })),
    ...managedRule.actions.map((action) => ({
      ...call,
      description: `${call.description}: ${action} on ${managedRule.name}`,
      action,
      resource: `arn:${partition}:events:${region}:${account}:rule/${managedRule.name}`,
      context: {},
    })),
  ]
}

function topicPolicy(t: ResolvedTemplate, topicArn: string): unknown {
  const policies = t
    .ofType('AWS::SNS::TopicPolicy')
    .filter((p) => (p.props.Topics as string[]).includes(topicArn))
  if (policies.length > 1) throw new Error(`${topicArn} has ${policies.length} topic policies`)
  return policies[0]?.props.PolicyDocument
}

function queuePolicy(t: ResolvedTemplate, queueArn: string): unknown {
  const queue = t.byArnOrRef('AWS::SQS::Queue', queueArn)
  return t.ofType('AWS::SQS::QueuePolicy').find((p) => (p.props.Queues as string[]).includes(queue.ref))
    ?.props.PolicyDocument
}

/** The rules' targets (with their roles) and dead-letter queues. */
export function ruleCalls(t: ResolvedTemplate): AwsCall[] {
  const calls: AwsCall[] = []
  for (const rule of t.ofType('AWS::Events::Rule')) {
    const service = { 'aws:SourceArn': rule.arn, 'aws:SourceAccount': account }
    for (const target of rule.props.Targets as {
      Arn: string
      RoleArn?: string
      DeadLetterConfig?: { Arn: string }
    }[]) {
      if (!target.Arn.startsWith(`arn:${partition}:states:`))
        throw new Error(`rule target ${target.Arn} not modelled`)
      if (target.RoleArn === undefined) throw new Error(`rule target ${target.Arn} has no role`)
      calls.push(assumeRole(t, target.RoleArn, 'events.amazonaws.com', service), {
        description: `rule ${rule.ref} starts ${target.Arn}`,
        principal: target.RoleArn,
        action: 'states:StartExecution',
        resource: target.Arn,
        context: {},
        identityPolicies: identityPoliciesOf(t, target.RoleArn),
      })
      if (target.DeadLetterConfig) {
        const queue = t.byArnOrRef('AWS::SQS::Queue', target.DeadLetterConfig.Arn)
        if (queue.props.KmsMasterKeyId !== undefined)
          throw new Error('a KMS-encrypted dead-letter queue is not modelled')
        calls.push({
          description: `events.amazonaws.com sends an undeliverable event of ${rule.ref} to its dead-letter queue`,
          principal: 'events.amazonaws.com',
          action: 'sqs:SendMessage',
          resource: queue.arn,
          context: { ...TLS, ...service },
          identityPolicies: [],
          resourcePolicy: queuePolicy(t, queue.arn),
        })
      }
    }
  }
  return calls
}

/** Each alarm's actions: cloudwatch.amazonaws.com publishing to the topic, with the topic's key. */
export function alarmCalls(t: ResolvedTemplate): AwsCall[] {
  const calls: AwsCall[] = []
  for (const alarm of t.ofType('AWS::CloudWatch::Alarm')) {
    const service = { 'aws:SourceArn': alarm.arn, 'aws:SourceAccount': account }
    const actions = [
      ...((alarm.props.AlarmActions as string[]) ?? []),
      ...((alarm.props.OKActions as string[]) ?? []),
      ...((alarm.props.InsufficientDataActions as string[]) ?? []),
    ]
    for (const topicArn of new Set(actions)) {
      const topic = t.byArnOrRef('AWS::SNS::Topic', topicArn)
      calls.push({
        description: `alarm ${alarm.ref} publishes to ${topic.arn}`,
        principal: 'cloudwatch.amazonaws.com',
        action: 'sns:Publish',
        resource: topic.arn,
        context: { ...TLS, ...service },
        identityPolicies: [],
        resourcePolicy: topicPolicy(t, topic.arn),
      })
      const key = topic.props.KmsMasterKeyId as string | undefined
      if (key === undefined) continue
      calls.push(
        ...serviceKeyCalls(t, key, 'cloudwatch.amazonaws.com', SERVICE_KEY_USE.alarms, {
          description: `alarm ${alarm.ref}: cloudwatch.amazonaws.com {operation} on the topic's key`,
          context: { ...service, 'kms:EncryptionContext:aws:sns:topicArn': topic.arn },
        }),
      )
    }
  }
  return calls
}

/**
 * A service principal using a key, one call per operation, under the key's
 * own policy (a service has no identity policy); `{operation}` in the
 * description names each.
 */
function serviceKeyCalls(
  t: ResolvedTemplate,
  key: string,
  principal: string,
  operations: readonly string[],
  call: { description: string; context: Record<string, string> },
): AwsCall[] {
  return operations.map((operation) => ({
    description: call.description.replace('{operation}', operation),
    principal,
    action: operation,
    resource: keyArnOf(t, key),
    context: call.context,
    identityPolicies: [],
    resourcePolicy: keyPolicy(t, key),
  }))
}

/** CloudWatch Logs using each encrypted log group's key. */
export function logGroupKeyCalls(t: ResolvedTemplate): AwsCall[] {
  const calls: AwsCall[] = []
  for (const group of t.ofType('AWS::Logs::LogGroup')) {
    const key = group.props.KmsKeyId as string | undefined
    if (key === undefined) continue
    const groupArn = group.arn.replace(/:\*$/, '')
    calls.push(
      ...serviceKeyCalls(t, key, `logs.${region}.amazonaws.com`, SERVICE_KEY_USE.logs, {
        description: `logs.${region}.amazonaws.com {operation} for ${group.ref}`,
        context: { 'kms:EncryptionContext:aws:logs:arn': groupArn },
      }),
    )
  }
  return calls
}

/** S3 delivering server access logs of each logged bucket. */
export function accessLogCalls(t: ResolvedTemplate): AwsCall[] {
  const calls: AwsCall[] = []
  for (const bucket of t.ofType('AWS::S3::Bucket')) {
    const logging = bucket.props.LoggingConfiguration as
      | { DestinationBucketName: string; LogFilePrefix?: string }
      | undefined
    if (logging === undefined) continue
    const destination = logging.DestinationBucketName
    const target = bucketByName(t, destination)
    if (target && bucketKey(target)) throw new Error('access logs into an SSE-KMS bucket are not delivered')
    calls.push({
      description: `logging.s3.amazonaws.com delivers access logs of ${bucket.ref}`,
      principal: 'logging.s3.amazonaws.com',
      action: 's3:PutObject',
      resource: `arn:${partition}:s3:::${destination}/${logging.LogFilePrefix ?? ''}2026-11-28-10-00-00-0123456789ABCDEF`,
      context: { ...TLS, 'aws:SourceArn': bucket.arn, 'aws:SourceAccount': account },
      identityPolicies: [],
      resourcePolicy: bucketPolicy(t, destination),
    })
  }
  return calls
}

/** Every call the deployed system makes. */
export function deployedCalls(t: ResolvedTemplate): AwsCall[] {
  return [
    ...lambdaCalls(t),
    ...largeFileTaskCalls(t),
    ...stateMachineCalls(t),
    ...ruleCalls(t),
    ...alarmCalls(t),
    ...logGroupKeyCalls(t),
    ...accessLogCalls(t),
    ...currentTableWriterCalls(t),
    ...scheduleCalls(t),
  ]
}

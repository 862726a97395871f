/**
 * The AWS calls the current table's writers make, derived from the resolved
 * template: every state machine with Athena tasks (the ingest machine's merge
 * step, maintenance, rebuild) makes its task calls (Athena, the DynamoDB
 * lock, DescribeExecution of the lock's holder), and, for each statement, the
 * calls Athena makes with the caller's credentials: Glue catalog reads and the
 * Iceberg commit, S3 reads and writes under the prefixes the statement
 * touches, and the KMS use behind them (S3 Bucket Keys: the encryption
 * context is the bucket). The scheduler starting maintenance is included.
 * The calls of the per-file pipeline are deployed-calls.ts.
 */
import { CURRENT_TABLE_INTEGRATIONS } from '../../infra/src/current-table-states.js'
import { PROCESSED_PREFIXES } from '../../lambdas/ingest/src/output-keys.js'
import { identityPoliciesOf, SAMPLE_SOURCE_NAME } from './deployed-calls.js'
import type { AwsCall } from './policy-simulation.js'
import { FAKE_ENV, type ResolvedResource, type ResolvedTemplate } from './resolve-template.js'

const { account, region, partition } = FAKE_ENV
const TLS = { 'aws:SecureTransport': 'true' }

/** Sample objects the statements touch. */
// A function, not a constant: deployed-calls.ts imports this module, and this one reads its SAMPLE_SOURCE_NAME.
const runParquet = () =>
  `${PROCESSED_PREFIXES.listings}dt=2026-11-28/${SAMPLE_SOURCE_NAME.replaceAll('/', '%2F').replace(/\.csv$/, '')}.parquet`
const TABLE_DATA = `${PROCESSED_PREFIXES.currentTable}data/date_month=2026-11/00000-0-abc.parquet`
const TABLE_METADATA = `${PROCESSED_PREFIXES.currentTable}metadata/00001-abc.metadata.json`
const MANIFEST = `${PROCESSED_PREFIXES.manifests}2024%2Fshop listings.json`
const RESULT = `${PROCESSED_PREFIXES.athenaResults}0123-4567.csv`

interface Task {
  Type: string
  Resource?: string
  Parameters?: Record<string, unknown>
}

/** What a statement reads and writes, by its first word. */
function statementAccess(query: string): {
  reads: string[]
  writes: string[]
  deletes: string[]
  tables: string[]
} {
  const verb = query.trimStart().split(/\s+/)[0]?.toUpperCase()
  const table = [TABLE_DATA, TABLE_METADATA]
  switch (verb) {
    case 'MERGE':
      return { reads: [runParquet(), ...table], writes: table, deletes: [], tables: ['listings'] }
    case 'INSERT':
      return {
        reads: [runParquet(), MANIFEST, ...table],
        writes: table,
        deletes: [],
        tables: ['listings', 'listing_manifests'],
      }
    case 'DELETE':
    case 'OPTIMIZE':
      return { reads: table, writes: table, deletes: [], tables: [] }
    case 'VACUUM':
      return { reads: table, writes: table, deletes: [TABLE_DATA], tables: [] }
    default:
      throw new Error(`statement not modelled: ${query.slice(0, 40)}`)
  }
}

function prefixOf(key: string): string {
  return key.slice(0, key.lastIndexOf('/') + 1)
}

/** The processed bucket: where the Iceberg table lives. */
function processedBucket(t: ResolvedTemplate): ResolvedResource {
  const table = t
    .ofType('AWS::Glue::Table')
    .find((g) => (g.props.OpenTableFormatInput as object | undefined) !== undefined)
  const location = (
    table?.props.OpenTableFormatInput as
      | { IcebergInput: { IcebergTableInput: { Location: string } } }
      | undefined
  )?.IcebergInput.IcebergTableInput.Location
  const name = /^s3:\/\/([^/]+)\//.exec(location ?? '')?.[1]
  const bucket = t.ofType('AWS::S3::Bucket').find((b) => b.ref === name)
  if (bucket === undefined) throw new Error('no Iceberg table in the processed bucket')
  return bucket
}

function keyOf(t: ResolvedTemplate, bucket: ResolvedResource): ResolvedResource {
  const id = (
    bucket.props.BucketEncryption as {
      ServerSideEncryptionConfiguration: { ServerSideEncryptionByDefault: { KMSMasterKeyID: string } }[]
    }
  ).ServerSideEncryptionConfiguration[0]?.ServerSideEncryptionByDefault.KMSMasterKeyID
  return t.byArnOrRef('AWS::KMS::Key', String(id))
}

/** Each current-table writer's calls: tasks, and what Athena does on its behalf for each statement. */
export function currentTableWriterCalls(t: ResolvedTemplate): AwsCall[] {
  const calls: AwsCall[] = []
  const bucket = processedBucket(t)
  const key = keyOf(t, bucket)
  const bucketPolicy = t.ofType('AWS::S3::BucketPolicy').find((p) => p.props.Bucket === bucket.ref)
    ?.props.PolicyDocument
  const machines = t.ofType('AWS::StepFunctions::StateMachine')
  for (const machine of machines) {
    const definition = JSON.parse(machine.props.DefinitionString as string) as {
      States: Record<string, Task>
    }
    const tasks = Object.entries(definition.States).filter(([, s]) => s.Type === 'Task')
    const queries = tasks.filter(([, s]) => s.Resource?.endsWith(':states:::athena:startQueryExecution.sync'))
    if (queries.length === 0) continue
    const roleArn = machine.props.RoleArn as string
    const identityPolicies = identityPoliciesOf(t, roleArn)
    const name = machine.arn.split(':').at(-1)
    const call = (
      description: string,
      action: string,
      resource: string,
      context: Record<string, string> = {},
      resourcePolicy?: unknown,
    ): AwsCall => ({
      description: `state machine ${name}, ${description}: ${action} ${resource}`,
      principal: roleArn,
      action,
      resource,
      context,
      identityPolicies,
      ...(resourcePolicy === undefined ? {} : { resourcePolicy }),
    })
    for (const [state, task] of tasks) {
      const resource = task.Resource ?? ''
      if (
        resource.endsWith(':states:::dynamodb:updateItem') ||
        resource.endsWith(':states:::dynamodb:getItem')
      ) {
        const integration = resource.endsWith('updateItem')
          ? CURRENT_TABLE_INTEGRATIONS.lockUpdate
          : CURRENT_TABLE_INTEGRATIONS.lockRead
        const table = `arn:${partition}:dynamodb:${region}:${account}:table/${String(task.Parameters?.TableName)}`
        for (const action of integration.actions) calls.push(call(state, action, table))
      } else if (resource.endsWith(':states:::aws-sdk:sfn:describeExecution')) {
        // The holder may be any of the stack's machines: every one is checked.
        for (const holder of machines) {
          const execution = `${holder.arn.replace(':stateMachine:', ':execution:')}:0123-holder`
          for (const action of CURRENT_TABLE_INTEGRATIONS.describeHolder.actions)
            calls.push(call(state, action, execution))
        }
      }
    }
    for (const [state, task] of queries) {
      const parameters = task.Parameters as {
        QueryString?: string
        'QueryString.$'?: string
        WorkGroup: string
        QueryExecutionContext: { Database: string }
      }
      const workGroup = `arn:${partition}:athena:${region}:${account}:workgroup/${parameters.WorkGroup}`
      for (const action of [...CURRENT_TABLE_INTEGRATIONS.athenaSync.actions, 'athena:GetWorkGroup'])
        calls.push(call(state, action, workGroup))
      const database = parameters.QueryExecutionContext.Database
      const glue = (kind: string, rest = '') => `arn:${partition}:glue:${region}:${account}:${kind}${rest}`
      // A statement with run values is a States.Format intrinsic around it.
      const query =
        parameters.QueryString ?? String(parameters['QueryString.$']).replace(/^States\.Format\('/, '')
      const access = statementAccess(query)
      for (const resource of [glue('catalog'), glue('database', `/${database}`)])
        calls.push(call(state, 'glue:GetDatabase', resource))
      for (const table of ['listings_current', ...access.tables]) {
        for (const resource of [
          glue('catalog'),
          glue('database', `/${database}`),
          glue('table', `/${database}/${table}`),
        ])
          calls.push(call(state, 'glue:GetTable', resource))
      }
      for (const resource of [
        glue('catalog'),
        glue('database', `/${database}`),
        glue('table', `/${database}/listings_current`),
      ])
        calls.push(call(state, 'glue:UpdateTable', resource))
      const object = (k: string) => `${bucket.arn}/${k}`
      calls.push(call(state, 's3:GetBucketLocation', bucket.arn, TLS, bucketPolicy))
      for (const k of [...access.reads, RESULT]) {
        calls.push(
          call(state, 's3:ListBucket', bucket.arn, { ...TLS, 's3:prefix': prefixOf(k) }, bucketPolicy),
        )
        calls.push(call(state, 's3:GetObject', object(k), TLS, bucketPolicy))
      }
      for (const k of [...access.writes, RESULT]) {
        for (const action of ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'])
          calls.push(call(state, action, object(k), TLS, bucketPolicy))
      }
      for (const k of access.deletes) calls.push(call(state, 's3:DeleteObject', object(k), TLS, bucketPolicy))
      for (const operation of ['kms:GenerateDataKey', 'kms:Decrypt']) {
        calls.push(
          call(
            `${state} (S3 on its behalf)`,
            operation,
            key.arn,
            {
              'kms:ViaService': `s3.${region}.amazonaws.com`,
              'kms:CallerAccount': account,
              'kms:EncryptionContext:aws:s3:arn': bucket.arn,
            },
            key.props.KeyPolicy,
          ),
        )
      }
    }
  }
  return calls
}

/** EventBridge Scheduler starting each scheduled target, with the schedule's role. */
export function scheduleCalls(t: ResolvedTemplate): AwsCall[] {
  const calls: AwsCall[] = []
  for (const schedule of t.ofType('AWS::Scheduler::Schedule')) {
    const target = schedule.props.Target as { Arn: string; RoleArn: string }
    const role = t.byArnOrRef('AWS::IAM::Role', target.RoleArn)
    calls.push(
      {
        description: `scheduler.amazonaws.com assumes ${role.ref} for ${String(schedule.props.Name)}`,
        principal: 'scheduler.amazonaws.com',
        action: 'sts:AssumeRole',
        resource: target.RoleArn,
        context: {
          'aws:SourceAccount': account,
          'aws:SourceArn': `arn:${partition}:scheduler:${region}:${account}:schedule/default/${String(schedule.props.Name)}`,
        },
        identityPolicies: [],
        resourcePolicy: role.props.AssumeRolePolicyDocument,
      },
      {
        description: `schedule ${String(schedule.props.Name)} starts ${target.Arn}`,
        principal: target.RoleArn,
        action: 'states:StartExecution',
        resource: target.Arn,
        context: {},
        identityPolicies: identityPoliciesOf(t, target.RoleArn),
      },
    )
  }
  return calls
}

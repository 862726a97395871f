/**
 * Evaluates every call the current table's writers make (the ingest machine's
 * merge step, maintenance, rebuild, the maintenance schedule) against the
 * synthesized IAM, key and bucket policies with @cloud-copilot/iam-simulate
 * (see policy-simulation.ts), in the test stack that wires the table as the
 * ingest stack is to; and calls the policies must refuse.
 */
import { describe, expect, it } from 'vitest'
import { PROCESSED_PREFIXES } from '../../lambdas/ingest/src/output-keys.js'
import { currentTableStack } from './current-table-stack.js'
import { identityPoliciesOf } from './deployed-calls.js'
import { currentTableWriterCalls, scheduleCalls } from './deployed-calls-merge.js'
import { type AwsCall, evaluate, refusedCalls } from './policy-simulation.js'
import { FAKE_ENV, ResolvedTemplate } from './resolve-template.js'

const t = new ResolvedTemplate(
  currentTableStack().template.toJSON() as ConstructorParameters<typeof ResolvedTemplate>[0],
)
const calls = [...currentTableWriterCalls(t), ...scheduleCalls(t)]

const machines = t.ofType('AWS::StepFunctions::StateMachine')
const ingest = machines.find((m) => m.arn.endsWith(':listings-ingest-ingest'))
if (ingest === undefined) throw new Error('no ingest machine')
const ingestRole = ingest.props.RoleArn as string
const [bucket] = t.ofType('AWS::S3::Bucket').filter((b) => b.logicalId.startsWith('StorageProcessed'))
const [foundKey] = t.ofType('AWS::KMS::Key')
if (bucket === undefined || foundKey === undefined) throw new Error('no processed bucket or key')
const key = foundKey
const bucketPolicy = t.ofType('AWS::S3::BucketPolicy').find((p) => p.props.Bucket === bucket.ref)
  ?.props.PolicyDocument

function asMerge(action: string, resource: string, context: Record<string, string> = {}): AwsCall {
  return {
    description: `merge role ${action} ${resource}`,
    principal: ingestRole,
    action,
    resource,
    context: { 'aws:SecureTransport': 'true', ...context },
    identityPolicies: identityPoliciesOf(t, ingestRole),
    ...(action.startsWith('s3:') ? { resourcePolicy: bucketPolicy } : {}),
    ...(action.startsWith('kms:') ? { resourcePolicy: key.props.KeyPolicy } : {}),
  }
}

describe("every call of the current table's writers", () => {
  it(`is allowed by the synthesized policies (${calls.length} calls)`, async () => {
    expect(await refusedCalls(calls)).toEqual([])
  }, 60_000)

  it('covers Athena, Glue, S3, KMS, the lock and the lock holder for each writer, and the schedule', () => {
    const services = (machine: string) =>
      new Set(
        calls
          .filter((c) => c.description.startsWith(`state machine ${machine},`))
          .map((c) => c.action.split(':')[0]),
      )
    for (const machine of [
      'listings-ingest-ingest',
      'listings-ingest-current-table-maintenance',
      'listings-ingest-current-table-rebuild',
    ]) {
      expect([...services(machine)].sort()).toEqual(['athena', 'dynamodb', 'glue', 'kms', 's3', 'states'])
    }
    expect(calls.map((c) => c.action)).toEqual(
      expect.arrayContaining(['glue:UpdateTable', 's3:DeleteObject', 'sts:AssumeRole']),
    )
    expect(calls.filter((c) => c.principal === 'scheduler.amazonaws.com')).toHaveLength(1)
  })
})

describe('calls the policies refuse', () => {
  const object = (k: string) => `${bucket.arn}/${k}`
  const denied: [string, AwsCall][] = [
    [
      'overwriting a per-file Parquet',
      asMerge('s3:PutObject', object(`${PROCESSED_PREFIXES.listings}dt=2026-11-28/x.parquet`)),
    ],
    [
      'deleting a per-file Parquet',
      asMerge('s3:DeleteObject', object(`${PROCESSED_PREFIXES.listings}dt=2026-11-28/x.parquet`)),
    ],
    [
      'reading the rejected rows',
      asMerge('s3:GetObject', object(`${PROCESSED_PREFIXES.rejected}dt=2026-11-28/x.csv`)),
    ],
    [
      'listing the rejected rows',
      asMerge('s3:ListBucket', bucket.arn, { 's3:prefix': PROCESSED_PREFIXES.rejected }),
    ],
    [
      'changing the per-file table in the catalog',
      asMerge(
        'glue:UpdateTable',
        `arn:aws:glue:${FAKE_ENV.region}:${FAKE_ENV.account}:table/listings_ingest/listings`,
      ),
    ],
    [
      'deleting the current table',
      asMerge(
        'glue:DeleteTable',
        `arn:aws:glue:${FAKE_ENV.region}:${FAKE_ENV.account}:table/listings_ingest/listings_current`,
      ),
    ],
    [
      'running queries in another workgroup',
      asMerge(
        'athena:StartQueryExecution',
        `arn:aws:athena:${FAKE_ENV.region}:${FAKE_ENV.account}:workgroup/primary`,
      ),
    ],
    [
      'using the data key directly, not through S3',
      asMerge('kms:Decrypt', key.arn, { 'kms:CallerAccount': FAKE_ENV.account }),
    ],
    [
      'reading over plain HTTP',
      asMerge('s3:GetObject', object(`${PROCESSED_PREFIXES.currentTable}data/x.parquet`), {
        'aws:SecureTransport': 'false',
      }),
    ],
    [
      'describing an execution of a machine outside the stack',
      asMerge(
        'states:DescribeExecution',
        `arn:aws:states:${FAKE_ENV.region}:${FAKE_ENV.account}:execution:someone-else:run`,
      ),
    ],
  ]
  it.each(denied)('%s', async (_name, call) => {
    expect((await evaluate(call)).decision).not.toBe('Allowed')
  })
})

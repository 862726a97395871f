/**
 * What the current table's writers may do: the IAM statements each state
 * machine that writes the table needs (Athena, Glue, S3, KMS through S3, the
 * writer lock, the lock holder's status), narrowed by writer, and the
 * cdk-nag acknowledgements of their wildcards.
 */
import { ArnFormat, Aws, Stack } from 'aws-cdk-lib'
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb'
import * as iam from 'aws-cdk-lib/aws-iam'
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions'
import type { IConstruct } from 'constructs'
import { PROCESSED_PREFIXES } from '../../lambdas/ingest/src/output-keys.js'
import { CURRENT_TABLE_NAME } from '../../shared/src/current-table-sql.js'
import type { Analytics } from './analytics.js'
import { CURRENT_TABLE_INTEGRATIONS } from './current-table-states.js'
import { acknowledge, acknowledgeXRay, arnReference } from './nag.js'
import type { Storage } from './storage.js'

/** What a machine that writes the table runs: the ingest's merge step, maintenance, or the rebuild. */
export type CurrentTableWriter = 'merge' | 'maintenance' | 'rebuild'

/** The resources {@link grantCurrentTableWrite} names. */
export interface CurrentTableResources {
  readonly storage: Storage
  readonly analytics: Analytics
  /** The writer lock's table. */
  readonly lock: dynamodb.ITable
  /** The stack's name prefix: the lock holder is one of its executions. */
  readonly namePrefix: string
}

/**
 * Lets a state machine (its role) run the table's statements: Athena, Glue,
 * S3, KMS through S3, the lock. Only maintenance may delete files (VACUUM),
 * only the rebuild reads the manifests.
 *
 * @param machine - the state machine whose role gets the grants
 * @param writer - what the machine runs: the merge step, maintenance or the rebuild
 * @param table - what the grants name
 */
export function grantCurrentTableWrite(
  machine: sfn.StateMachine,
  writer: CurrentTableWriter,
  table: CurrentTableResources,
): void {
  const { storage, analytics, lock, namePrefix } = table
  const stack = Stack.of(machine)
  const bucket = storage.processed.bucketArn
  const catalog = stack.formatArn({ service: 'glue', resource: 'catalog' })
  const database = stack.formatArn({
    service: 'glue',
    resource: 'database',
    resourceName: analytics.databaseName,
  })
  const tableArn = (name: string) =>
    stack.formatArn({
      service: 'glue',
      resource: 'table',
      resourceName: `${analytics.databaseName}/${name}`,
    })
  const statements = [
    new iam.PolicyStatement({
      sid: 'RunCurrentTableQueries',
      actions: [...CURRENT_TABLE_INTEGRATIONS.athenaSync.actions, 'athena:GetWorkGroup'],
      resources: [analytics.workGroupArn],
    }),
    new iam.PolicyStatement({
      sid: 'ReadCatalog',
      actions: ['glue:GetDatabase', 'glue:GetTable'],
      resources: [
        catalog,
        database,
        tableArn(analytics.tableName),
        ...(writer === 'rebuild' ? [tableArn(analytics.manifestsTableName)] : []),
        tableArn(CURRENT_TABLE_NAME),
      ],
    }),
    new iam.PolicyStatement({
      // An Iceberg commit swaps the table's metadata location in the catalog.
      sid: 'CommitCurrentTable',
      actions: ['glue:UpdateTable'],
      resources: [catalog, database, tableArn(CURRENT_TABLE_NAME)],
    }),
    new iam.PolicyStatement({
      sid: 'ListQueriedPrefixes',
      actions: ['s3:ListBucket'],
      resources: [bucket],
      conditions: {
        StringLike: {
          's3:prefix': [
            `${PROCESSED_PREFIXES.listings}*`,
            ...(writer === 'rebuild' ? [`${PROCESSED_PREFIXES.manifests}*`] : []),
            `${PROCESSED_PREFIXES.currentTable}*`,
            `${PROCESSED_PREFIXES.athenaResults}*`,
          ],
        },
      },
    }),
    new iam.PolicyStatement({
      sid: 'LocateBucket',
      actions: ['s3:GetBucketLocation'],
      resources: [bucket],
    }),
    new iam.PolicyStatement({
      sid: 'ReadSources',
      actions: ['s3:GetObject'],
      resources: [`${bucket}/${PROCESSED_PREFIXES.listings}*`, `${bucket}/${PROCESSED_PREFIXES.manifests}*`],
    }),
    new iam.PolicyStatement({
      sid: 'WriteCurrentTableAndResults',
      actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      resources: [
        `${bucket}/${PROCESSED_PREFIXES.currentTable}*`,
        `${bucket}/${PROCESSED_PREFIXES.athenaResults}*`,
      ],
    }),
    ...(writer === 'maintenance'
      ? [
          new iam.PolicyStatement({
            // VACUUM removes the files of expired snapshots and orphans; MERGE, OPTIMIZE and
            // a whole-table DELETE only add files (and metadata).
            sid: 'VacuumCurrentTable',
            actions: ['s3:DeleteObject'],
            resources: [`${bucket}/${PROCESSED_PREFIXES.currentTable}*`],
          }),
        ]
      : []),
    new iam.PolicyStatement({
      sid: 'DataKeyThroughS3',
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [storage.key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${Aws.REGION}.amazonaws.com` } },
    }),
    new iam.PolicyStatement({
      sid: 'TakeWriterLock',
      actions: [
        ...CURRENT_TABLE_INTEGRATIONS.lockUpdate.actions,
        ...CURRENT_TABLE_INTEGRATIONS.lockRead.actions,
      ],
      // By name (Ref), which is the same ARN as the table's GetAtt Arn.
      resources: [stack.formatArn({ service: 'dynamodb', resource: 'table', resourceName: lock.tableName })],
    }),
    new iam.PolicyStatement({
      // The lock may be held by any of this stack's machines: ingest, maintenance, rebuild.
      sid: 'CheckLockHolder',
      actions: [...CURRENT_TABLE_INTEGRATIONS.describeHolder.actions],
      resources: [
        stack.formatArn({
          service: 'states',
          resource: 'execution',
          resourceName: `${namePrefix}-*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
    }),
  ]
  for (const statement of statements) machine.addToRolePolicy(statement)
  const policy = machine.role.node.tryFindChild('DefaultPolicy')
  if (policy !== undefined) acknowledgeWrite(policy, storage, namePrefix)
}

/** The cdk-nag findings of {@link grantCurrentTableWrite}'s wildcards, each with why. */
function acknowledgeWrite(policy: IConstruct, storage: Storage, namePrefix: string): void {
  acknowledgeXRay(policy)
  const bucket = arnReference(storage.processed)
  const reasons: [string, string][] = [
    [
      PROCESSED_PREFIXES.listings,
      'Athena reads the run Parquet named at run time (output keys derive from source keys).',
    ],
    [PROCESSED_PREFIXES.manifests, 'The rebuild reads every manifest, one per source key.'],
    [
      PROCESSED_PREFIXES.currentTable,
      'Iceberg names its data, delete and metadata files at commit time, under the table location.',
    ],
    [PROCESSED_PREFIXES.athenaResults, 'Athena writes each query result under a name it generates.'],
  ]
  for (const [prefix, reason] of reasons) acknowledge(policy, `IAM5[Resource::${bucket}/${prefix}*]`, reason)
  acknowledge(
    policy,
    `IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${namePrefix}-*]`,
    "The lock's holder may be any execution of this stack's state machines, named at run time.",
  )
}

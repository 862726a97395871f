import { ArnFormat, Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib'
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb'
import * as glue from 'aws-cdk-lib/aws-glue'
import * as iam from 'aws-cdk-lib/aws-iam'
import * as logs from 'aws-cdk-lib/aws-logs'
import * as scheduler from 'aws-cdk-lib/aws-scheduler'
import * as sfn from 'aws-cdk-lib/aws-stepfunctions'
import { Construct, type Node } from 'constructs'
import {
  athenaDialect,
  CURRENT_TABLE_COLUMNS,
  CURRENT_TABLE_NAME,
  MAINTENANCE_STATEMENTS,
  MERGE_KEY,
  mergeStatement,
  PARTITION,
  rebuildStatements,
  type SqlDialect,
  STATES_FORMAT_SLOT,
} from '../../shared/src/current-table-sql.js'
import type { Analytics } from './analytics.js'
import type { PipelineConfig } from './config.js'
import { acknowledge, acknowledgeXRay, arnReference } from './nag.js'
import { PROCESSED_PREFIXES, type Storage } from './storage.js'

/**
 * The Step Functions integrations the current table's states use, with the
 * IAM action each needs and the parameter naming its resource: the home of
 * these facts for the policy tests (test/infra/deployed-calls-merge.ts).
 */
export const CURRENT_TABLE_INTEGRATIONS = {
  athenaSync: {
    resource: 'arn:aws:states:::athena:startQueryExecution.sync',
    // .sync starts the query, then polls it (and stops it if the state is stopped).
    actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:StopQueryExecution'],
    resourceParameter: 'WorkGroup',
  },
  lockUpdate: {
    resource: 'arn:aws:states:::dynamodb:updateItem',
    actions: ['dynamodb:UpdateItem'],
    resourceParameter: 'TableName',
  },
  lockRead: {
    resource: 'arn:aws:states:::dynamodb:getItem',
    actions: ['dynamodb:GetItem'],
    resourceParameter: 'TableName',
  },
  describeHolder: {
    resource: 'arn:aws:states:::aws-sdk:sfn:describeExecution',
    actions: ['states:DescribeExecution'],
    resourceParameter: 'ExecutionArn',
  },
} as const

/**
 * How a failed Athena query is recognised as an Iceberg commit conflict: the
 * error code Athena puts in the query's status, which Step Functions passes in
 * the failed task's `Cause` (the query execution as JSON), whatever the error
 * name. Matched as a `StringMatches` pattern on the Cause.
 */
export const ICEBERG_COMMIT_CONFLICT = 'ICEBERG_COMMIT_ERROR'

/** Retrying a commit conflict: full jitter, the ceiling doubling from `firstCeilingSeconds`. */
export const COMMIT_CONFLICT_RETRY = { maxRetries: 5, firstCeilingSeconds: 4 } as const

/** Waiting for the lock: a random wait up to this many seconds, then try again. */
export const LOCK_WAIT_SECONDS = { min: 5, max: 30 } as const

/** Athena API throttling and server errors, retried by the task's own retrier. */
export const ATHENA_API_RETRY = {
  errors: ['Athena.TooManyRequestsException', 'Athena.InternalServerException'],
  intervalSeconds: 2,
  maxRetries: 5,
  backoffRate: 2,
  maxDelaySeconds: 30,
} as const

/** The error an execution fails with when the table could not be written. */
export const CURRENT_TABLE_ERROR = 'CurrentTableWriteFailed'

/** The error the merge step fails with when its input lacks what the source order needs. */
export const CURRENT_TABLE_INPUT_ERROR = 'CurrentTableInputIncomplete'

/** Where the Iceberg table keeps its data and metadata in the processed bucket. */
export const CURRENT_TABLE_PREFIX = PROCESSED_PREFIXES.currentTable

/** Settings of the current table, from CDK context, validated. */
export interface CurrentTableConfig {
  /** When maintenance (OPTIMIZE, VACUUM) runs: an EventBridge Scheduler expression. @default 'cron(0 3 ? * SUN *)' */
  maintenanceSchedule: string
  /** Athena's per-query scan limit in GiB (the workgroup's cutoff). @default 10 */
  bytesScannedCutoffGiB: number
}

/**
 * Reads {@link CurrentTableConfig} from context (`-c maintenanceSchedule=...`,
 * `-c athenaBytesScannedCutoffGiB=...`).
 *
 * @throws {Error} naming the malformed context key
 */
export function readCurrentTableConfig(node: Node): CurrentTableConfig {
  const schedule = node.tryGetContext('maintenanceSchedule') as unknown
  const maintenanceSchedule = schedule === undefined ? 'cron(0 3 ? * SUN *)' : String(schedule)
  if (!/^(cron|rate)\(.+\)$/.test(maintenanceSchedule)) {
    throw new Error(
      `context maintenanceSchedule must be cron(...) or rate(...), got ${JSON.stringify(schedule)}`,
    )
  }
  const cutoff = node.tryGetContext('athenaBytesScannedCutoffGiB') as unknown
  const bytesScannedCutoffGiB = cutoff === undefined ? 10 : Number(cutoff)
  // Athena's minimum cutoff is 10 MB; a whole number of GiB from 1 keeps it simple to read.
  if (!Number.isInteger(bytesScannedCutoffGiB) || bytesScannedCutoffGiB < 1 || bytesScannedCutoffGiB > 1024) {
    throw new Error(
      `context athenaBytesScannedCutoffGiB must be a whole number from 1 to 1024, got ${JSON.stringify(cutoff)}`,
    )
  }
  return { maintenanceSchedule, bytesScannedCutoffGiB }
}

/** What the ingest state machine hands the merge: its Lambda's summary, at `$`. */
export const MERGE_INPUT = {
  /** The source key, ETag and Last-Modified (ISO-8601) of the version that was processed. */
  sourceKey: '$.source.key',
  sourceEtag: '$.source.etag',
  sourceLastModified: '$.source.last_modified',
  /** Where its Parquet was published. */
  parquetBucket: '$.outputs.bucket',
  parquetKey: '$.outputs.parquet',
  /** The S3 event's sequencer, when the execution was started by one (read through `$.currentTable.execution`). */
  sequencer: '$.detail.object.sequencer',
} as const

interface CurrentTableProps {
  config: PipelineConfig
  storage: Storage
  analytics: Analytics
}

/**
 * One current table across all files: the Iceberg table `listings_current`
 * in the Glue catalog (data in the processed bucket under the stack's key, by
 * the bucket's default encryption), kept by Athena MERGE after every ingest,
 * compacted and vacuumed on a schedule, and rebuilt on demand.
 *
 * Writers are serialized by a lock (one DynamoDB item naming the execution
 * that holds it): the ingest's merge step, maintenance and the rebuild each
 * take it before writing and release it after, failed or not. A holder that
 * is no longer running (stopped, timed out) is taken over, so a lost release
 * never blocks the table. Iceberg commit conflicts with any other writer
 * (an analyst's statement) are retried with full jitter.
 *
 * To wire: build the ingest state machine's definition with
 * {@link CurrentTable.mergeStep} after a successful ingest, and call
 * `grantWrite(machine, 'merge')` on it.
 */
export class CurrentTable extends Construct {
  readonly tableName = CURRENT_TABLE_NAME
  readonly lock: dynamodb.Table
  readonly maintenance: sfn.StateMachine
  readonly rebuild: sfn.StateMachine
  readonly table: glue.CfnTable
  private readonly props: CurrentTableProps
  private readonly currentConfig: CurrentTableConfig

  constructor(scope: Construct, id: string, props: CurrentTableProps) {
    super(scope, id)
    this.props = props
    const { config, storage, analytics } = props
    this.currentConfig = readCurrentTableConfig(this.node)
    const removalPolicy = config.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN

    const location = `s3://${storage.processed.bucketName}/${CURRENT_TABLE_PREFIX}`
    const fieldId = (name: string) => CURRENT_TABLE_COLUMNS.findIndex((c) => c.name === name) + 1
    this.table = new glue.CfnTable(this, 'IcebergTable', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: analytics.databaseName,
      tableInput: {
        name: CURRENT_TABLE_NAME,
        description:
          'One row per (date, item_id) across all files, at its newest source (Iceberg, kept by MERGE)',
        tableType: 'EXTERNAL_TABLE',
      },
      openTableFormatInput: {
        icebergInput: {
          metadataOperation: 'CREATE',
          version: '2',
          icebergTableInput: {
            location,
            schema: {
              schemaId: 0,
              type: 'struct',
              fields: CURRENT_TABLE_COLUMNS.map((c, index) => ({
                id: index + 1,
                name: c.name,
                type: c.type,
                required: c.required,
                doc: c.doc,
              })),
              identifierFieldIds: MERGE_KEY.map(fieldId),
            },
            partitionSpec: {
              specId: 0,
              fields: [
                {
                  fieldId: 1000,
                  name: PARTITION.name,
                  sourceId: fieldId(PARTITION.sourceColumn),
                  transform: PARTITION.transform,
                },
              ],
            },
            writeOrder: {
              orderId: 1,
              fields: MERGE_KEY.map((name) => ({
                sourceId: fieldId(name),
                transform: 'identity',
                direction: 'asc',
                nullOrder: 'nulls-last',
              })),
            },
            properties: {
              'write.format.default': 'parquet',
              'write.parquet.compression-codec': 'snappy',
              // MERGE rewrites only the data files it touches (merge-on-read delete files);
              // OPTIMIZE folds them back in.
              'write.merge.mode': 'merge-on-read',
              'write.update.mode': 'merge-on-read',
              'write.delete.mode': 'merge-on-read',
              'history.expire.max-snapshot-age-ms': String(Duration.days(7).toMilliseconds()),
              'write.target-file-size-bytes': String(128 * 1024 ** 2),
            },
          },
        },
      },
    })
    this.table.addResourceDependency(analytics.database)

    this.lock = new dynamodb.Table(this, 'WriterLock', {
      partitionKey: { name: 'lock', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.DESTROY,
    })
    acknowledge(
      this.lock,
      'DDB3',
      'The table holds one lock item that is rewritten on every merge; there is nothing to restore to a point in time.',
    )

    const logGroup = (name: string) =>
      new logs.LogGroup(this, `${name}Logs`, {
        encryptionKey: storage.key,
        retention: config.logRetentionDays,
        removalPolicy,
      })
    this.maintenance = new sfn.StateMachine(this, 'MaintenanceStateMachine', {
      stateMachineName: `${config.namePrefix}-current-table-maintenance`,
      definitionBody: sfn.DefinitionBody.fromChainable(
        this.serialized(this, 'Maintenance', [
          { name: 'Optimize', query: MAINTENANCE_STATEMENTS.optimize },
          { name: 'Vacuum', query: MAINTENANCE_STATEMENTS.vacuum },
        ]).next(new sfn.Succeed(this, 'MaintenanceDone')),
      ),
      tracingEnabled: true,
      logs: { destination: logGroup('Maintenance'), level: sfn.LogLevel.ALL, includeExecutionData: true },
      timeout: Duration.hours(6),
    })
    const [clear, insert] = rebuildStatements(this.athenaDialect())
    this.rebuild = new sfn.StateMachine(this, 'RebuildStateMachine', {
      stateMachineName: `${config.namePrefix}-current-table-rebuild`,
      definitionBody: sfn.DefinitionBody.fromChainable(
        this.serialized(this, 'Rebuild', [
          { name: 'Clear', query: clear },
          { name: 'Insert', query: insert, values: ['$$.Execution.StartTime'] },
        ]).next(new sfn.Succeed(this, 'RebuildDone')),
      ),
      tracingEnabled: true,
      logs: { destination: logGroup('Rebuild'), level: sfn.LogLevel.ALL, includeExecutionData: true },
      timeout: Duration.hours(6),
    })
    this.grantWrite(this.maintenance, 'maintenance')
    this.grantWrite(this.rebuild, 'rebuild')

    const schedulerRole = new iam.Role(this, 'MaintenanceSchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    })
    this.maintenance.grantStartExecution(schedulerRole)
    new scheduler.CfnSchedule(this, 'MaintenanceSchedule', {
      name: `${config.namePrefix}-current-table-maintenance`,
      description: `Compacts (OPTIMIZE ... BIN_PACK) and vacuums ${CURRENT_TABLE_NAME}`,
      scheduleExpression: this.currentConfig.maintenanceSchedule,
      scheduleExpressionTimezone: 'UTC',
      flexibleTimeWindow: { mode: 'FLEXIBLE', maximumWindowInMinutes: 60 },
      target: {
        arn: this.maintenance.stateMachineArn,
        roleArn: schedulerRole.roleArn,
        retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 },
      },
    })
  }

  /**
   * The merge step the ingest state machine runs after an ingest that
   * published Parquet (`status` `processed` or `already_processed`: the MERGE
   * is idempotent, so a redelivered event repairs a merge that failed before).
   * Its input is the Lambda's summary ({@link MERGE_INPUT}); it adds
   * `$.currentTable` and otherwise passes its input through. It fails the
   * execution with {@link CURRENT_TABLE_ERROR} when the MERGE cannot commit.
   *
   * @param scope - where its states are created (their names are `CurrentTable...` and must be unique in the machine)
   */
  mergeStep(scope: Construct, id = 'MergeIntoCurrentTable'): sfn.StateMachineFragment {
    const fragment = new MergeFragment(scope, id)
    const hasSequencer = new sfn.Choice(fragment, 'CurrentTableHasSequencer')
    const captureInput = new sfn.Pass(fragment, 'CurrentTableReadEvent', {
      parameters: { 'input.$': '$$.Execution.Input' },
      resultPath: '$.currentTable.execution',
    })
    const eventSequencer = MERGE_INPUT.sequencer.replace('$', '$.currentTable.execution.input')
    const withSequencer = new sfn.Pass(fragment, 'CurrentTableRunWithSequencer', {
      parameters: { 'value.$': eventSequencer },
      resultPath: '$.currentTable.sequencer',
    })
    const withoutSequencer = new sfn.Pass(fragment, 'CurrentTableRunWithoutSequencer', {
      result: sfn.Result.fromObject({ value: '' }),
      resultPath: '$.currentTable.sequencer',
    })
    const parquetPath = `States.Format('s3://{}/{}', ${MERGE_INPUT.parquetBucket}, ${MERGE_INPUT.parquetKey})`
    // In MERGE_PARAMETERS order.
    const values = [
      MERGE_INPUT.sourceKey,
      MERGE_INPUT.sourceEtag,
      MERGE_INPUT.sourceLastModified,
      '$.currentTable.sequencer.value',
      '$$.Execution.StartTime',
      parquetPath,
      parquetPath,
    ]
    const locked = this.serialized(fragment, 'CurrentTable', [
      { name: 'Merge', query: mergeStatement(this.athenaDialect()), values },
    ])
    captureInput.next(
      hasSequencer.when(sfn.Condition.isPresent(eventSequencer), withSequencer).otherwise(withoutSequencer),
    )
    withSequencer.next(locked)
    withoutSequencer.next(locked)
    // Without the source's Last-Modified the row's place in the source order is unknown: fail, say why.
    const complete = new sfn.Choice(fragment, 'CurrentTableHasSourceOrder')
      .when(
        sfn.Condition.and(
          sfn.Condition.isPresent(MERGE_INPUT.sourceLastModified),
          sfn.Condition.isPresent(MERGE_INPUT.sourceKey),
          sfn.Condition.isPresent(MERGE_INPUT.sourceEtag),
          sfn.Condition.isPresent(MERGE_INPUT.parquetKey),
        ),
        captureInput,
      )
      .otherwise(
        new sfn.Fail(fragment, 'CurrentTableInputIncomplete', {
          error: CURRENT_TABLE_INPUT_ERROR,
          cause: `The ingest result lacks ${MERGE_INPUT.sourceLastModified}, ${MERGE_INPUT.sourceKey}, ${MERGE_INPUT.sourceEtag} or ${MERGE_INPUT.parquetKey}`,
        }),
      )
    fragment.startState = complete
    fragment.endStates = locked.endStates
    return fragment
  }

  /**
   * Lets a state machine (its role) run the table's statements: Athena, Glue,
   * S3, KMS through S3, the lock. Only maintenance may delete files (VACUUM),
   * only the rebuild reads the manifests.
   *
   * @param writer - what the machine runs: the merge step, maintenance or the rebuild
   */
  grantWrite(machine: sfn.StateMachine, writer: 'merge' | 'maintenance' | 'rebuild'): void {
    const { storage, analytics } = this.props
    const stack = Stack.of(this)
    const bucket = storage.processed.bucketArn
    const catalog = stack.formatArn({ service: 'glue', resource: 'catalog' })
    const database = stack.formatArn({
      service: 'glue',
      resource: 'database',
      resourceName: analytics.databaseName,
    })
    const table = (name: string) =>
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
          table(analytics.tableName),
          ...(writer === 'rebuild' ? [table(analytics.manifestsTableName)] : []),
          table(CURRENT_TABLE_NAME),
        ],
      }),
      new iam.PolicyStatement({
        // An Iceberg commit swaps the table's metadata location in the catalog.
        sid: 'CommitCurrentTable',
        actions: ['glue:UpdateTable'],
        resources: [catalog, database, table(CURRENT_TABLE_NAME)],
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
              `${CURRENT_TABLE_PREFIX}*`,
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
        resources: [
          `${bucket}/${PROCESSED_PREFIXES.listings}*`,
          `${bucket}/${PROCESSED_PREFIXES.manifests}*`,
        ],
      }),
      new iam.PolicyStatement({
        sid: 'WriteCurrentTableAndResults',
        actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        resources: [`${bucket}/${CURRENT_TABLE_PREFIX}*`, `${bucket}/${PROCESSED_PREFIXES.athenaResults}*`],
      }),
      ...(writer === 'maintenance'
        ? [
            new iam.PolicyStatement({
              // VACUUM removes the files of expired snapshots and orphans; MERGE, OPTIMIZE and
              // a whole-table DELETE only add files (and metadata).
              sid: 'VacuumCurrentTable',
              actions: ['s3:DeleteObject'],
              resources: [`${bucket}/${CURRENT_TABLE_PREFIX}*`],
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
        resources: [
          stack.formatArn({ service: 'dynamodb', resource: 'table', resourceName: this.lock.tableName }),
        ],
      }),
      new iam.PolicyStatement({
        // The lock may be held by any of this stack's machines: ingest, maintenance, rebuild.
        sid: 'CheckLockHolder',
        actions: [...CURRENT_TABLE_INTEGRATIONS.describeHolder.actions],
        resources: [
          stack.formatArn({
            service: 'states',
            resource: 'execution',
            resourceName: `${this.props.config.namePrefix}-*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    ]
    for (const statement of statements) machine.addToRolePolicy(statement)
    const policy = machine.role.node.tryFindChild('DefaultPolicy')
    if (policy !== undefined) this.acknowledgeWrite(policy)
  }

  private acknowledgeWrite(policy: Construct): void {
    acknowledgeXRay(policy)
    const bucket = arnReference(this.props.storage.processed)
    const reasons: [string, string][] = [
      [
        PROCESSED_PREFIXES.listings,
        'Athena reads the run Parquet named at run time (output keys derive from source keys).',
      ],
      [PROCESSED_PREFIXES.manifests, 'The rebuild reads every manifest, one per source key.'],
      [
        CURRENT_TABLE_PREFIX,
        'Iceberg names its data, delete and metadata files at commit time, under the table location.',
      ],
      [PROCESSED_PREFIXES.athenaResults, 'Athena writes each query result under a name it generates.'],
    ]
    for (const [prefix, reason] of reasons)
      acknowledge(policy, `IAM5[Resource::${bucket}/${prefix}*]`, reason)
    acknowledge(
      policy,
      `IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${this.props.config.namePrefix}-*]`,
      "The lock's holder may be any execution of this stack's state machines, named at run time.",
    )
  }

  /** Athena's rendering of the shared template for this stack's tables. */
  private athenaDialect(): SqlDialect {
    const { analytics, storage } = this.props
    return athenaDialect(analytics.manifestsTableName, `s3://${storage.processed.bucketName}/`)
  }

  /**
   * Statements run one after another while holding the writer lock; each
   * retried on an Iceberg commit conflict; the lock released whatever happens.
   */
  private serialized(
    scope: Construct,
    prefix: string,
    steps: { name: string; query: string; values?: string[] }[],
  ): sfn.Chain {
    const { analytics } = this.props
    // Working data, out of the way of the input the machine passes on.
    const work = '$.currentTable'
    const lockKey = { lock: { S: CURRENT_TABLE_NAME } }
    const me = { 'S.$': '$$.Execution.Id' }
    const lockTask = (
      id: string,
      resource: string,
      parameters: Record<string, unknown>,
      resultPath: string | null,
    ) =>
      new sfn.CustomState(scope, `${prefix}${id}`, {
        stateJson: {
          Type: 'Task',
          Resource: resource,
          Parameters: { TableName: this.lock.tableName, Key: lockKey, ...parameters },
          ResultPath: resultPath,
        },
      })
    const conditionFailed = ['DynamoDB.ConditionalCheckFailedException']

    const acquire = lockTask(
      'TakeLock',
      CURRENT_TABLE_INTEGRATIONS.lockUpdate.resource,
      {
        UpdateExpression: 'SET holder = :me, taken_at = :now',
        ConditionExpression: 'attribute_not_exists(holder) OR holder = :me',
        ExpressionAttributeValues: { ':me': me, ':now': { 'S.$': '$$.State.EnteredTime' } },
      },
      null,
    )
    const readLock = lockTask(
      'ReadLock',
      CURRENT_TABLE_INTEGRATIONS.lockRead.resource,
      { ConsistentRead: true },
      `${work}.lock`,
    )
    const describeHolder = new sfn.CustomState(scope, `${prefix}CheckLockHolder`, {
      stateJson: {
        Type: 'Task',
        Resource: CURRENT_TABLE_INTEGRATIONS.describeHolder.resource,
        Parameters: { 'ExecutionArn.$': `${work}.lock.Item.holder.S` },
        ResultSelector: { 'status.$': '$.Status' },
        ResultPath: `${work}.holder`,
      },
    })
    const takeOver = lockTask(
      'TakeOverLock',
      CURRENT_TABLE_INTEGRATIONS.lockUpdate.resource,
      {
        UpdateExpression: 'SET holder = :me, taken_at = :now',
        ConditionExpression: 'attribute_not_exists(holder) OR holder = :stale',
        ExpressionAttributeValues: {
          ':me': me,
          ':now': { 'S.$': '$$.State.EnteredTime' },
          ':stale': { 'S.$': `${work}.lock.Item.holder.S` },
        },
      },
      null,
    )
    const lockBackoff = new sfn.Pass(scope, `${prefix}LockBusy`, {
      parameters: { 'seconds.$': `States.MathRandom(${LOCK_WAIT_SECONDS.min}, ${LOCK_WAIT_SECONDS.max})` },
      resultPath: `${work}.lockWait`,
    })
    const lockWait = new sfn.Wait(scope, `${prefix}WaitForLock`, {
      time: sfn.WaitTime.secondsPath(`${work}.lockWait.seconds`),
    })
    const release = (id: string) =>
      lockTask(
        id,
        CURRENT_TABLE_INTEGRATIONS.lockUpdate.resource,
        {
          UpdateExpression: 'REMOVE holder, taken_at',
          ConditionExpression: 'holder = :me',
          ExpressionAttributeValues: { ':me': me },
        },
        null,
      )
    const releaseAfterFailure = release('ReleaseLockAfterFailure')
    const failed = new sfn.Fail(scope, `${prefix}Failed`, {
      error: CURRENT_TABLE_ERROR,
      causePath: `${work}.error.Cause`,
    })
    // A release whose condition fails means another execution took the lock over: nothing to release.
    releaseAfterFailure.addCatch(failed, { errors: conditionFailed, resultPath: sfn.JsonPath.DISCARD })
    releaseAfterFailure.next(failed)

    let first: sfn.IChainable | undefined
    let previous: sfn.CustomState | undefined
    for (const step of steps) {
      const startCounters = new sfn.Pass(scope, `${prefix}${step.name}Start`, {
        parameters: { attempt: 0, ceiling: COMMIT_CONFLICT_RETRY.firstCeilingSeconds },
        resultPath: `${work}.retry`,
      })
      const query = new sfn.CustomState(scope, `${prefix}${step.name}`, {
        stateJson: {
          Type: 'Task',
          Resource: CURRENT_TABLE_INTEGRATIONS.athenaSync.resource,
          Parameters: {
            ...(step.values === undefined
              ? { QueryString: step.query }
              : { 'QueryString.$': statesFormat(step.query, step.values) }),
            QueryExecutionContext: { Catalog: 'AwsDataCatalog', Database: analytics.databaseName },
            WorkGroup: analytics.workGroupName,
          },
          // Only what every query result has: a ResultSelector path that is missing (a statistic
          // some statements lack) is a States.Runtime error, which no Catch handles.
          ResultSelector: { 'queryExecutionId.$': '$.QueryExecution.QueryExecutionId' },
          ResultPath: `${work}.results.${step.name}`,
        },
      })
      query.addRetry({
        errors: [...ATHENA_API_RETRY.errors],
        interval: Duration.seconds(ATHENA_API_RETRY.intervalSeconds),
        maxAttempts: ATHENA_API_RETRY.maxRetries,
        backoffRate: ATHENA_API_RETRY.backoffRate,
        maxDelay: Duration.seconds(ATHENA_API_RETRY.maxDelaySeconds),
        jitterStrategy: sfn.JitterType.FULL,
      })
      const conflictBackoff = new sfn.Pass(scope, `${prefix}${step.name}CommitConflict`, {
        parameters: {
          'attempt.$': `States.MathAdd(${work}.retry.attempt, 1)`,
          'ceiling.$': `States.MathAdd(${work}.retry.ceiling, ${work}.retry.ceiling)`,
          'seconds.$': `States.MathRandom(1, ${work}.retry.ceiling)`,
        },
        resultPath: `${work}.retry`,
      })
      const conflictWait = new sfn.Wait(scope, `${prefix}${step.name}WaitAfterConflict`, {
        time: sfn.WaitTime.secondsPath(`${work}.retry.seconds`),
      })
      const onError = new sfn.Choice(scope, `${prefix}${step.name}Retryable`)
        .when(
          sfn.Condition.and(
            sfn.Condition.stringMatches(`${work}.error.Cause`, `*${ICEBERG_COMMIT_CONFLICT}*`),
            sfn.Condition.numberLessThan(`${work}.retry.attempt`, COMMIT_CONFLICT_RETRY.maxRetries),
          ),
          conflictBackoff.next(conflictWait).next(query),
        )
        .otherwise(releaseAfterFailure)
      query.addCatch(onError, { errors: [sfn.Errors.ALL], resultPath: `${work}.error` })
      startCounters.next(query)
      if (previous === undefined) first = startCounters
      else previous.next(startCounters)
      previous = query
    }
    if (first === undefined || previous === undefined)
      throw new Error('serialized() needs at least one statement')
    const releaseLock = release('ReleaseLock')
    const takenOver = new sfn.Pass(scope, `${prefix}LockAlreadyTakenOver`)
    releaseLock.addCatch(takenOver, { errors: conditionFailed, resultPath: sfn.JsonPath.DISCARD })
    previous.next(releaseLock)

    acquire.addCatch(readLock, { errors: conditionFailed, resultPath: sfn.JsonPath.DISCARD })
    readLock.next(
      new sfn.Choice(scope, `${prefix}LockStillHeld`)
        .when(sfn.Condition.isNotPresent(`${work}.lock.Item.holder.S`), acquire)
        .otherwise(describeHolder),
    )
    // A holder whose execution is gone (history expired) is not running either.
    describeHolder.addCatch(takeOver, {
      errors: ['Sfn.ExecutionDoesNotExistException'],
      resultPath: sfn.JsonPath.DISCARD,
    })
    describeHolder.next(
      new sfn.Choice(scope, `${prefix}HolderRunning`)
        .when(sfn.Condition.stringEquals(`${work}.holder.status`, 'RUNNING'), lockBackoff)
        .otherwise(takeOver),
    )
    takeOver.addCatch(lockBackoff, { errors: conditionFailed, resultPath: sfn.JsonPath.DISCARD })
    takeOver.next(first)
    lockBackoff.next(lockWait).next(acquire)
    acquire.next(first)
    return sfn.Chain.custom(acquire, [releaseLock, takenOver], releaseLock)
  }
}

/**
 * The `States.Format` intrinsic that fills a statement's `{}` slots with the
 * base64 of each value (JSONPath or intrinsic expressions), in order. The
 * statement's own `'`, `{`, `}` and `\` are escaped, as intrinsic string
 * literals require.
 *
 * @throws {Error} when the statement's slots and the values differ in number
 */
export function statesFormat(statement: string, values: readonly string[]): string {
  const slots = statement.split(STATES_FORMAT_SLOT).length - 1
  if (slots !== values.length) throw new Error(`the statement has ${slots} slots for ${values.length} values`)
  const literal = statement
    .split(STATES_FORMAT_SLOT)
    .map((part) => part.replace(/[\\'{}]/g, (c) => `\\${c}`))
    .join(STATES_FORMAT_SLOT)
  return `States.Format('${literal}', ${values.map((v) => `States.Base64Encode(${v})`).join(', ')})`
}

/** A fragment whose states are set after construction. */
class MergeFragment extends sfn.StateMachineFragment {
  startState!: sfn.State
  endStates: sfn.INextable[] = []
}

/**
 * The current table's state machines as facts: the Step Functions
 * integrations their states use (with the IAM each needs), the errors they
 * fail with, the retry and lock-wait timings, and what the merge step reads
 * from its input. The constructs (locked-statements.ts, merge-step.ts,
 * current-table-grants.ts), the local harness and the policy tests read them
 * here, as lambdas/ingest/src/orchestration.ts does for the ingest machine.
 */
import type { RetryPolicy } from './sfn-retries.js'

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
  jitter: 'FULL',
} as const satisfies RetryPolicy

/** The error an execution fails with when the table could not be written. */
export const CURRENT_TABLE_ERROR = 'CurrentTableWriteFailed'

/** The error the merge step fails with when its input lacks what the source order needs. */
export const CURRENT_TABLE_INPUT_ERROR = 'CurrentTableInputIncomplete'

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

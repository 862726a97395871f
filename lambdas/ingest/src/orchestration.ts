import { RETRYABLE_ERRORS } from './errors.js'

/**
 * The ingest state machine's shape, shared by the CDK stack (which builds the
 * real one) and the local runner (which mirrors it), so both retry the same
 * errors and name the same states.
 */

/**
 * How the ingest task retries the handler's own {@link RETRYABLE_ERRORS} (S3
 * throttling or 5xx, a dropped connection). `maxRetries` is ASL's `MaxAttempts`
 * (retries after the first try); each retry reruns the whole transform.
 */
export const INGEST_RETRY = {
  errors: [...RETRYABLE_ERRORS],
  intervalSeconds: 2,
  maxRetries: 2,
  backoffRate: 2,
} as const

/**
 * How the task retries the Lambda service refusing or failing the invoke
 * itself, throttling above all: a burst of uploads in an account with little
 * concurrency gets `Lambda.TooManyRequestsException` for every execution at
 * once. More attempts than {@link INGEST_RETRY} (nothing ran, so a retry is
 * cheap), exponential backoff capped at `maxDelaySeconds`, and full jitter
 * (each delay random between 0 and the backoff) so the executions that were
 * throttled together do not retry together. Kept apart from the
 * TransientError retrier: ASL counts attempts per retrier.
 */
export const LAMBDA_SERVICE_RETRY = {
  errors: [
    'Lambda.TooManyRequestsException',
    'Lambda.ServiceException',
    'Lambda.AWSLambdaException',
    'Lambda.SdkClientException',
  ],
  intervalSeconds: 2,
  maxRetries: 8,
  backoffRate: 2,
  maxDelaySeconds: 60,
  jitter: 'FULL',
} as const

/** The longest the Lambda-service retrier can wait in total, in seconds (every delay at its cap). */
export function lambdaServiceRetryBudgetSeconds(): number {
  const { intervalSeconds, maxRetries, backoffRate, maxDelaySeconds } = LAMBDA_SERVICE_RETRY
  let total = 0
  for (let attempt = 0; attempt < maxRetries; attempt++) {
    total += Math.min(intervalSeconds * backoffRate ** attempt, maxDelaySeconds)
  }
  return total
}

/** The error the state machine routes to its data-quality branch. */
export const DATA_QUALITY_ERROR = 'DataQualityThresholdError'

/** State names, as they appear in the execution history. */
export const STATES = {
  ingest: 'Ingest',
  checkResult: 'CheckResult',
  notifyNoRows: 'NotifyNoRowsWritten',
  processed: 'Processed',
  nothingToDo: 'NothingToDo',
  notifyDataQualityFailure: 'NotifyDataQualityFailure',
  dataQualityFailed: 'DataQualityFailed',
  notifyFailure: 'NotifyFailure',
  ingestFailed: 'IngestFailed',
  /** With the large-file path: the Choice on the object's size, before either task. */
  routeBySize: 'RouteBySize',
  /** The large-file branch (a Parallel around the Fargate task), retried and caught like `ingest`. */
  ingestLargeFile: 'IngestLargeFile',
  checkLargeFileResult: 'CheckLargeFileResult',
  /**
   * After the current table's MERGE (infra/src/merge-step.ts, whose states are named
   * `CurrentTable…`): a Choice that ends where the ingest would have ended without it.
   */
  afterMerge: 'AfterCurrentTableMerge',
  /**
   * The large-file branch's way into the current table: its task reports an exit code, not the
   * summary the MERGE needs, so a processed large file starts the table's rebuild (startExecution.sync:2).
   */
  rebuildAfterLargeFile: 'RebuildCurrentTable',
  /** The backfill's last step: the table rebuilt once from every live output, not merged per file. */
  rebuildAfterBackfill: 'RebuildCurrentTableAfterBackfill',
} as const

/**
 * How the large-file task tells the state machine what happened.
 *
 * `ecs:runTask.sync` returns nothing the program writes: when the task stops
 * with every essential container exited 0, the Task state succeeds with the
 * stopped task's description; when an essential container exits non-zero (or
 * never ran), it fails with `States.TaskFailed` and a Cause that is that same
 * description as JSON (`Containers[].ExitCode`, `StopCode`, `StoppedReason`).
 * The exit code is therefore the task's only channel, and it carries the same
 * outcomes the Lambda returns or throws: the state machine reads
 * `Containers[0].ExitCode` from the Cause and fails its large-file branch
 * with the error name the Lambda would have thrown (so the same Retry and
 * Catch apply), or ends it with the outcome the Lambda would have returned.
 *
 * Codes 1 (an uncaught crash), 134 (abort) and 137 (SIGKILL: out of memory,
 * or stopped) are not listed: any code not here is an unexpected failure.
 */
export const TASK_EXIT_CODES = {
  /** Processed; rows were written (or the file held only rejects, see `noRowsWritten`). */
  processed: 0,
  /** Processed, but no row survived: notified like the Lambda's zero-row summary. */
  noRowsWritten: 10,
  /** `already_processed` or `skipped`: nothing to do. */
  nothingToDo: 11,
  DataQualityThresholdError: 20,
  InvalidInputError: 21,
  ConfigurationError: 22,
  TransientError: 23,
} as const

/** The error names the large-file branch fails with, by exit code (the Lambda's own names). */
export const TASK_EXIT_ERRORS = [
  'DataQualityThresholdError',
  'InvalidInputError',
  'ConfigurationError',
  'TransientError',
] as const satisfies readonly (keyof typeof TASK_EXIT_CODES)[]

/** What the large-file branch fails with for an exit code it does not know (a crash, out of memory). */
export const TASK_CRASHED_ERROR = 'LargeFileTaskFailed'

/** The outcome a successful large-file branch reports, which the state machine routes on. */
export const LARGE_FILE_OUTCOMES = {
  processed: 'processed',
  noRowsWritten: 'no_rows_written',
  nothingToDo: 'nothing_to_do',
} as const

/**
 * How the large-file task's `ecs:runTask.sync` retries ECS refusing to start
 * it: `AmazonECS.Unknown` is what Step Functions raises when RunTask answers
 * with a non-empty `Failures` (no capacity, for one); `ECS.AmazonECSException`
 * covers API errors such as throttling. Nothing ran, so retrying is cheap;
 * the same backoff and jitter as {@link LAMBDA_SERVICE_RETRY}.
 */
export const ECS_SERVICE_RETRY = {
  ...LAMBDA_SERVICE_RETRY,
  errors: ['AmazonECS.Unknown', 'ECS.AmazonECSException'],
} as const

/**
 * The environment variables the state machine sets on the task's container
 * (container overrides): the event, as the Lambda receives it, and the
 * execution id for the logs.
 */
export const TASK_EVENT_ENV = { event: 'INGEST_EVENT', executionId: 'INGEST_EXECUTION_ID' } as const

/** The task definition's one (essential) container, which the state machine's overrides name. */
export const LARGE_FILE_CONTAINER = 'ingest'

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
} as const

import { RETRYABLE_ERRORS } from './errors.js'

/**
 * The ingest state machine's shape, shared by the CDK stack (which builds the
 * real one) and the local runner (which mirrors it), so both retry the same
 * errors and name the same states.
 */

/** How the ingest task is retried; `maxRetries` is ASL's `MaxAttempts` (retries after the first try). */
export const INGEST_RETRY = {
  errors: [
    ...RETRYABLE_ERRORS,
    'Lambda.ServiceException',
    'Lambda.AWSLambdaException',
    'Lambda.SdkClientException',
    'Lambda.TooManyRequestsException',
  ],
  intervalSeconds: 2,
  maxRetries: 2,
  backoffRate: 2,
} as const

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

import { RETRYABLE_ERRORS } from './errors.js'

/**
 * How the state machine retries the ingest task. The CDK stack builds its
 * Retry from this, and the local runner follows the same policy, so both
 * retry exactly the same errors.
 */
export const INGEST_RETRY = {
  errors: [
    ...RETRYABLE_ERRORS,
    'Lambda.ServiceException',
    'Lambda.AWSLambdaException',
    'Lambda.SdkClientException',
    'Lambda.TooManyRequestsException',
  ],
  intervalSeconds: 2,
  maxAttempts: 3,
  backoffRate: 2,
} as const

/** The error the state machine routes to its data-quality branch. */
export const DATA_QUALITY_ERROR = 'DataQualityThresholdError'

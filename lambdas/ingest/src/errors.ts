/**
 * Errors the state machine tells apart by name (`Error` in a Retry or Catch).
 * Each name is a string literal, never a class's own name: bundlers may
 * rename classes. Wrap the error that caused one as `{ cause }`.
 *
 * | name                        | when                                                        | state machine  |
 * | --------------------------- | ----------------------------------------------------------- | -------------- |
 * | `DataQualityThresholdError` | a DQ threshold breached; report and rejects published       | notify, fail   |
 * | `InvalidInputError`         | the file cannot be processed as it is                       | notify, fail   |
 * | `ConfigurationError`        | settings malformed, or the lookup missing or unreadable     | notify, fail   |
 * | `TransientError`            | S3 throttling or 5xx, a dropped connection, a changed source | retried        |
 *
 * A source object deleted before or during the run is no error: the handler
 * returns `skipped` with the reason, and nothing is published.
 */

/** Every error name the handler throws on purpose. */
export const ERROR_NAMES = {
  dataQuality: 'DataQualityThresholdError',
  invalidInput: 'InvalidInputError',
  configuration: 'ConfigurationError',
  transient: 'TransientError',
} as const

/** The run breached a DQ threshold: report and rejects are written, Parquet is not. Not retried. */
export class DataQualityThresholdError extends Error {
  override readonly name = ERROR_NAMES.dataQuality
}

/** The source file cannot be processed as it is (missing column, malformed CSV, ...). Not retried. */
export class InvalidInputError extends Error {
  override readonly name = ERROR_NAMES.invalidInput
}

/** The function is misconfigured or its lookup is missing or unreadable. Not retried. */
export class ConfigurationError extends Error {
  override readonly name = ERROR_NAMES.configuration
}

/** A failure worth retrying: S3 throttling or 5xx, a dropped connection, a timeout. */
export class TransientError extends Error {
  override readonly name = ERROR_NAMES.transient
}

/** The error names the state machine retries. */
export const RETRYABLE_ERRORS = [ERROR_NAMES.transient] as const

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
])
const TRANSIENT_NAMES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'SlowDown',
  'InternalError',
  'ServiceUnavailable',
  'ThrottlingException',
  'NetworkingError',
  'AbortError',
])

/**
 * Whether an error from S3 or a network stream is worth retrying: the SDK
 * marked it retryable, S3 answered 5xx or 429, or the connection failed.
 */
export function isTransient(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const candidate = error as {
    name?: string
    code?: string
    $retryable?: unknown
    $metadata?: { httpStatusCode?: number }
    cause?: unknown
  }
  const status = candidate.$metadata?.httpStatusCode
  if (candidate.$retryable) return true
  if (status !== undefined && (status >= 500 || status === 429)) return true
  if (candidate.code !== undefined && TRANSIENT_CODES.has(candidate.code)) return true
  if (candidate.name !== undefined && TRANSIENT_NAMES.has(candidate.name)) return true
  if (/socket hang up|aborted|premature close/i.test(String((error as Error).message))) return true
  return candidate.cause !== undefined && isTransient(candidate.cause)
}

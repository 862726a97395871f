import {
  DEFAULT_MEMORY_BUDGET_BYTES,
  DEFAULT_ROW_GROUP_SIZE,
  MEMORY_BUDGET_RANGE,
  memoryBudgetForRuntime,
  parseMemoryBudgetMiB,
  parseRowGroupSize,
  ROW_GROUP_SIZE_RANGE,
} from '../../../shared/src/limits.js'
import { trimWhiteSpace } from '../../../shared/src/whitespace.js'
import { ConfigurationError } from './errors.js'

/** The handler's settings, read from its environment. */
export interface IngestConfig {
  /** Bucket the outputs are written to (`PROCESSED_BUCKET`). */
  processedBucket: string
  /** Where the category lookup lives (`LOOKUP_URI`, `s3://bucket/key`). */
  lookup: { bucket: string; key: string }
  /**
   * Only keys under this prefix ending in `.csv` are processed (`INCOMING_PREFIX`).
   * @default 'incoming/'
   */
  incomingPrefix: string
  /** `MAX_REJECTED_RATIO`, 0-1. @default undefined (no limit) */
  maxRejectedRatio?: number
  /** `MAX_UNMATCHED_SEGMENT_RATIO`, 0-1. @default undefined (no limit) */
  maxUnmatchedSegmentRatio?: number
  /** `NULL_VALUES`, comma-separated extra missing-value markers. @default [] */
  nullMarkers: string[]
  /** `ROW_GROUP_SIZE`, at most `MAX_ROW_GROUP_SIZE` (shared/src/limits.ts). @default 100000 */
  rowGroupSize: number
  /** `OUTPUT_KMS_KEY_ARN`: when set, outputs are written with SSE-KMS under this key. */
  kmsKeyArn?: string
  /**
   * Bytes a run may spend buffering rows to read the source once: `MEMORY_BUDGET_MIB`
   * when set (the Fargate task sets it from its size), else 60% of the Lambda's
   * `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`. @default DEFAULT_MEMORY_BUDGET_BYTES (1 GiB)
   */
  memoryBudgetBytes: number
}

/**
 * Reads and validates the configuration.
 *
 * @param env - the environment, `process.env` in Lambda
 * @throws {ConfigurationError} naming the variable that is missing or malformed
 */
export function readConfig(env: Record<string, string | undefined>): IngestConfig {
  const config: IngestConfig = {
    processedBucket: required(env, 'PROCESSED_BUCKET'),
    lookup: parseS3Uri('LOOKUP_URI', required(env, 'LOOKUP_URI')),
    incomingPrefix: env.INCOMING_PREFIX ?? 'incoming/',
    nullMarkers: (env.NULL_VALUES ?? '')
      .split(',')
      // The contract's whitespace, not String#trim (which strips U+FEFF, a character markers may hold).
      .map((marker) => trimWhiteSpace(marker))
      .filter((marker) => marker !== ''),
    rowGroupSize: rowGroupSize(env.ROW_GROUP_SIZE),
    memoryBudgetBytes: memoryBudget(env),
  }
  const maxRejected = ratio('MAX_REJECTED_RATIO', env.MAX_REJECTED_RATIO)
  if (maxRejected !== undefined) config.maxRejectedRatio = maxRejected
  const maxUnmatched = ratio('MAX_UNMATCHED_SEGMENT_RATIO', env.MAX_UNMATCHED_SEGMENT_RATIO)
  if (maxUnmatched !== undefined) config.maxUnmatchedSegmentRatio = maxUnmatched
  if (env.OUTPUT_KMS_KEY_ARN) config.kmsKeyArn = env.OUTPUT_KMS_KEY_ARN
  return config
}

/** Splits `s3://bucket/key` into its parts. */
export function parseS3Uri(name: string, uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri)
  if (match === null)
    throw new ConfigurationError(`${name} must look like s3://bucket/key, got ${JSON.stringify(uri)}`)
  return { bucket: match[1] as string, key: match[2] as string }
}

function required(env: Record<string, string | undefined>, name: string): string {
  const value = env[name]
  if (value === undefined || value.trim() === '') throw new ConfigurationError(`${name} is not set`)
  return value
}

function ratio(name: string, text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === '') return undefined
  const value = Number(text)
  if (!Number.isFinite(value) || value < 0 || value > 1) {
    throw new ConfigurationError(`${name} must be a number from 0 to 1, got ${JSON.stringify(text)}`)
  }
  return value
}

function rowGroupSize(text: string | undefined): number {
  if (text === undefined || text.trim() === '') return DEFAULT_ROW_GROUP_SIZE
  const value = parseRowGroupSize(text)
  if (value === undefined) {
    throw new ConfigurationError(
      `ROW_GROUP_SIZE must be ${ROW_GROUP_SIZE_RANGE}, got ${JSON.stringify(text)}`,
    )
  }
  return value
}

function memoryBudget(env: Record<string, string | undefined>): number {
  const configured = env.MEMORY_BUDGET_MIB
  if (configured !== undefined && configured.trim() !== '') {
    const bytes = parseMemoryBudgetMiB(configured.trim())
    if (bytes === undefined) {
      throw new ConfigurationError(
        `MEMORY_BUDGET_MIB must be ${MEMORY_BUDGET_RANGE}, got ${JSON.stringify(configured)}`,
      )
    }
    return bytes
  }
  const lambdaMemoryMiB = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE)
  return Number.isSafeInteger(lambdaMemoryMiB) && lambdaMemoryMiB > 0
    ? memoryBudgetForRuntime(lambdaMemoryMiB)
    : DEFAULT_MEMORY_BUDGET_BYTES
}

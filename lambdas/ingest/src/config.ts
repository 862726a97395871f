import {
  DEFAULT_MEMORY_BUDGET_BYTES,
  DEFAULT_ROW_GROUP_SIZE,
  MEMORY_BUDGET_RANGE,
  memoryBudgetForRuntime,
  parseMemoryBudgetMiB,
  parseRowGroupSize,
  ROW_GROUP_SIZE_RANGE,
} from '../../../shared/src/limits.js'
import {
  isBlank,
  parseNullMarkers,
  parseRatio,
  parseWholeNumber,
  RATIO_DESCRIPTION,
} from '../../../shared/src/setting-values.js'
import { ConfigurationError } from './errors.js'
import { DEFAULT_INCOMING_PREFIX } from './incoming-keys.js'
import { parseS3ObjectUri, type S3Location } from './s3-uri.js'

/**
 * The handler's settings, read from its environment. Values are read as
 * shared/src/setting-values.ts says (surrounding White_Space ignored, plain
 * decimals only); a variable that is empty or only White_Space is unset.
 */
export interface IngestConfig {
  /** Bucket the outputs are written to (`PROCESSED_BUCKET`). */
  processedBucket: string
  /** Where the category lookup lives (`LOOKUP_URI`, `s3://bucket/key`). */
  lookup: S3Location
  /**
   * Only keys under this prefix ending in `.csv` are processed (`INCOMING_PREFIX`).
   * @default DEFAULT_INCOMING_PREFIX ('incoming/')
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
    incomingPrefix: optional(env.INCOMING_PREFIX) ?? DEFAULT_INCOMING_PREFIX,
    nullMarkers: parseNullMarkers([env.NULL_VALUES ?? '']),
    rowGroupSize:
      setting('ROW_GROUP_SIZE', env.ROW_GROUP_SIZE, parseRowGroupSize, ROW_GROUP_SIZE_RANGE) ??
      DEFAULT_ROW_GROUP_SIZE,
    memoryBudgetBytes: memoryBudget(env),
  }
  const maxRejected = setting('MAX_REJECTED_RATIO', env.MAX_REJECTED_RATIO, parseRatio, RATIO_DESCRIPTION)
  if (maxRejected !== undefined) config.maxRejectedRatio = maxRejected
  const maxUnmatched = setting(
    'MAX_UNMATCHED_SEGMENT_RATIO',
    env.MAX_UNMATCHED_SEGMENT_RATIO,
    parseRatio,
    RATIO_DESCRIPTION,
  )
  if (maxUnmatched !== undefined) config.maxUnmatchedSegmentRatio = maxUnmatched
  const kmsKeyArn = optional(env.OUTPUT_KMS_KEY_ARN)
  if (kmsKeyArn !== undefined) config.kmsKeyArn = kmsKeyArn
  return config
}

/**
 * Splits `s3://bucket/key` naming one object (the rules: s3-uri.ts).
 *
 * @param name - the setting it came from, for the message
 * @throws {ConfigurationError} `<name> must look like s3://bucket/key, got "…": <why>`
 */
export function parseS3Uri(name: string, uri: string): S3Location {
  const parsed = parseS3ObjectUri(uri)
  if (!parsed.ok) {
    throw new ConfigurationError(
      `${name} must look like s3://bucket/key, got ${JSON.stringify(uri)}: ${parsed.reason}`,
    )
  }
  return parsed.location
}

function required(env: Record<string, string | undefined>, name: string): string {
  const value = env[name]
  if (value === undefined || isBlank(value)) throw new ConfigurationError(`${name} is not set`)
  return value
}

/** The variable's text, or `undefined` when it is unset, empty or only White_Space. */
function optional(text: string | undefined): string | undefined {
  return text === undefined || isBlank(text) ? undefined : text
}

/**
 * Reads an optional variable with one of the shared setting parsers.
 *
 * @param description - what `parse` accepts, for the message (e.g. `a number from 0 to 1`)
 * @returns the value, or `undefined` when the variable is unset, empty or only White_Space
 * @throws {ConfigurationError} `<name> must be <description>, got "<text>"`
 */
function setting<T>(
  name: string,
  text: string | undefined,
  parse: (text: string) => T | undefined,
  description: string,
): T | undefined {
  const set = optional(text)
  if (set === undefined) return undefined
  const value = parse(set)
  if (value === undefined) {
    throw new ConfigurationError(`${name} must be ${description}, got ${JSON.stringify(set)}`)
  }
  return value
}

/** Any positive whole number of MiB the runtime reports; it is set by Lambda, not by the user. */
const RUNTIME_MEMORY_MIB = { min: 1, max: Number.MAX_SAFE_INTEGER }

function memoryBudget(env: Record<string, string | undefined>): number {
  const configured = setting(
    'MEMORY_BUDGET_MIB',
    env.MEMORY_BUDGET_MIB,
    parseMemoryBudgetMiB,
    MEMORY_BUDGET_RANGE,
  )
  if (configured !== undefined) return configured
  const lambdaMemoryMiB = parseWholeNumber(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '', RUNTIME_MEMORY_MIB)
  return lambdaMemoryMiB === undefined ? DEFAULT_MEMORY_BUDGET_BYTES : memoryBudgetForRuntime(lambdaMemoryMiB)
}

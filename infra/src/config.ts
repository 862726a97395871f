import { RetentionDays } from 'aws-cdk-lib/aws-logs'
import type { Node } from 'constructs'

/**
 * The retention periods CloudWatch Logs accepts, in days: the values of CDK's
 * `RetentionDays` except `INFINITE` (which the stack would turn into "no
 * retention", and which the access-log bucket's expiry cannot express).
 * CloudFormation rejects any other value only at deploy time.
 */
export const LOG_RETENTION_DAYS: readonly RetentionDays[] = Object.values(RetentionDays)
  .filter((value): value is RetentionDays => typeof value === 'number' && value !== RetentionDays.INFINITE)
  .sort((a, b) => a - b)

/** The stack's settings, from CDK context (`-c key=value` or cdk.json), with defaults. */
export interface PipelineConfig {
  /** Prefix of every resource name. @default 'listings-ingest' */
  namePrefix: string
  /** Raw-bucket prefix that triggers the pipeline. @default 'incoming/' */
  incomingPrefix: string
  /** Lookup location; `undefined` means `s3://<raw bucket>/reference/category_lookup.csv`. @default undefined */
  lookupUri: string | undefined
  /** Threshold handed to the Lambda (0-1). @default undefined (no limit) */
  maxRejectedRatio: number | undefined
  /** Threshold handed to the Lambda (0-1). @default undefined (no limit) */
  maxUnmatchedSegmentRatio: number | undefined
  /** Alarm when a run rejects more than this percentage of rows. @default 10 */
  rejectedPercentAlarm: number
  /** Subscribe this address to the alarm topic. @default undefined (no subscription) */
  alarmEmail: string | undefined
  /**
   * Lambda memory. 1,769 MB is one full vCPU, which the single-threaded
   * transform uses fully; more memory buys no speed. @default 1769
   */
  lambdaMemoryMb: number
  /** Lambda timeout in minutes, at most 15. @default 15 */
  lambdaTimeoutMinutes: number
  /** How many files the backfill processes at once. @default 10 */
  backfillMaxConcurrency: number
  /** Days to keep logs: one of {@link LOG_RETENTION_DAYS}. @default 365 */
  logRetentionDays: RetentionDays
  /** Days before rejected-row files expire. @default 90 */
  rejectedRetentionDays: number
  /** `retain` keeps buckets, key and logs on stack deletion; `destroy` removes them (buckets must be empty). @default 'retain' */
  removalPolicy: 'retain' | 'destroy'
}

/**
 * Reads the configuration from context, validating each value.
 *
 * @param node - the app's or stack's node, whose context is read
 * @throws {Error} naming the context key that is malformed
 */
export function readPipelineConfig(node: Node): PipelineConfig {
  const text = (key: string) => {
    const value: unknown = node.tryGetContext(key)
    return value === undefined || value === null || value === '' ? undefined : String(value)
  }
  const number = (key: string, min: number, max: number): number | undefined => {
    const raw = text(key)
    if (raw === undefined) return undefined
    const value = Number(raw)
    if (!Number.isFinite(value) || value < min || value > max) {
      throw new Error(`context ${key} must be a number from ${min} to ${max}, got ${JSON.stringify(raw)}`)
    }
    return value
  }
  const retention = (days: number | undefined): RetentionDays | undefined => {
    if (days === undefined) return undefined
    const accepted = LOG_RETENTION_DAYS.find((value) => value === days)
    if (accepted === undefined) {
      throw new Error(
        `context logRetentionDays must be one of the periods CloudWatch Logs accepts (${LOG_RETENTION_DAYS.join(', ')}), got ${days}`,
      )
    }
    return accepted
  }
  const removal = text('removalPolicy') ?? 'retain'
  if (removal !== 'retain' && removal !== 'destroy') {
    throw new Error(`context removalPolicy must be retain or destroy, got ${JSON.stringify(removal)}`)
  }
  const incomingPrefix = text('incomingPrefix') ?? 'incoming/'
  if (!incomingPrefix.endsWith('/')) throw new Error('context incomingPrefix must end with /')
  return {
    namePrefix: text('namePrefix') ?? 'listings-ingest',
    incomingPrefix,
    lookupUri: text('lookupUri'),
    maxRejectedRatio: number('maxRejectedRatio', 0, 1),
    maxUnmatchedSegmentRatio: number('maxUnmatchedSegmentRatio', 0, 1),
    rejectedPercentAlarm: number('rejectedPercentAlarm', 0, 100) ?? 10,
    alarmEmail: text('alarmEmail'),
    lambdaMemoryMb: number('lambdaMemoryMb', 512, 10240) ?? 1769,
    lambdaTimeoutMinutes: number('lambdaTimeoutMinutes', 1, 15) ?? 15,
    backfillMaxConcurrency: number('backfillMaxConcurrency', 1, 1000) ?? 10,
    logRetentionDays: retention(number('logRetentionDays', 1, 3653)) ?? RetentionDays.ONE_YEAR,
    rejectedRetentionDays: number('rejectedRetentionDays', 1, 3653) ?? 90,
    removalPolicy: removal,
  }
}

/**
 * The stack's settings from CDK context (`-c key=value` or cdk.json), each
 * validated at synthesis so a bad value stops `cdk synth` with one line
 * naming the key. The large-file path's settings are in large-file-config.ts,
 * the current table's in current-table-config.ts; all read values through
 * context-reader.ts.
 */
import { RetentionDays } from 'aws-cdk-lib/aws-logs'
import type { Node } from 'constructs'
import { DEFAULT_INCOMING_PREFIX } from '../../lambdas/ingest/src/incoming-keys.js'
import { parseS3ObjectUri } from '../../lambdas/ingest/src/s3-uri.js'
import { contextReader } from './context-reader.js'
import { type LargeFileConfig, readLargeFileConfig } from './large-file-config.js'

/**
 * The retention periods CloudWatch Logs accepts, in days: the values of CDK's
 * `RetentionDays` except `INFINITE` (which the stack would turn into "no
 * retention", and which the access-log bucket's expiry cannot express).
 * CloudFormation rejects any other value only at deploy time.
 */
export const LOG_RETENTION_DAYS: readonly RetentionDays[] = Object.values(RetentionDays)
  .filter((value): value is RetentionDays => typeof value === 'number' && value !== RetentionDays.INFINITE)
  .sort((a, b) => a - b)

/**
 * The stack's settings, from CDK context (`-c key=value` or cdk.json), with
 * defaults. Numbers are read as shared/src/setting-values.ts says (surrounding
 * White_Space ignored, plain decimals only; counts, sizes and durations are
 * whole numbers); a key whose value is empty or only White_Space is unset.
 */
export interface PipelineConfig {
  /** Prefix of every resource name. @default 'listings-ingest' */
  namePrefix: string
  /** Raw-bucket prefix that triggers the pipeline. @default DEFAULT_INCOMING_PREFIX ('incoming/') */
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
  /**
   * The large-file path (`largeFiles=on`, see {@link LargeFileConfig}); `off`
   * deploys without it: no size routing, no cluster, no image to build, and so
   * no Docker needed by `cdk deploy`. @default on, with LargeFileConfig's defaults (`LARGE_FILES_DEFAULT` in large-file-config.ts)
   */
  largeFiles: LargeFileConfig | undefined
}

/**
 * Reads the configuration from context, validating each value.
 *
 * @param node - the app's or stack's node, whose context is read
 * @throws {Error} naming the context key that is malformed
 */
export function readPipelineConfig(node: Node): PipelineConfig {
  const context = contextReader(node)
  const { text, whole, decimal } = context
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
  const incomingPrefix = text('incomingPrefix') ?? DEFAULT_INCOMING_PREFIX
  if (!incomingPrefix.endsWith('/')) throw new Error('context incomingPrefix must end with /')
  const lambdaMemoryMb = whole('lambdaMemoryMb', { min: 512, max: 10240 }) ?? 1769
  const lambdaTimeoutMinutes = whole('lambdaTimeoutMinutes', { min: 1, max: 15 }) ?? 15
  const lookupUri = text('lookupUri')
  const lookup = lookupUri === undefined ? undefined : parseS3ObjectUri(lookupUri)
  if (lookup?.ok === false) {
    throw new Error(
      `context lookupUri must look like s3://bucket/key, got ${JSON.stringify(lookupUri)}: ${lookup.reason}`,
    )
  }
  return {
    namePrefix: text('namePrefix') ?? 'listings-ingest',
    incomingPrefix,
    lookupUri,
    maxRejectedRatio: context.ratio('maxRejectedRatio'),
    maxUnmatchedSegmentRatio: context.ratio('maxUnmatchedSegmentRatio'),
    rejectedPercentAlarm: decimal('rejectedPercentAlarm', { min: 0, max: 100 }) ?? 10,
    alarmEmail: text('alarmEmail'),
    lambdaMemoryMb,
    lambdaTimeoutMinutes,
    backfillMaxConcurrency: whole('backfillMaxConcurrency', { min: 1, max: 1000 }) ?? 10,
    logRetentionDays: retention(whole('logRetentionDays', { min: 1, max: 3653 })) ?? RetentionDays.ONE_YEAR,
    rejectedRetentionDays: whole('rejectedRetentionDays', { min: 1, max: 3653 }) ?? 90,
    removalPolicy: removal,
    largeFiles: readLargeFileConfig(context, lambdaMemoryMb, lambdaTimeoutMinutes),
  }
}

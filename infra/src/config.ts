import { RetentionDays } from 'aws-cdk-lib/aws-logs'
import type { Node } from 'constructs'
import { parseS3ObjectUri } from '../../lambdas/ingest/src/s3-uri.js'
import {
  describeDecimal,
  describeWholeNumber,
  isBlank,
  type NumberRange,
  parseDecimal,
  parseRatio,
  parseWholeNumber,
  RATIO_DESCRIPTION,
} from '../../shared/src/setting-values.js'
import { runCapacity } from './capacity.js'

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
  /**
   * The large-file path (`largeFiles=on`, see {@link LargeFileConfig}); `off`
   * deploys without it: no size routing, no cluster, no image to build, and so
   * no Docker needed by `cdk deploy`. @default the settings below (on; {@link LARGE_FILES_DEFAULT})
   */
  largeFiles: LargeFileConfig | undefined
}

/** The Fargate task that runs files larger than the Lambda can take. */
export interface LargeFileConfig {
  /**
   * Files larger than this (the event's `detail.object.size`, the backfill's
   * `Size`) run on Fargate (`largeFileThresholdBytes`).
   * @default what one Lambda run can take (capacity.ts: `runCapacity` of its memory and timeout)
   */
  thresholdBytes: number
  /** Task CPU units, 1024 = one vCPU (`largeFileCpu`): 1024, 2048, 4096, 8192 or 16384. @default 2048 */
  cpu: number
  /** Task memory in MiB (`largeFileMemoryMiB`), within Fargate's range for the CPU. @default 16384 */
  memoryMiB: number
  /** How long one task may run before Step Functions stops it (`largeFileTimeoutMinutes`). @default 180 */
  timeoutMinutes: number
  /**
   * Where the task runs. `undefined`: a VPC of its own, public subnets in two
   * AZs, no NAT gateway, an S3 gateway endpoint. Otherwise an existing VPC
   * (`vpcId`) and subnets in it (`subnetIds`, comma-separated): ids, not a
   * lookup, so synthesis needs no credentials. @default undefined
   */
  network: { vpcId: string; subnetIds: string[] } | undefined
  /**
   * Give the task a public IP (`largeFilePublicIp`), its route to ECR, S3 and
   * CloudWatch Logs through the internet gateway of a public subnet. `false`
   * for private subnets that have a NAT gateway or VPC endpoints. @default true
   */
  publicIp: boolean
}

/**
 * Whether the large-file path is deployed when context does not say: on, so a
 * file larger than one Lambda run can take has a path by default;
 * `-c largeFiles=off` deploys without it (and without Docker at deploy time).
 */
export const LARGE_FILES_DEFAULT: 'on' | 'off' = 'on'

/** Fargate's memory range (MiB) and step for each CPU size. */
export const FARGATE_SIZES: Readonly<Record<number, { min: number; max: number; step: number }>> = {
  1024: { min: 2048, max: 8192, step: 1024 },
  2048: { min: 4096, max: 16384, step: 1024 },
  4096: { min: 8192, max: 30720, step: 1024 },
  8192: { min: 16384, max: 61440, step: 4096 },
  16384: { min: 32768, max: 122880, step: 8192 },
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
  const incomingPrefix = text('incomingPrefix') ?? 'incoming/'
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

/** Typed reads of context keys, each throwing `context <key> must be …` for a malformed value. */
type ContextReader = ReturnType<typeof contextReader>

/**
 * Reads context as text: `-c` gives strings, cdk.json may give JSON numbers,
 * which are read as JavaScript writes them (`String(value)`). `text` is
 * `undefined` when a key is unset, null or ''; a number also when it is only White_Space.
 */
export function contextReader(node: Node) {
  const text = (key: string): string | undefined => {
    const value: unknown = node.tryGetContext(key)
    return value === undefined || value === null || value === '' ? undefined : String(value)
  }
  const numeric = (key: string, parse: (raw: string) => number | undefined, description: string) => {
    const raw = text(key)
    if (raw === undefined || isBlank(raw)) return undefined
    const value = parse(raw)
    if (value === undefined)
      throw new Error(`context ${key} must be ${description}, got ${JSON.stringify(raw)}`)
    return value
  }
  return {
    text,
    whole: (key: string, range: NumberRange) =>
      numeric(key, (raw) => parseWholeNumber(raw, range), describeWholeNumber(range)),
    decimal: (key: string, range: NumberRange) =>
      numeric(key, (raw) => parseDecimal(raw, range), describeDecimal(range)),
    ratio: (key: string) => numeric(key, parseRatio, RATIO_DESCRIPTION),
  }
}

function readLargeFileConfig(
  { text, whole }: ContextReader,
  lambdaMemoryMb: number,
  lambdaTimeoutMinutes: number,
): LargeFileConfig | undefined {
  const enabled = text('largeFiles') ?? LARGE_FILES_DEFAULT
  if (enabled !== 'on' && enabled !== 'off') {
    throw new Error(`context largeFiles must be on or off, got ${JSON.stringify(enabled)}`)
  }
  if (enabled === 'off') return undefined
  const cpu = whole('largeFileCpu', { min: 1024, max: 16384 }) ?? 2048
  const sizes = FARGATE_SIZES[cpu]
  if (sizes === undefined) {
    throw new Error(
      `context largeFileCpu must be one of ${Object.keys(FARGATE_SIZES).join(', ')}, got ${cpu}`,
    )
  }
  const memoryMiB = whole('largeFileMemoryMiB', sizes) ?? Math.min(16384, sizes.max)
  if ((memoryMiB - sizes.min) % sizes.step !== 0) {
    throw new Error(
      `context largeFileMemoryMiB must be ${sizes.min} to ${sizes.max} in steps of ${sizes.step} for largeFileCpu ${cpu}, got ${memoryMiB}`,
    )
  }
  const vpcId = text('vpcId')
  const subnetIds = (text('subnetIds') ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '')
  if ((vpcId === undefined) !== (subnetIds.length === 0)) {
    throw new Error(
      'context vpcId and subnetIds go together: an existing VPC and the subnets in it for the task',
    )
  }
  if (vpcId !== undefined && !/^vpc-[0-9a-f]+$/.test(vpcId)) {
    throw new Error(`context vpcId must look like vpc-0123abcd, got ${JSON.stringify(vpcId)}`)
  }
  const badSubnet = subnetIds.find((id) => !/^subnet-[0-9a-f]+$/.test(id))
  if (badSubnet !== undefined) {
    throw new Error(`context subnetIds must be subnet-0123abcd ids, got ${JSON.stringify(badSubnet)}`)
  }
  const publicIp = text('largeFilePublicIp') ?? 'true'
  if (publicIp !== 'true' && publicIp !== 'false') {
    throw new Error(`context largeFilePublicIp must be true or false, got ${JSON.stringify(publicIp)}`)
  }
  const lambda = runCapacity(lambdaMemoryMb, lambdaTimeoutMinutes * 60)
  return {
    thresholdBytes:
      whole('largeFileThresholdBytes', { min: 1, max: Number.MAX_SAFE_INTEGER }) ?? lambda.bytes,
    cpu,
    memoryMiB,
    timeoutMinutes: whole('largeFileTimeoutMinutes', { min: 5, max: 7 * 24 * 60 }) ?? 180,
    network: vpcId === undefined ? undefined : { vpcId, subnetIds },
    publicIp: publicIp === 'true',
  }
}

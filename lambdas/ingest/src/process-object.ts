import type { Logger } from '@aws-lambda-powertools/logger'
import type { Metrics } from '@aws-lambda-powertools/metrics'
import type { S3Client } from '@aws-sdk/client-s3'
import {
  type ByteSource,
  type DqReport,
  InputError,
  ingest,
  thresholdsFrom,
} from '../../../shared/src/index.js'
import { renderDqReportHtml } from '../../../shared/src/report-html.js'
import type { IngestConfig } from './config.js'
import { DQ_METRICS, rejectReasonMetric } from './dq-metrics.js'
import {
  ConfigurationError,
  DataQualityThresholdError,
  InvalidInputError,
  isTransient,
  TransientError,
} from './errors.js'
import type { SourceObject } from './event.js'
import { isIncomingCsv } from './incoming-keys.js'
import {
  isSameVersion,
  type Manifest,
  nextManifest,
  parseManifest,
  reportOutput,
  type SourceVersion,
  staleKeys,
} from './live-version.js'
import {
  MAX_S3_KEY_BYTES,
  type OutputKeys,
  outputKeysFor,
  overlongOutputKey,
  reportHtmlKey,
} from './output-keys.js'
import {
  deleteObject,
  getSmallObject,
  headObject,
  isNotFound,
  type ObjectVersion,
  objectSource,
  putSmallObject,
  S3UploadSink,
} from './s3-io.js'

/** What the handler returns to the state machine. */
export interface IngestSummary {
  /** `processed`; `already_processed` for a repeated event; `skipped` when there was nothing to do. */
  status: 'processed' | 'already_processed' | 'skipped'
  /** Why it was skipped or already done. */
  reason?: string
  source?: SourceVersion
  counts?: Pick<
    DqReport,
    | 'source_rows'
    | 'valid_rows_after_clean'
    | 'rows_after_dedup'
    | 'dropped_missing_required'
    | 'dropped_non_positive_price'
    | 'duplicates_removed'
    | 'rows_without_segment'
  >
  /** True only in the error a breach raises; a returned summary never breached. */
  threshold_breached: boolean
  outputs?: { bucket: string } & Omit<OutputKeys, 'manifest'> & { report_html: string }
}

/** What {@link processObject} needs from its surroundings. */
export interface ProcessDeps {
  s3: S3Client
  config: IngestConfig
  logger: Logger
  metrics: Metrics
  /** Encode Parquet on a worker thread running this module (see `HandlerDeps.parquetWorker`). @default undefined */
  parquetWorker?: URL
}

/**
 * Processes one object from the raw bucket into the processed bucket.
 *
 * Idempotent per object version: outputs go to keys derived from the source
 * key and its Last-Modified date, and a manifest per source key records which
 * version's Parquet is live and which version was tried last (see
 * `live-version.ts`), so a repeated event returns `already_processed`, and an
 * event for a version that has since been replaced is skipped. Only the
 * source's current version publishes: the version is checked again just
 * before publishing, so a run that a newer upload overtook publishes nothing.
 *
 * @throws {DataQualityThresholdError} after publishing the report and rejects, when a threshold is breached
 * @throws {InvalidInputError} when the file cannot be processed as it is
 * @throws {ConfigurationError} when the lookup is missing or cannot be read
 * @throws {TransientError} for failures worth retrying; nothing is half-published
 */
export async function processObject(source: SourceObject, deps: ProcessDeps): Promise<IngestSummary> {
  const { s3, config, logger } = deps
  if (!isIncomingCsv(source.key, config.incomingPrefix)) {
    return skipped(`not a .csv or .csv.gz object under ${config.incomingPrefix}`)
  }
  const version = await retryable(() => headObject(s3, source.bucket, source.key))
  if (version === undefined) return skipped('source object no longer exists')
  if (
    (source.etag && source.etag !== version.etag) ||
    (source.versionId && source.versionId !== version.versionId)
  ) {
    return skipped(SUPERSEDED)
  }
  const keys = outputKeysFor(version.key, config.incomingPrefix, version.lastModified)
  const overlong = overlongOutputKey(keys)
  if (overlong !== undefined) {
    throw new InvalidInputError(
      `the key is too long for its outputs: ${overlong} would exceed S3's ${MAX_S3_KEY_BYTES}-byte key limit`,
    )
  }
  const previous = await readManifest(deps, keys.manifest)
  const sourceRef = describeVersion(version)
  if (
    previous?.last_attempt.status === 'succeeded' &&
    isSameVersion(previous.last_attempt.source, sourceRef)
  ) {
    logger.info('already processed; outputs unchanged', { live: previous.live })
    return {
      status: 'already_processed',
      reason: 'this object version was processed before',
      source: sourceRef,
      threshold_breached: false,
      outputs: outputsOf(config, keys),
    }
  }

  const outcome = await transform(version, keys, previous, deps)
  if (outcome.kind === 'skipped') return { ...skipped(outcome.reason), source: sourceRef }
  const { report } = outcome
  const breached = report.status === 'threshold_breached'
  const summary: IngestSummary = {
    status: 'processed',
    source: sourceRef,
    counts: {
      source_rows: report.source_rows,
      valid_rows_after_clean: report.valid_rows_after_clean,
      rows_after_dedup: report.rows_after_dedup,
      dropped_missing_required: report.dropped_missing_required,
      dropped_non_positive_price: report.dropped_non_positive_price,
      duplicates_removed: report.duplicates_removed,
      rows_without_segment: report.rows_without_segment,
    },
    threshold_breached: breached,
    outputs: outputsOf(config, keys),
  }
  logger.info(breached ? 'data-quality threshold breached' : 'ingest succeeded', { summary })
  if (breached) {
    const reasons = report.thresholds.breaches.map(
      (b) => `${b.threshold} ${b.actual.toFixed(4)} > ${b.limit}`,
    )
    throw new DataQualityThresholdError(
      `${reasons.join('; ')}: s3://${config.processedBucket}/${keys.report} written, Parquet not published` +
        (previous?.live ? `; s3://${config.processedBucket}/${previous.live.parquet} stays live` : ''),
    )
  }
  return summary
}

const SUPERSEDED = 'superseded: the key holds a newer upload, which has its own event'
const DELETED_DURING_RUN = 'source object was deleted during the run; nothing published'

/**
 * Runs the transform from S3 to S3 and publishes its outputs (the Parquet only
 * on success), then the manifest, then deletes what it no longer names.
 *
 * @returns the report, or why nothing was published when the source was
 *   deleted or replaced before the outputs were
 */
async function transform(
  version: ObjectVersion,
  keys: OutputKeys,
  previous: Manifest | undefined,
  deps: ProcessDeps,
): Promise<{ kind: 'report'; report: DqReport } | { kind: 'skipped'; reason: string }> {
  const { s3, config } = deps
  const lookup = await retryable(() => headObject(s3, config.lookup.bucket, config.lookup.key))
  if (lookup === undefined) {
    throw new ConfigurationError(`lookup s3://${config.lookup.bucket}/${config.lookup.key} does not exist`)
  }
  const metadata = {
    'source-etag': version.etag,
    ...(version.versionId ? { 'source-version-id': version.versionId } : {}),
  }
  const target = { bucket: config.processedBucket, metadata }
  const write = config.kmsKeyArn ? { kmsKeyArn: config.kmsKeyArn } : {}
  const parquet = new S3UploadSink(
    s3,
    { ...target, key: keys.parquet, contentType: 'application/vnd.apache.parquet' },
    write,
  )
  const rejected = new S3UploadSink(
    s3,
    { ...target, key: keys.rejected, contentType: 'text/csv; charset=utf-8' },
    write,
  )
  const discardAll = () => Promise.all([parquet.discard(), rejected.discard()])
  let report: DqReport
  try {
    report = await ingest({
      listings: readFailuresNamed('listings', objectSource(s3, version)),
      lookup: readFailuresNamed('lookup', objectSource(s3, lookup)),
      parquet,
      rejected,
      nullMarkers: config.nullMarkers,
      thresholds: thresholdsFrom(config),
      rowGroupSize: config.rowGroupSize,
      memoryBudgetBytes: config.memoryBudgetBytes,
      ...(deps.parquetWorker ? { parquetWorker: deps.parquetWorker } : {}),
    })
  } catch (error) {
    await discardAll()
    const outcome = classify(error, config)
    if (outcome instanceof Error) throw outcome
    return { kind: 'skipped', reason: outcome.skipped }
  }
  // Only the current version publishes: a newer upload (its own run publishes) or a delete overtakes this one.
  const current = await retryable(() => headObject(s3, version.bucket, version.key)).catch(
    async (error: unknown) => {
      await discardAll()
      throw error
    },
  )
  if (current === undefined || current.etag !== version.etag || current.versionId !== version.versionId) {
    await discardAll()
    return { kind: 'skipped', reason: current === undefined ? DELETED_DURING_RUN : SUPERSEDED }
  }
  recordMetrics(deps.metrics, report)
  const sourceRef = describeVersion(version)
  const manifest = nextManifest(previous, { source: sourceRef, keys, report })
  const published = report.status === 'succeeded'
  await retryable(async () => {
    await rejected.publish()
    if (published) await parquet.publish()
    else await parquet.discard()
  })
  const withLocations = {
    ...report,
    source: sourceRef,
    output: reportOutput(report, keys, config.processedBucket, manifest),
  }
  await retryable(() =>
    putSmallObject(
      s3,
      {
        ...target,
        key: keys.report,
        body: `${JSON.stringify(withLocations, null, 2)}\n`,
        contentType: 'application/json',
      },
      write,
    ),
  )
  // The same report as a page for people; the rejects' s3:// URI is shown as text (a browser cannot open it).
  const page = renderDqReportHtml(withLocations, {
    rejected: withLocations.output.rejected.path,
    report: `s3://${config.processedBucket}/${keys.report}`,
  })
  await retryable(() =>
    putSmallObject(
      s3,
      { ...target, key: reportHtmlKey(keys.report), body: page, contentType: 'text/html; charset=utf-8' },
      write,
    ),
  )
  await publishManifest(deps, keys.manifest, manifest, previous)
  return { kind: 'report', report }
}

/** A read failure of one input, so a vanished source and a vanished lookup are told apart. */
class InputReadFailure extends Error {
  override readonly name = 'InputReadFailure'
  constructor(
    readonly input: 'listings' | 'lookup',
    cause: unknown,
  ) {
    super(`reading the ${input} failed: ${errorMessage(cause)}`, { cause })
  }
}

/** The source, its read failures wrapped as {@link InputReadFailure} naming `input`. */
function readFailuresNamed(input: 'listings' | 'lookup', source: ByteSource): ByteSource {
  const named: ByteSource = {
    name: source.name,
    async *open() {
      try {
        yield* source.open()
      } catch (error) {
        throw new InputReadFailure(input, error)
      }
    },
  }
  // Read through, not copied: a gzipped source learns its decompressed size as it is read.
  Object.defineProperty(named, 'size', { enumerable: true, get: () => source.size })
  return named
}

async function readManifest(deps: ProcessDeps, key: string): Promise<Manifest | undefined> {
  const text = await retryable(() => getSmallObject(deps.s3, deps.config.processedBucket, key))
  if (text === undefined) return undefined
  const manifest = parseManifest(text)
  if (manifest === undefined) deps.logger.warn('unreadable manifest ignored', { key })
  return manifest
}

/**
 * Writes the manifest, then deletes the outputs the previous one named and
 * this one does not (another `dt=`, a superseded breach's rejects and
 * report), so a re-uploaded file replaces its data instead of adding to it.
 */
async function publishManifest(
  deps: ProcessDeps,
  key: string,
  manifest: Manifest,
  previous: Manifest | undefined,
): Promise<void> {
  const { s3, config } = deps
  const write = config.kmsKeyArn ? { kmsKeyArn: config.kmsKeyArn } : {}
  await retryable(() =>
    putSmallObject(
      s3,
      {
        bucket: config.processedBucket,
        key,
        body: JSON.stringify(manifest),
        contentType: 'application/json',
      },
      write,
    ),
  )
  for (const stale of staleKeys(previous, manifest)) {
    await retryable(() => deleteObject(s3, config.processedBucket, stale))
    deps.logger.info('deleted output of a replaced version', { key: stale })
  }
}

function recordMetrics(metrics: Metrics, report: DqReport): void {
  const add = (metric: { name: string; unit: string }, value: number) =>
    metrics.addMetric(metric.name, metric.unit as Parameters<Metrics['addMetric']>[1], value)
  add(DQ_METRICS.sourceRows, report.source_rows)
  add(DQ_METRICS.validRows, report.valid_rows_after_clean)
  add(DQ_METRICS.rowsWritten, report.status === 'succeeded' ? report.rows_after_dedup : 0)
  add(DQ_METRICS.duplicatesRemoved, report.duplicates_removed)
  add(DQ_METRICS.droppedMissingRequired, report.dropped_missing_required)
  add(DQ_METRICS.droppedNonPositivePrice, report.dropped_non_positive_price)
  add(DQ_METRICS.rowsWithoutSegment, report.rows_without_segment)
  add(DQ_METRICS.rejectedPercent, report.ratios.rejected * 100)
  add(DQ_METRICS.withoutSegmentPercent, report.ratios.without_segment * 100)
  add(DQ_METRICS.thresholdBreaches, report.thresholds.breaches.length)
  add(DQ_METRICS.durationMs, report.timings_ms.total)
  for (const [reason, count] of Object.entries(report.reasons)) {
    metrics.addMetric(rejectReasonMetric(reason), 'Count', count)
  }
}

/**
 * Maps a failure inside the transform to what the state machine acts on: an
 * error it retries or fails on, or a `skipped` summary when the source object
 * was deleted between the reads (its deletion is the user's, not a fault).
 */
function classify(error: unknown, config: IngestConfig): Error | { skipped: string } {
  const input = error instanceof InputReadFailure ? error.input : undefined
  const cause = error instanceof InputReadFailure ? error.cause : error
  if (cause instanceof InputError) return new InvalidInputError(cause.message, { cause })
  if (isPreconditionFailed(cause)) {
    return new TransientError(
      `the ${input ?? 'source'} object changed during the run; retrying reads the new version state`,
      { cause },
    )
  }
  if (isMissing(cause) && input === 'listings') return { skipped: DELETED_DURING_RUN }
  if (isMissing(cause)) {
    return new ConfigurationError(
      `lookup s3://${config.lookup.bucket}/${config.lookup.key} disappeared during the run: ${errorMessage(cause)}`,
      { cause },
    )
  }
  if (isTransient(cause)) return new TransientError(errorMessage(cause), { cause })
  return cause instanceof Error ? cause : new Error(String(cause))
}

/** Runs an S3 call, turning retryable failures into {@link TransientError}. */
async function retryable<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    throw isTransient(error) ? new TransientError(errorMessage(error), { cause: error }) : error
  }
}

/** An object, or the version pinned, is not there (404 of any kind). */
function isMissing(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode
  return (
    isNotFound(error) || status === 404 || (error as { name?: string } | undefined)?.name === 'NoSuchVersion'
  )
}

function isPreconditionFailed(error: unknown): boolean {
  const candidate = error as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined
  return candidate?.name === 'PreconditionFailed' || candidate?.$metadata?.httpStatusCode === 412
}

function errorMessage(error: unknown): string {
  const name = (error as { name?: string } | undefined)?.name
  const message = error instanceof Error ? error.message : String(error)
  return name && name !== 'Error' ? `${name}: ${message}` : message
}

function skipped(reason: string): IngestSummary {
  return { status: 'skipped', reason, threshold_breached: false }
}

function describeVersion(version: ObjectVersion): SourceVersion {
  return {
    bucket: version.bucket,
    key: version.key,
    etag: version.etag,
    ...(version.versionId ? { versionId: version.versionId } : {}),
    // The current table's source order starts with it (infra/src/current-table.ts MERGE_INPUT).
    last_modified: version.lastModified.toISOString(),
  }
}

function outputsOf(config: IngestConfig, keys: OutputKeys): NonNullable<IngestSummary['outputs']> {
  return {
    bucket: config.processedBucket,
    parquet: keys.parquet,
    rejected: keys.rejected,
    report: keys.report,
    report_html: reportHtmlKey(keys.report),
  }
}

import type { Logger } from '@aws-lambda-powertools/logger'
import type { Metrics } from '@aws-lambda-powertools/metrics'
import type { S3Client } from '@aws-sdk/client-s3'
import { type DqReport, InputError, ingest, thresholdsFrom } from '../../../shared/src/index.js'
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
import { isIncomingCsv, type OutputKeys, outputKeysFor } from './output-keys.js'
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
  source?: { bucket: string; key: string; etag: string; versionId?: string }
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
  outputs?: { bucket: string } & Omit<OutputKeys, 'manifest'>
}

/** The record, per source key, of which version the published outputs belong to. */
interface Manifest {
  source: { bucket: string; key: string; etag: string; versionId?: string }
  outputs: OutputKeys
  processed_at: string
}

/** What {@link processObject} needs from its surroundings. */
export interface ProcessDeps {
  s3: S3Client
  config: IngestConfig
  logger: Logger
  metrics: Metrics
}

/**
 * Processes one object from the raw bucket into the processed bucket.
 *
 * Idempotent per object version: outputs go to keys derived from the source
 * key and its Last-Modified date, and a manifest per source key records the
 * ETag and version they came from, so a repeated event returns
 * `already_processed` and an event for a version that has since been
 * replaced is skipped.
 *
 * @throws {DataQualityThresholdError} after publishing the report and rejects, when a threshold is breached
 * @throws {InvalidInputError} when the file cannot be processed as it is
 * @throws {ConfigurationError} when the lookup cannot be read
 * @throws {TransientError} for failures worth retrying; nothing is half-published
 */
export async function processObject(source: SourceObject, deps: ProcessDeps): Promise<IngestSummary> {
  const { s3, config, logger } = deps
  if (!isIncomingCsv(source.key, config.incomingPrefix)) {
    return skipped(`not a .csv object under ${config.incomingPrefix}`)
  }
  const version = await retryable(() => headObject(s3, source.bucket, source.key))
  if (version === undefined) return skipped('source object no longer exists')
  if (
    (source.etag && source.etag !== version.etag) ||
    (source.versionId && source.versionId !== version.versionId)
  ) {
    return skipped('superseded: the key holds a newer upload, which has its own event')
  }
  const keys = outputKeysFor(version.key, config.incomingPrefix, version.lastModified)
  const previous = await readManifest(deps, keys.manifest)
  const sourceRef = describeVersion(version)
  if (previous && previous.source.etag === version.etag && previous.source.versionId === version.versionId) {
    logger.info('already processed; outputs unchanged', { outputs: previous.outputs })
    return {
      status: 'already_processed',
      reason: 'this object version was processed before',
      source: sourceRef,
      threshold_breached: false,
      outputs: outputsOf(config, previous.outputs),
    }
  }

  const report = await transform(version, keys, deps)
  recordMetrics(deps.metrics, report)
  const breached = report.status === 'threshold_breached'
  if (!breached)
    await publishManifest(
      deps,
      { source: sourceRef, outputs: keys, processed_at: report.finished_at },
      previous,
    )

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
      `${reasons.join('; ')}: s3://${config.processedBucket}/${keys.report} written, Parquet not published`,
    )
  }
  return summary
}

/** Runs the transform from S3 to S3 and publishes its outputs (the Parquet only on success). */
async function transform(version: ObjectVersion, keys: OutputKeys, deps: ProcessDeps): Promise<DqReport> {
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
  let report: DqReport
  try {
    report = await ingest({
      listings: objectSource(s3, version),
      lookup: objectSource(s3, lookup),
      parquet,
      rejected,
      nullMarkers: config.nullMarkers,
      thresholds: thresholdsFrom(config),
      rowGroupSize: config.rowGroupSize,
    })
  } catch (error) {
    await Promise.all([parquet.discard(), rejected.discard()])
    throw classify(error)
  }
  const published = report.status === 'succeeded'
  await retryable(async () => {
    await rejected.publish()
    if (published) await parquet.publish()
    else await parquet.discard()
  })
  const withLocations = {
    ...report,
    source: describeVersion(version),
    output: {
      parquet: { ...report.output.parquet, path: `s3://${config.processedBucket}/${keys.parquet}` },
      rejected: { ...report.output.rejected, path: `s3://${config.processedBucket}/${keys.rejected}` },
    },
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
  return report
}

async function readManifest(deps: ProcessDeps, key: string): Promise<Manifest | undefined> {
  const text = await retryable(() => getSmallObject(deps.s3, deps.config.processedBucket, key))
  if (text === undefined) return undefined
  try {
    return JSON.parse(text) as Manifest
  } catch {
    deps.logger.warn('unreadable manifest ignored', { key })
    return undefined
  }
}

/**
 * Records the new outputs, then deletes what an earlier version of the same
 * source key published under other keys (another `dt=`), so a re-uploaded file
 * replaces its data instead of adding to it.
 */
async function publishManifest(
  deps: ProcessDeps,
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
        key: manifest.outputs.manifest,
        body: JSON.stringify(manifest),
        contentType: 'application/json',
      },
      write,
    ),
  )
  if (previous === undefined) return
  const current = new Set(Object.values(manifest.outputs))
  for (const stale of Object.values(previous.outputs).filter((key) => !current.has(key))) {
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

/** Maps a failure inside the transform to the error the state machine acts on. */
function classify(error: unknown): unknown {
  if (error instanceof InputError) return new InvalidInputError(error.message)
  if (isPreconditionFailed(error)) {
    return new TransientError(
      'the source object changed during the run; retrying reads the new version state',
    )
  }
  if (isNotFound(error))
    return new ConfigurationError(`an input disappeared during the run: ${String(error)}`)
  if (isTransient(error)) return new TransientError(errorMessage(error))
  return error
}

/** Runs an S3 call, turning retryable failures into {@link TransientError}. */
async function retryable<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    throw isTransient(error) ? new TransientError(errorMessage(error)) : error
  }
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

function describeVersion(version: ObjectVersion): NonNullable<IngestSummary['source']> {
  return {
    bucket: version.bucket,
    key: version.key,
    etag: version.etag,
    ...(version.versionId ? { versionId: version.versionId } : {}),
  }
}

function outputsOf(config: IngestConfig, keys: OutputKeys): NonNullable<IngestSummary['outputs']> {
  return {
    bucket: config.processedBucket,
    parquet: keys.parquet,
    rejected: keys.rejected,
    report: keys.report,
  }
}

import type { Logger } from '@aws-lambda-powertools/logger'
import type { Metrics } from '@aws-lambda-powertools/metrics'
import type { S3Client } from '@aws-sdk/client-s3'
import { ingest } from '../../../shared/src/ingest.js'
import { breachReasons, runCounts, type SourceVersion } from '../../../shared/src/published-report.js'
import type { DqReport } from '../../../shared/src/report.js'
import { thresholdsFrom } from '../../../shared/src/report.js'
import type { IngestConfig } from './config.js'
import { recordMetrics } from './dq-metrics.js'
import { classify, readFailuresNamed, retryable, SOURCE_DELETED } from './error-classification.js'
import { ConfigurationError, DataQualityThresholdError, InvalidInputError } from './errors.js'
import type { SourceObject } from './event.js'
import { isIncomingCsv } from './incoming-keys.js'
import { type IngestSummary, type ProcessedSummary, skipped, summaryOutputs } from './ingest-summary.js'
import { type Manifest, wasProcessed } from './live-version.js'
import { type ProcessedBucket, readManifest } from './manifest-store.js'
import { type OutputKeys, outputKeysFor, overlongOutputKey } from './output-keys.js'
import { publishOutputs } from './publish-outputs.js'
import { headObject, type ObjectVersion, objectSource, S3UploadSink } from './s3-io.js'
import { MAX_S3_KEY_BYTES } from './s3-uri.js'

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
  const previous = await readManifest(processedBucket(deps), keys.manifest)
  const sourceRef = describeVersion(version)
  if (wasProcessed(previous, sourceRef)) {
    logger.info('already processed; outputs unchanged', { live: previous?.live })
    return {
      status: 'already_processed',
      reason: 'this object version was processed before',
      source: sourceRef,
      threshold_breached: false,
      outputs: summaryOutputs(config.processedBucket, keys),
    }
  }

  const outcome = await transform(version, keys, previous, deps)
  if (outcome.kind === 'skipped') return { ...skipped(outcome.reason), source: sourceRef }
  const { report } = outcome
  const breached = report.status === 'threshold_breached'
  const summary: ProcessedSummary = {
    status: 'processed',
    source: sourceRef,
    counts: runCounts(report),
    threshold_breached: breached,
    outputs: summaryOutputs(config.processedBucket, keys),
  }
  logger.info(breached ? 'data-quality threshold breached' : 'ingest succeeded', { summary })
  if (breached) {
    throw new DataQualityThresholdError(
      `${breachReasons(report.thresholds.breaches)}: s3://${config.processedBucket}/${keys.report} written, Parquet not published` +
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
  const metadata: Record<string, string> = {
    'source-etag': version.etag,
    ...(version.versionId ? { 'source-version-id': version.versionId } : {}),
  }
  const at = processedBucket(deps)
  const upload = (key: string, contentType: string) =>
    new S3UploadSink(s3, { bucket: at.bucket, metadata, key, contentType }, at.write)
  const sinks = {
    parquet: upload(keys.parquet, 'application/vnd.apache.parquet'),
    rejected: upload(keys.rejected, 'text/csv; charset=utf-8'),
  }
  const discardAll = () => Promise.all([sinks.parquet.discard(), sinks.rejected.discard()])
  let report: DqReport
  try {
    report = await ingest({
      listings: readFailuresNamed('listings', objectSource(s3, version)),
      lookup: readFailuresNamed('lookup', objectSource(s3, lookup)),
      parquet: sinks.parquet,
      rejected: sinks.rejected,
      nullMarkers: config.nullMarkers,
      thresholds: thresholdsFrom(config),
      rowGroupSize: config.rowGroupSize,
      memoryBudgetBytes: config.memoryBudgetBytes,
      ...(deps.parquetWorker ? { parquetWorker: deps.parquetWorker } : {}),
    })
  } catch (error) {
    await discardAll()
    const outcome = classify(error, config.lookup)
    if (outcome === SOURCE_DELETED) return { kind: 'skipped', reason: DELETED_DURING_RUN }
    throw outcome
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
  await publishOutputs(at, { report, source: describeVersion(version), keys, previous, sinks, metadata })
  return { kind: 'report', report }
}

function processedBucket(deps: ProcessDeps): ProcessedBucket {
  const { s3, config, logger } = deps
  return {
    s3,
    bucket: config.processedBucket,
    write: config.kmsKeyArn ? { kmsKeyArn: config.kmsKeyArn } : {},
    logger,
  }
}

function describeVersion(version: ObjectVersion): SourceVersion {
  return {
    bucket: version.bucket,
    key: version.key,
    etag: version.etag,
    ...(version.versionId ? { versionId: version.versionId } : {}),
    // The current table's source order starts with it (MERGE_INPUT in infra/src/current-table-states.ts).
    last_modified: version.lastModified.toISOString(),
  }
}

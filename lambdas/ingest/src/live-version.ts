import type { OutputLocations, SourceVersion } from '../../../shared/src/published-report.js'
import type { DqReport } from '../../../shared/src/report.js'
import { type OutputKeys, reportHtmlKey } from './output-keys.js'

/**
 * Which version of a source's data is live, and what a run records about it.
 *
 * The rule: only a run that passes every threshold publishes Parquet, and a
 * breach never removes or replaces published Parquet. After a breach the
 * previous good version's Parquet stays live; the breached version's report
 * and rejects are published for the user to act on. The manifest, one per
 * source key, records both:
 *
 * - `live`: the version whose Parquet is published, its Parquet key, rows,
 *   bytes and hash, and its rejects, report and report page keys (each `null`
 *   once a later attempt's own were written to the same key, that is, the
 *   same source key on the same day); `null` when no version ever passed.
 * - `last_attempt`: the latest version processed, its status (`succeeded` or
 *   `threshold_breached`) and its rejects, report and report page keys.
 *
 * The report page (`report_html`, the HTML beside the JSON report) is `null`
 * in records written before pages existed: there is no page to delete.
 *
 * The report of a breached run says what is live, in `output.parquet`:
 * `{ published: false, live: <s3:// path of the live Parquet, or null>,
 * live_source_version: <its etag and versionId, or null> }`. A run that passes
 * replaces `live`, and every key the old manifest named and the new one does
 * not is deleted.
 */

/** The version whose Parquet is published. */
export interface LiveOutputs {
  source: SourceVersion
  parquet: string
  /** Its rejects, or `null` once a later attempt's rejects were written to the same key. */
  rejected: string | null
  /** Its report, or `null` once a later attempt's report was written to the same key. */
  report: string | null
  /** Its report's HTML page; `null` like `report`, or when the record predates pages. */
  report_html: string | null
  /** Parquet rows, bytes and SHA-256; `null` when migrated from a version-1 manifest, which did not record them. */
  rows: number | null
  bytes: number | null
  sha256: string | null
  published_at: string
}

/** The latest version processed, whatever its outcome. */
export interface AttemptRecord {
  source: SourceVersion
  status: DqReport['status']
  rejected: string
  report: string
  /** The report's HTML page; `null` when the record predates pages. */
  report_html: string | null
  finished_at: string
}

/** The record, per source key, of which version's data is live and what was tried last. */
export interface Manifest {
  manifest_version: 2
  live: LiveOutputs | null
  last_attempt: AttemptRecord
}

/** The manifest written before `live` and `last_attempt` existed: always a version that passed. */
interface ManifestV1 {
  source: SourceVersion
  outputs: OutputKeys
  processed_at: string
}

/**
 * Reads a manifest, version 1 (`{ source, outputs, processed_at }`) or 2.
 *
 * @returns the manifest, or `undefined` when the text is not one
 */
export function parseManifest(text: string): Manifest | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null) return undefined
  const candidate = value as Partial<Manifest & ManifestV1>
  if (candidate.manifest_version === 2 && candidate.last_attempt?.source)
    return withPageKeys(candidate as Manifest)
  if (candidate.source?.etag === undefined || candidate.outputs?.parquet === undefined) return undefined
  const { source, outputs, processed_at } = candidate as ManifestV1
  return {
    manifest_version: 2,
    live: {
      source,
      parquet: outputs.parquet,
      rejected: outputs.rejected,
      report: outputs.report,
      report_html: null,
      rows: null,
      bytes: null,
      sha256: null,
      published_at: processed_at,
    },
    last_attempt: {
      source,
      status: 'succeeded',
      rejected: outputs.rejected,
      report: outputs.report,
      report_html: null,
      finished_at: processed_at,
    },
  }
}

/** A version-2 manifest written before report pages existed has no `report_html`: none to delete. */
function withPageKeys(manifest: Manifest): Manifest {
  return {
    ...manifest,
    live: manifest.live && { ...manifest.live, report_html: manifest.live.report_html ?? null },
    last_attempt: { ...manifest.last_attempt, report_html: manifest.last_attempt.report_html ?? null },
  }
}

/** Whether two records name the same object version. */
function isSameVersion(a: SourceVersion, b: SourceVersion): boolean {
  return a.bucket === b.bucket && a.key === b.key && a.etag === b.etag && a.versionId === b.versionId
}

/** Whether this version's last attempt succeeded: a repeated event then changes nothing. */
export function wasProcessed(manifest: Manifest | undefined, source: SourceVersion): boolean {
  return manifest?.last_attempt.status === 'succeeded' && isSameVersion(manifest.last_attempt.source, source)
}

/**
 * The manifest after a run: a run that passed becomes `live`; a breach keeps
 * the previous `live`, marking its rejects and report gone where the breach
 * wrote to the same keys.
 */
export function nextManifest(
  previous: Manifest | undefined,
  run: { source: SourceVersion; keys: OutputKeys; report: DqReport },
): Manifest {
  const { source, keys, report } = run
  const page = reportHtmlKey(keys.report)
  const last_attempt: AttemptRecord = {
    source,
    status: report.status,
    rejected: keys.rejected,
    report: keys.report,
    report_html: page,
    finished_at: report.finished_at,
  }
  if (report.status === 'succeeded') {
    const { bytes, sha256, rows } = report.output.parquet
    const live: LiveOutputs = {
      source,
      parquet: keys.parquet,
      rejected: keys.rejected,
      report: keys.report,
      report_html: page,
      rows,
      bytes,
      sha256,
      published_at: report.finished_at,
    }
    return { manifest_version: 2, live, last_attempt }
  }
  const kept = previous?.live ?? null
  const live = kept && {
    ...kept,
    rejected: kept.rejected === keys.rejected ? null : kept.rejected,
    report: kept.report === keys.report ? null : kept.report,
    report_html: kept.report_html === page ? null : kept.report_html,
  }
  return { manifest_version: 2, live, last_attempt }
}

/** Every processed-bucket key a manifest vouches for (the manifest's own key aside). */
export function referencedKeys(manifest: Manifest): Set<string> {
  const { last_attempt, live } = manifest
  const keys = [last_attempt.rejected, last_attempt.report, last_attempt.report_html ?? '']
  if (live) keys.push(live.parquet, live.rejected ?? '', live.report ?? '', live.report_html ?? '')
  return new Set(keys.filter((key) => key !== ''))
}

/** The keys the previous manifest vouched for that the next one does not: outputs to delete. */
export function staleKeys(previous: Manifest | undefined, next: Manifest): string[] {
  if (previous === undefined) return []
  const kept = referencedKeys(next)
  return [...referencedKeys(previous)].filter((key) => !kept.has(key))
}

/**
 * Where a run's outputs are on S3, as its report names them: this run's
 * Parquet and rejects, and the Parquet that stays live (with the source
 * version it came from) should the run breach.
 *
 * @param manifest - the manifest this run writes ({@link nextManifest})
 */
export function reportLocations(keys: OutputKeys, bucket: string, manifest: Manifest): OutputLocations {
  const live = manifest.live
  return {
    parquet: `s3://${bucket}/${keys.parquet}`,
    rejected: `s3://${bucket}/${keys.rejected}`,
    live: live ? `s3://${bucket}/${live.parquet}` : null,
    liveSourceVersion: live
      ? { etag: live.source.etag, ...(live.source.versionId ? { versionId: live.source.versionId } : {}) }
      : null,
  }
}

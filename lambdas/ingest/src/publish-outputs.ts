import { publishedReport, type SourceVersion } from '../../../shared/src/published-report.js'
import type { DqReport } from '../../../shared/src/report.js'
import { renderDqReportHtml } from '../../../shared/src/report-html.js'
import { retryable } from './error-classification.js'
import { type Manifest, nextManifest, reportLocations } from './live-version.js'
import { type ProcessedBucket, publishManifest } from './manifest-store.js'
import { type OutputKeys, reportHtmlKey } from './output-keys.js'
import { putSmallObject, type S3UploadSink } from './s3-io.js'

/**
 * Publishing one finished run to the processed bucket, in the order that
 * keeps readers safe: the rejects, the Parquet only when the run passed
 * (discarded after a breach), the JSON report, its HTML page, and last the
 * manifest, which then deletes what it no longer names. A failure part-way
 * leaves the previous manifest in charge, so a retry starts over cleanly.
 */

/** One run's outputs, ready to publish. */
export interface FinishedRun {
  report: DqReport
  source: SourceVersion
  keys: OutputKeys
  /** The manifest before this run, or `undefined` for the first run of the key. */
  previous: Manifest | undefined
  /** The uploads the transform wrote, not yet visible. */
  sinks: { parquet: S3UploadSink; rejected: S3UploadSink }
  /** User metadata on every output (the source's ETag and version). */
  metadata: Record<string, string>
}

/** Publishes the run's outputs, then its manifest (see the module comment for the order). */
export async function publishOutputs(at: ProcessedBucket, run: FinishedRun): Promise<void> {
  const { report, source, keys, previous, sinks, metadata } = run
  const manifest = nextManifest(previous, { source, keys, report })
  await retryable(async () => {
    await sinks.rejected.publish()
    if (report.status === 'succeeded') await sinks.parquet.publish()
    else await sinks.parquet.discard()
  })
  const published = { ...publishedReport(report, reportLocations(keys, at.bucket, manifest)), source }
  const put = (key: string, body: string, contentType: string) =>
    retryable(() => putSmallObject(at.s3, { bucket: at.bucket, metadata, key, body, contentType }, at.write))
  await put(keys.report, `${JSON.stringify(published, null, 2)}\n`, 'application/json')
  // The same report as a page for people; the rejects' s3:// URI is shown as text (a browser cannot open it).
  const page = renderDqReportHtml(published, {
    rejected: published.output.rejected.path,
    report: `s3://${at.bucket}/${keys.report}`,
  })
  await put(reportHtmlKey(keys.report), page, 'text/html; charset=utf-8')
  await publishManifest(at, keys.manifest, manifest, previous)
}

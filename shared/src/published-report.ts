import type { DqReport, ThresholdBreach } from './report.js'

/**
 * The report as it is published, one assembly for the CLI and the Lambda:
 * the transform's {@link DqReport} plus where each output went (and, after a
 * breach, which Parquet readers still find instead of this run's), the
 * counts both adapters repeat in their summaries, and the one-line text of a
 * breach. Pure: each adapter says where its outputs are (paths or `s3://`
 * URIs) and writes the result itself.
 */

/** Which version of a source the live Parquet came from (the Lambda's manifest records it). */
export interface LiveSourceVersion {
  etag: string
  versionId?: string
}

/**
 * What the published report says about the Parquet: this run's file, with
 * its path first, or after a breach none of the withheld file (no path, size
 * or hash), only which Parquet is live instead.
 */
export type PublishedParquet =
  | ({ published: true; path: string } & Omit<DqReport['output']['parquet'], 'published'>)
  | {
      published: false
      /** The Parquet still published from an earlier run, or `null` when there is none. */
      live: string | null
      /** Where it came from, when the adapter knows (the Lambda); absent otherwise. */
      live_source_version?: LiveSourceVersion | null
    }

/** The object version a run read: the S3 source of a Lambda's report. */
export interface SourceVersion {
  bucket: string
  key: string
  etag: string
  versionId?: string
  /** The source's Last-Modified (ISO-8601): the first key of the current table's source order; absent in older manifests. */
  last_modified?: string
}

/** The contents of the published dq_report.json. */
export interface PublishedReport extends Omit<DqReport, 'output'> {
  /**
   * The source object version the run read (the Lambda's reports).
   * @default undefined (the CLI's reports, whose input is described by `input`)
   */
  source?: SourceVersion
  output: {
    /** The run the outputs were published from (the CLI's run directory). */
    run_id?: string
    parquet: PublishedParquet
    rejected: DqReport['output']['rejected'] & { path: string }
  }
}

/** Where one run's outputs are, as the report names them (paths or `s3://` URIs). */
export interface OutputLocations {
  /**
   * The run's id, written as `output.run_id`.
   * @default undefined (no `run_id`: the Lambda's outputs have none)
   */
  runId?: string
  /** Where this run's Parquet is published when the run passes. */
  parquet: string
  /** Where the rejected rows are published. */
  rejected: string
  /** After a breach, the Parquet readers still find, or `null` when none is published. */
  live: string | null
  /**
   * After a breach, the source version {@link OutputLocations.live} came from.
   * @default undefined (not stated in the report)
   */
  liveSourceVersion?: LiveSourceVersion | null
}

/**
 * The report as published. A run that passed names the Parquet it published
 * (`published`, `path`, then rows, row groups, compression, bytes, SHA-256);
 * a breached run withheld its Parquet, so the report names only what is live.
 * Keys come in a fixed order, so every adapter writes the same JSON.
 */
export function publishedReport(
  report: DqReport,
  at: OutputLocations & { runId: string },
): PublishedReport & {
  output: { run_id: string }
}
export function publishedReport(report: DqReport, at: OutputLocations): PublishedReport
export function publishedReport(report: DqReport, at: OutputLocations): PublishedReport {
  const { published: _published, ...facts } = report.output.parquet
  const parquet: PublishedParquet =
    report.status === 'succeeded'
      ? { published: true, path: at.parquet, ...facts }
      : {
          published: false,
          live: at.live,
          ...(at.liveSourceVersion === undefined ? {} : { live_source_version: at.liveSourceVersion }),
        }
  return {
    ...report,
    output: {
      ...(at.runId === undefined ? {} : { run_id: at.runId }),
      parquet,
      rejected: { ...report.output.rejected, path: at.rejected },
    },
  }
}

/** The row counts a run's summary carries (the Lambda's result, the CLI's log line). */
export type RunCounts = Pick<
  DqReport,
  | 'source_rows'
  | 'valid_rows_after_clean'
  | 'rows_after_dedup'
  | 'dropped_missing_required'
  | 'dropped_non_positive_price'
  | 'duplicates_removed'
  | 'rows_without_segment'
>

/** The report's {@link RunCounts}, in that order. */
export function runCounts(report: DqReport): RunCounts {
  return {
    source_rows: report.source_rows,
    valid_rows_after_clean: report.valid_rows_after_clean,
    rows_after_dedup: report.rows_after_dedup,
    dropped_missing_required: report.dropped_missing_required,
    dropped_non_positive_price: report.dropped_non_positive_price,
    duplicates_removed: report.duplicates_removed,
    rows_without_segment: report.rows_without_segment,
  }
}

/**
 * The breaches as one line: `max_rejected_ratio 0.0975 > 0.01`, the actual
 * ratio to four decimals, several joined by `; `.
 */
export function breachReasons(breaches: readonly ThresholdBreach[]): string {
  return breaches
    .map((breach) => `${breach.threshold} ${breach.actual.toFixed(4)} > ${breach.limit}`)
    .join('; ')
}

import type { RunCounts, SourceVersion } from '../../../shared/src/published-report.js'
import { type OutputKeys, reportHtmlKey } from './output-keys.js'

/**
 * What the handler returns to the state machine, one shape per `status`.
 * The ingest state machine chooses on `$.status` and
 * `$.counts.rows_after_dedup` (infra/src/ingest-definition.ts) and merges a
 * processed file into the current table from `$.source` and `$.outputs`
 * (infra/src/current-table-states.ts); the large-file task turns a summary
 * into its exit code (task.ts). The JSON is that contract: change it with them.
 */

/** The keys of one processed file's outputs, as the summary names them. */
export type SummaryOutputs = { bucket: string } & Omit<OutputKeys, 'manifest'> & { report_html: string }

/** The fields of the other variants, absent from this one (so reading them needs no narrowing). */
type Absent<Field extends string> = { [Name in Field]?: never }

/** The object was processed: its counts and outputs. */
export interface ProcessedSummary extends Absent<'reason'> {
  status: 'processed'
  source: SourceVersion
  counts: RunCounts
  /** True only in the log line before the error a breach raises; a returned summary never breached. */
  threshold_breached: boolean
  outputs: SummaryOutputs
}

/** A repeated event: this version was processed before, and its outputs stand. */
export interface AlreadyProcessedSummary extends Absent<'counts'> {
  status: 'already_processed'
  reason: string
  source: SourceVersion
  threshold_breached: false
  outputs: SummaryOutputs
}

/** Nothing to do, and nothing published: not an incoming CSV, deleted, or superseded. */
export interface SkippedSummary extends Absent<'counts' | 'outputs'> {
  status: 'skipped'
  reason: string
  /** The version that was skipped, when the skip came after reading it. */
  source?: SourceVersion
  threshold_breached: false
}

/** What the handler returns to the state machine, told apart by `status`. */
export type IngestSummary = ProcessedSummary | AlreadyProcessedSummary | SkippedSummary

/** A summary of nothing done, for `reason`. */
export function skipped(reason: string): SkippedSummary {
  return { status: 'skipped', reason, threshold_breached: false }
}

/** Where one processed file's outputs are, as its summary names them (the manifest aside). */
export function summaryOutputs(bucket: string, keys: OutputKeys): SummaryOutputs {
  return {
    bucket,
    parquet: keys.parquet,
    rejected: keys.rejected,
    report: keys.report,
    report_html: reportHtmlKey(keys.report),
  }
}

import type { RejectReason } from '../../shared/src/index.js'
import { bucketOf, REJECT_REASONS } from '../../shared/src/index.js'
import type { PublishedReport } from '../../shared/src/published-report.js'

/** How one listings file's run ended. */
export interface FileOutcome {
  /** The listings file, as given. */
  listings: string
  /** The folder its outputs are published in. */
  out: string
  exitCode: number
  /** The published report's path, when the run published one. */
  reportPath?: string
  /** The published report, when the run published one. */
  report?: PublishedReport
  /** The one line the run failed with, when it did. */
  error?: string
}

/** How many unmatched categories the summary names. */
const CATEGORIES_NAMED = 3

/**
 * A plain account of one finished run, for a person at a terminal: rows
 * read, written, rejected (by bucket and reason), duplicates, rows without a
 * segment, and where each output is. Lines longer than `width - 1` are
 * wrapped at spaces, continuing under their own indentation.
 *
 * @param outcome - a run that published its report
 * @param width - the terminal's columns
 */
export function summaryLines(outcome: FileOutcome & { report: PublishedReport }, width = 80): string[] {
  const { report, listings } = outcome
  const took = elapsed(report.timings_ms.total)
  const breached = report.status === 'threshold_breached'
  const count = counter([report.source_rows, report.rows_after_dedup, report.rejected_rows])
  const parquet = report.output.parquet
  const unmatchedRows = report.rows_without_segment - report.rows_with_empty_segment
  const lines = [
    breached
      ? `listings-ingest: ${listings}: data-quality threshold breached (${took})`
      : `listings-ingest: ${listings}: done in ${took}`,
    `  ${count(report.source_rows)} rows read`,
    parquet.published
      ? `  ${count(report.rows_after_dedup)} written to ${parquet.path}`
      : `  ${count(report.rows_after_dedup)} kept, but not published: ${
          parquet.live === null
            ? 'no Parquet is published'
            : `${parquet.live} still holds an earlier run's data`
        }`,
    `  ${count(report.rejected_rows)} rejected${report.rejected_rows > 0 ? `, listed in ${report.output.rejected.path}` : ''}`,
  ]
  for (const bucket of ['dropped_missing_required', 'dropped_non_positive_price'] as const) {
    const reasons = REJECT_REASONS.filter(
      (reason) => bucketOf(reason) === bucket && report.reasons[reason] > 0,
    )
    if (reasons.length === 0) continue
    lines.push(
      `  ${count(0, ' ')}  ${report[bucket].toLocaleString('en-GB')} ${bucket}: ${detail(report.reasons, reasons)}`,
    )
  }
  lines.push(
    `  ${count(report.duplicates_removed)} duplicates removed (same date and item_id; the last is kept)`,
  )
  lines.push(`  ${count(report.rows_without_segment)} without a segment`)
  if (unmatchedRows > 0)
    lines.push(`  ${count(0, ' ')}  ${unmatchedRows.toLocaleString('en-GB')} ${unmatched(report)}`)
  if (report.rows_with_empty_segment > 0)
    lines.push(
      `  ${count(0, ' ')}  ${report.rows_with_empty_segment.toLocaleString('en-GB')} with an empty segment in the lookup`,
    )
  lines.push(`  report: ${outcome.reportPath ?? 'dq_report.json'}`)
  return lines.flatMap((line) => wrap(line, width - 1))
}

/** Breaks a line at spaces to at most `room` characters; a word longer than that stands alone. */
export function wrap(line: string, room: number): string[] {
  if (line.length <= room) return [line]
  const indent = `${/^ */.exec(line)?.[0] ?? ''}    `
  const words = line.trimStart().split(' ')
  const lines: string[] = []
  let current = line.slice(0, line.length - line.trimStart().length)
  let empty = true
  for (const word of words) {
    if (!empty && current.length + 1 + word.length > room) {
      lines.push(current)
      current = indent
      empty = true
    }
    current += empty ? word : ` ${word}`
    empty = false
  }
  lines.push(current)
  return lines
}

/** `85 ms` under a second, else `1.2 s`. */
function elapsed(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`
}

/** Right-aligns counts to the widest of `values`. */
function counter(values: number[]): (value: number, fill?: string) => string {
  const width = Math.max(...values.map((value) => value.toLocaleString('en-GB').length))
  return (value, fill) =>
    fill === undefined ? value.toLocaleString('en-GB').padStart(width) : fill.repeat(width)
}

function detail(counts: Record<RejectReason, number>, reasons: RejectReason[]): string {
  return reasons.map((reason) => `${reason} ${counts[reason].toLocaleString('en-GB')}`).join(', ')
}

function unmatched(report: PublishedReport): string {
  const categories = report.unmatched_category_count
  const named = report.unmatched_categories
    .slice(0, CATEGORIES_NAMED)
    .map(({ category, rows }) => `${JSON.stringify(category)} ${rows.toLocaleString('en-GB')}`)
  const more = categories > named.length ? ', ...' : ''
  return `in ${categories.toLocaleString('en-GB')} ${categories === 1 ? 'category' : 'categories'} not in the lookup: ${named.join(', ')}${more}`
}

/**
 * The exit code of a run of several files: the worst of theirs. An
 * unexpected failure (1) is the worst, as it may hide anything; then unusable
 * input (2), which published nothing for that file; then a breach (3), which
 * published its report; then success (0).
 */
export function worstExitCode(codes: readonly number[]): number {
  const severity = (code: number) => [0, 3, 2, 1].indexOf(code)
  return codes.reduce((worst, code) => (severity(code) > severity(worst) ? code : worst), 0)
}

/** The closing line of a run of several files. */
export function batchLine(outcomes: readonly FileOutcome[], skipped: number, exitCode: number): string {
  const tally = (code: number) => outcomes.filter((outcome) => outcome.exitCode === code).length
  const parts = [
    `${tally(0)} succeeded`,
    tally(3) > 0 ? `${tally(3)} breached a data-quality threshold` : undefined,
    tally(2) + tally(1) > 0 ? `${tally(2) + tally(1)} failed` : undefined,
    skipped > 0 ? `${skipped} not attempted` : undefined,
  ].filter((part) => part !== undefined)
  const files = outcomes.length + skipped
  return `listings-ingest: ${files} files: ${parts.join(', ')}; exit code ${exitCode}`
}

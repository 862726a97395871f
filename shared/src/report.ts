/**
 * The data-quality report: its layout (dq_report.json), the thresholds it is
 * checked against, and {@link buildDqReport}, which assembles it from what a
 * run counted. The bucket totals are derived from the per-reason counts
 * through the contract's reason-to-bucket map, never counted twice.
 */
import type { ByteDigest } from './byte-streams.js'
import type { ListingColumn, RejectBucket, RejectReason } from './contract.js'
import { bucketTotals, REJECT_BUCKETS, REPORT_SCHEMA_VERSION } from './contract.js'
import type { LookupStats } from './lookup.js'
import type { ParquetSummary } from './parquet.js'

/** Data-quality limits; a run that exceeds one fails with exit code 3. */
export interface Thresholds {
  /**
   * Largest allowed share of source rows that are rejected, from 0 to 1.
   * @default undefined (no limit)
   */
  maxRejectedRatio?: number
  /**
   * Largest allowed share of output rows with no segment, from 0 to 1.
   * @default undefined (no limit)
   */
  maxUnmatchedSegmentRatio?: number
}

/**
 * Thresholds from optional settings, leaving out the ones not set (the CLI's
 * flags and the Lambda's environment both give `undefined` for "no limit").
 */
export function thresholdsFrom(limits: {
  maxRejectedRatio?: number | undefined
  maxUnmatchedSegmentRatio?: number | undefined
}): Thresholds {
  const thresholds: Thresholds = {}
  if (limits.maxRejectedRatio !== undefined) thresholds.maxRejectedRatio = limits.maxRejectedRatio
  if (limits.maxUnmatchedSegmentRatio !== undefined)
    thresholds.maxUnmatchedSegmentRatio = limits.maxUnmatchedSegmentRatio
  return thresholds
}

/** A limit the run exceeded. */
export interface ThresholdBreach {
  threshold: 'max_rejected_ratio' | 'max_unmatched_segment_ratio'
  limit: number
  actual: number
}

/** One category that had no entry in the lookup, and how many output rows carry it. */
export interface UnmatchedCategory {
  category: string
  rows: number
}

/**
 * The contents of dq_report.json. Besides the members below it has one count
 * per rejection bucket (`dropped_missing_required`,
 * `dropped_non_positive_price`), right after `rows_after_dedup`.
 */
export interface DqReport extends Record<RejectBucket, number> {
  schema_version: number
  /** `succeeded`, or `threshold_breached` when the Parquet was withheld. */
  status: 'succeeded' | 'threshold_breached'
  source_rows: number
  valid_rows_after_clean: number
  rows_after_dedup: number
  /** Valid rows dropped because a later row had the same (date, item_id). */
  duplicates_removed: number
  /** Output rows whose segment is null (no lookup entry, or an empty segment). */
  rows_without_segment: number
  /** Rows written to the rejected-rows file; equals the two dropped counts together. */
  rejected_rows: number
  /** Rejections by finer reason; each bucket's count is the sum of its reasons' (see `bucketOf`). */
  reasons: Record<RejectReason, number>
  /** `missing_field` rejections by the first missing column. */
  missing_fields: Record<ListingColumn, number>
  /** `invalid_encoding` rejections by the first column whose bytes are not UTF-8. */
  invalid_encoding_fields: Record<ListingColumn, number>
  ratios: { rejected: number; without_segment: number }
  /** Distinct categories absent from the lookup. */
  unmatched_category_count: number
  /** The most frequent of them (up to 100), most rows first. */
  unmatched_categories: UnmatchedCategory[]
  /** Output rows whose category is in the lookup with an empty segment. */
  rows_with_empty_segment: number
  thresholds: {
    max_rejected_ratio: number | null
    max_unmatched_segment_ratio: number | null
    breaches: ThresholdBreach[]
  }
  null_markers: string[]
  input: {
    listings: ByteDigest & { name: string; columns: string[]; ignored_columns: string[] }
    lookup: LookupStats & { name: string }
  }
  output: {
    parquet: ParquetSummary & ByteDigest & { published: boolean }
    rejected: ByteDigest & { rows: number }
  }
  timings_ms: { lookup: number; classify: number; write: number; total: number }
  started_at: string
  finished_at: string
}

/** How many unmatched categories the report lists by name. */
export const UNMATCHED_CATEGORIES_LISTED = 100

/** `part / whole`, or 0 when there is nothing to divide. */
export function ratio(part: number, whole: number): number {
  return whole === 0 ? 0 : part / whole
}

/**
 * Compares a run's ratios with the limits set. A ratio breaches a limit when
 * it is strictly greater, so a limit of 0 tolerates no rejected row at all.
 */
export function findBreaches(
  ratios: { rejected: number; without_segment: number },
  thresholds: Thresholds,
): ThresholdBreach[] {
  const breaches: ThresholdBreach[] = []
  const { maxRejectedRatio, maxUnmatchedSegmentRatio } = thresholds
  if (maxRejectedRatio !== undefined && ratios.rejected > maxRejectedRatio) {
    breaches.push({ threshold: 'max_rejected_ratio', limit: maxRejectedRatio, actual: ratios.rejected })
  }
  if (maxUnmatchedSegmentRatio !== undefined && ratios.without_segment > maxUnmatchedSegmentRatio) {
    breaches.push({
      threshold: 'max_unmatched_segment_ratio',
      limit: maxUnmatchedSegmentRatio,
      actual: ratios.without_segment,
    })
  }
  return breaches
}

/** The most frequent unmatched categories, most rows first, then by name. */
export function topUnmatched(counts: ReadonlyMap<string, number>, limit: number): UnmatchedCategory[] {
  return [...counts]
    .map(([category, rows]) => ({ category, rows }))
    .sort((a, b) => b.rows - a.rows || (a.category < b.category ? -1 : a.category > b.category ? 1 : 0))
    .slice(0, limit)
}

/** What the classify pass counted: every row, by outcome. */
export interface RowCounts {
  /** Data rows read. */
  sourceRows: number
  /** Rows that passed every check. */
  validRows: number
  /** Rows written to the rejected-rows file. */
  rejectedRows: number
  reasons: Record<RejectReason, number>
  missingFields: Record<ListingColumn, number>
  invalidEncodingFields: Record<ListingColumn, number>
}

/** What one run counted and measured: everything {@link buildDqReport} needs. */
export interface RunFacts {
  counts: RowCounts
  /** The Parquet written: its rows are the rows kept after deduplication. */
  parquet: ParquetSummary
  parquetDigest: ByteDigest
  /** Kept rows whose segment is null (no lookup entry, or an empty segment). */
  rowsWithoutSegment: number
  /** Kept rows whose category is in the lookup with an empty segment. */
  rowsWithEmptySegment: number
  /** Kept rows per category absent from the lookup. */
  unmatched: ReadonlyMap<string, number>
  rejectedDigest: ByteDigest
  thresholds: Thresholds
  nullMarkers: readonly string[]
  listings: { name: string; digest: ByteDigest; columns: string[]; ignoredColumns: string[] }
  lookup: { name: string; stats: LookupStats }
  timings: DqReport['timings_ms']
  startedAt: Date
  finishedAt: Date
}

/**
 * The report of a run: the counts, ratios and threshold verdict, the inputs'
 * and outputs' digests, and timings. A breached threshold withholds the
 * Parquet (`status` and `output.parquet.published` say so).
 */
export function buildDqReport(run: RunFacts): DqReport {
  const { counts } = run
  const dropped = bucketTotals(counts.reasons)
  const ratios = {
    rejected: ratio(
      REJECT_BUCKETS.reduce((rows, bucket) => rows + dropped[bucket], 0),
      counts.sourceRows,
    ),
    without_segment: ratio(run.rowsWithoutSegment, run.parquet.rows),
  }
  const breaches = findBreaches(ratios, run.thresholds)
  return {
    schema_version: REPORT_SCHEMA_VERSION,
    status: breaches.length === 0 ? 'succeeded' : 'threshold_breached',
    source_rows: counts.sourceRows,
    valid_rows_after_clean: counts.validRows,
    rows_after_dedup: run.parquet.rows,
    ...dropped,
    duplicates_removed: counts.validRows - run.parquet.rows,
    rows_without_segment: run.rowsWithoutSegment,
    rejected_rows: counts.rejectedRows,
    reasons: counts.reasons,
    missing_fields: counts.missingFields,
    invalid_encoding_fields: counts.invalidEncodingFields,
    ratios,
    unmatched_category_count: run.unmatched.size,
    unmatched_categories: topUnmatched(run.unmatched, UNMATCHED_CATEGORIES_LISTED),
    rows_with_empty_segment: run.rowsWithEmptySegment,
    thresholds: {
      max_rejected_ratio: run.thresholds.maxRejectedRatio ?? null,
      max_unmatched_segment_ratio: run.thresholds.maxUnmatchedSegmentRatio ?? null,
      breaches,
    },
    null_markers: [...run.nullMarkers],
    input: {
      listings: {
        name: run.listings.name,
        ...run.listings.digest,
        columns: run.listings.columns,
        ignored_columns: run.listings.ignoredColumns,
      },
      lookup: { name: run.lookup.name, ...run.lookup.stats },
    },
    output: {
      parquet: { ...run.parquet, ...run.parquetDigest, published: breaches.length === 0 },
      rejected: { ...run.rejectedDigest, rows: counts.rejectedRows },
    },
    timings_ms: run.timings,
    started_at: run.startedAt.toISOString(),
    finished_at: run.finishedAt.toISOString(),
  }
}

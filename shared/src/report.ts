import type { ByteDigest } from './byte-streams.js'
import type { ListingColumn, RejectReason } from './contract.js'
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

/** The contents of dq_report.json. */
export interface DqReport {
  schema_version: number
  /** `succeeded`, or `threshold_breached` when the Parquet was withheld. */
  status: 'succeeded' | 'threshold_breached'
  source_rows: number
  valid_rows_after_clean: number
  rows_after_dedup: number
  dropped_missing_required: number
  dropped_non_positive_price: number
  /** Valid rows dropped because a later row had the same (date, item_id). */
  duplicates_removed: number
  /** Output rows whose segment is null (no lookup entry, or an empty segment). */
  rows_without_segment: number
  /** Rows written to the rejected-rows file; equals the two dropped counts together. */
  rejected_rows: number
  /** Rejections by finer reason; the first four (see `REJECT_REASONS`) sum to `dropped_missing_required`. */
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

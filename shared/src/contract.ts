/** The columns listings.csv must have, in output order. */
export const LISTING_COLUMNS = ['date', 'seller_id', 'region', 'category', 'item_id', 'price_gbp'] as const

/** A required listings column. */
export type ListingColumn = (typeof LISTING_COLUMNS)[number]

/** The columns category_lookup.csv must have. */
export const LOOKUP_COLUMNS = ['category', 'segment'] as const

/** A required lookup column. */
export type LookupColumn = (typeof LOOKUP_COLUMNS)[number]

/**
 * The two rejection buckets of the contract, in report order; every rejected
 * row is in exactly one.
 */
export const REJECT_BUCKETS = ['dropped_missing_required', 'dropped_non_positive_price'] as const

/** A rejection bucket: a count the report gives under this name. */
export type RejectBucket = (typeof REJECT_BUCKETS)[number]

/**
 * Every reason a row is rejected for, in the order the checks run; the first
 * that fails decides: the row's shape (more fields than the header), then a
 * required field that is empty or absent, then a required field whose bytes
 * are not UTF-8, then the date, then the price.
 */
export const REJECT_REASONS = [
  'too_many_fields',
  'missing_field',
  'invalid_encoding',
  'invalid_date',
  'non_numeric_price',
  'non_finite_price',
  'non_positive_price',
] as const

/** The finer reason behind a rejection; {@link bucketOf} gives its bucket. */
export type RejectReason = (typeof REJECT_REASONS)[number]

/** The bucket of each reason: the one place the contract's reason-to-bucket mapping is stated. */
const BUCKET_OF: Readonly<Record<RejectReason, RejectBucket>> = {
  too_many_fields: 'dropped_missing_required',
  missing_field: 'dropped_missing_required',
  invalid_encoding: 'dropped_missing_required',
  invalid_date: 'dropped_missing_required',
  non_numeric_price: 'dropped_non_positive_price',
  non_finite_price: 'dropped_non_positive_price',
  non_positive_price: 'dropped_non_positive_price',
}

/** The bucket a reason belongs to. */
export function bucketOf(reason: RejectReason): RejectBucket {
  return BUCKET_OF[reason]
}

/**
 * The bucket totals of per-reason counts, keyed in {@link REJECT_BUCKETS}
 * order: each reason's count added to its bucket's.
 */
export function bucketTotals(reasons: Readonly<Record<RejectReason, number>>): Record<RejectBucket, number> {
  const totals = Object.fromEntries(REJECT_BUCKETS.map((bucket) => [bucket, 0])) as Record<
    RejectBucket,
    number
  >
  for (const reason of REJECT_REASONS) totals[bucketOf(reason)] += reasons[reason]
  return totals
}

/** Version of the dq_report.json layout; bumped on any incompatible change. */
export const REPORT_SCHEMA_VERSION = 1

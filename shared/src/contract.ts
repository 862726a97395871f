/** The columns listings.csv must have, in output order. */
export const LISTING_COLUMNS = ['date', 'seller_id', 'region', 'category', 'item_id', 'price_gbp'] as const

/** A required listings column. */
export type ListingColumn = (typeof LISTING_COLUMNS)[number]

/** The columns category_lookup.csv must have. */
export const LOOKUP_COLUMNS = ['category', 'segment'] as const

/** A required lookup column. */
export type LookupColumn = (typeof LOOKUP_COLUMNS)[number]

/** The two rejection buckets of the contract; every rejected row is in exactly one. */
export type RejectBucket = 'dropped_missing_required' | 'dropped_non_positive_price'

/**
 * The finer reason behind a rejection. The first four fall in
 * `dropped_missing_required`, the last three in `dropped_non_positive_price`.
 */
export type RejectReason =
  | 'too_many_fields'
  | 'missing_field'
  | 'invalid_encoding'
  | 'invalid_date'
  | 'non_numeric_price'
  | 'non_finite_price'
  | 'non_positive_price'

/** The bucket of each reason. */
const BUCKET_OF: Readonly<Record<RejectReason, RejectBucket>> = {
  too_many_fields: 'dropped_missing_required',
  missing_field: 'dropped_missing_required',
  invalid_encoding: 'dropped_missing_required',
  invalid_date: 'dropped_missing_required',
  non_numeric_price: 'dropped_non_positive_price',
  non_finite_price: 'dropped_non_positive_price',
  non_positive_price: 'dropped_non_positive_price',
}

/**
 * Every reason, in the order the checks run; the first that fails decides:
 * the row's shape (more fields than the header), then a required field that is
 * empty or absent, then a required field whose bytes are not UTF-8, then the
 * date, then the price.
 */
export const REJECT_REASONS: readonly RejectReason[] = [
  'too_many_fields',
  'missing_field',
  'invalid_encoding',
  'invalid_date',
  'non_numeric_price',
  'non_finite_price',
  'non_positive_price',
]

/** The bucket a reason belongs to. */
export function bucketOf(reason: RejectReason): RejectBucket {
  return BUCKET_OF[reason]
}

/** Version of the dq_report.json layout; bumped on any incompatible change. */
export const REPORT_SCHEMA_VERSION = 1

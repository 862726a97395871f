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
 * The finer reason behind a rejection. The first three fall in
 * `dropped_missing_required`, the last three in `dropped_non_positive_price`.
 */
export type RejectReason =
  | 'missing_field'
  | 'too_many_fields'
  | 'invalid_date'
  | 'non_numeric_price'
  | 'non_finite_price'
  | 'non_positive_price'

/** Every reason, in the order the checks run. */
export const REJECT_REASONS: readonly RejectReason[] = [
  'missing_field',
  'too_many_fields',
  'invalid_date',
  'non_numeric_price',
  'non_finite_price',
  'non_positive_price',
]

/** The bucket a reason belongs to. */
export function bucketOf(reason: RejectReason): RejectBucket {
  return reason === 'missing_field' || reason === 'too_many_fields' || reason === 'invalid_date'
    ? 'dropped_missing_required'
    : 'dropped_non_positive_price'
}

/** Version of the dq_report.json layout; bumped on any incompatible change. */
export const REPORT_SCHEMA_VERSION = 1

import { describe, expect, it } from 'vitest'
import { bucketOf, bucketTotals, REJECT_BUCKETS, REJECT_REASONS } from '../../shared/src/contract.js'

describe('the reject reasons and their buckets', () => {
  it('puts the shape, missing, encoding and date reasons in dropped_missing_required, the price ones in dropped_non_positive_price', () => {
    expect(REJECT_REASONS.filter((reason) => bucketOf(reason) === 'dropped_missing_required')).toEqual([
      'too_many_fields',
      'missing_field',
      'invalid_encoding',
      'invalid_date',
    ])
    expect(REJECT_REASONS.filter((reason) => bucketOf(reason) === 'dropped_non_positive_price')).toEqual([
      'non_numeric_price',
      'non_finite_price',
      'non_positive_price',
    ])
  })

  it('sums per-reason counts into the buckets, keyed in report order', () => {
    const reasons = Object.fromEntries(REJECT_REASONS.map((reason, i) => [reason, 10 ** i])) as Record<
      (typeof REJECT_REASONS)[number],
      number
    >
    const totals = bucketTotals(reasons)
    expect(Object.keys(totals)).toEqual([...REJECT_BUCKETS])
    expect(totals).toEqual({ dropped_missing_required: 1111, dropped_non_positive_price: 1_110_000 })
  })
})

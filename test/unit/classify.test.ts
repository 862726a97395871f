import { describe, expect, it } from 'vitest'
import { classifyKey, classifyListing, missingValueTest } from '../../shared/src/classify.js'
import { LISTING_COLUMNS } from '../../shared/src/contract.js'
import { arrayFields } from '../../shared/src/csv-records.js'
import { resolveColumns } from '../../shared/src/header.js'

const layout = resolveColumns('l.csv', [...LISTING_COLUMNS, 'notes'], LISTING_COLUMNS)
const isNull = missingValueTest()
const row = (overrides: Partial<Record<(typeof LISTING_COLUMNS)[number] | 'notes', string>> = {}) => {
  const values = {
    date: '2024-03-01',
    seller_id: 'S1',
    region: 'London',
    category: 'Electronics',
    item_id: '007',
    price_gbp: '12.50',
    notes: '',
    ...overrides,
  }
  return [
    values.date,
    values.seller_id,
    values.region,
    values.category,
    values.item_id,
    values.price_gbp,
    values.notes,
  ]
}

describe('classifyListing', () => {
  it('returns a clean listing with trimmed values and parsed date and price', () => {
    const outcome = classifyListing(
      arrayFields(row({ seller_id: '  S1 ', item_id: '\t007 ', price_gbp: ' 1e3 ' })),
      layout,
      isNull,
    )
    expect(outcome).toEqual({
      ok: true,
      listing: {
        date: 19783,
        seller_id: 'S1',
        region: 'London',
        category: 'Electronics',
        item_id: '007',
        price_gbp: 1000,
      },
    })
  })

  it('rejects an empty or whitespace-only required field as missing_field, naming it', () => {
    for (const column of LISTING_COLUMNS) {
      for (const blank of ['', '   ', '\t']) {
        expect(classifyListing(arrayFields(row({ [column]: blank })), layout, isNull)).toEqual({
          ok: false,
          reason: 'missing_field',
          detail: column,
        })
      }
    }
  })

  it('ignores an empty extra column', () => {
    expect(classifyListing(arrayFields(row({ notes: '' })), layout, isNull).ok).toBe(true)
  })

  it('rejects a row with fewer fields when a required field is absent', () => {
    const short = row().slice(0, 5)
    expect(classifyListing(arrayFields(short), layout, isNull)).toEqual({
      ok: false,
      reason: 'missing_field',
      detail: 'price_gbp',
    })
  })

  it('keeps a short row whose only absent fields are extra columns', () => {
    expect(classifyListing(arrayFields(row().slice(0, 6)), layout, isNull).ok).toBe(true)
  })

  it('rejects a row with more fields than the header as too_many_fields', () => {
    expect(classifyListing(arrayFields([...row(), 'surplus']), layout, isNull)).toEqual({
      ok: false,
      reason: 'too_many_fields',
      detail: '8 fields, header has 7',
    })
  })

  it('rejects a bad date as invalid_date in the missing-required bucket', () => {
    for (const date of ['2023-02-29', '2024-1-5', '2024/01/05', '2024-01-05T00:00:00']) {
      expect(classifyListing(arrayFields(row({ date })), layout, isNull)).toMatchObject({
        ok: false,
        reason: 'invalid_date',
      })
    }
  })

  it('rejects bad prices with their finer reason', () => {
    expect(classifyListing(arrayFields(row({ price_gbp: '£5' })), layout, isNull)).toMatchObject({
      reason: 'non_numeric_price',
    })
    expect(classifyListing(arrayFields(row({ price_gbp: '1e400' })), layout, isNull)).toMatchObject({
      reason: 'non_finite_price',
    })
    expect(classifyListing(arrayFields(row({ price_gbp: '0' })), layout, isNull)).toMatchObject({
      reason: 'non_positive_price',
    })
  })

  it('runs the checks in contract order: shape and missing fields, then date, then price', () => {
    const everythingWrong = row({ region: '', date: 'bad', price_gbp: '-1' })
    expect(classifyListing(arrayFields(everythingWrong), layout, isNull)).toMatchObject({
      reason: 'missing_field',
    })
    expect(classifyListing(arrayFields([...everythingWrong, 'x']), layout, isNull)).toMatchObject({
      reason: 'too_many_fields',
    })
    expect(classifyListing(arrayFields(row({ date: 'bad', price_gbp: '-1' })), layout, isNull)).toMatchObject(
      {
        reason: 'invalid_date',
      },
    )
  })

  it('treats NA, null and N/A as ordinary text by default', () => {
    const outcome = classifyListing(
      arrayFields(row({ region: 'NA', seller_id: 'null', category: 'N/A' })),
      layout,
      isNull,
    )
    expect(outcome).toMatchObject({ ok: true, listing: { region: 'NA', seller_id: 'null', category: 'N/A' } })
  })
})

describe('missingValueTest', () => {
  it('treats only the empty string as missing by default', () => {
    const test = missingValueTest()
    expect(test('')).toBe(true)
    expect(test('NA')).toBe(false)
  })

  it('adds configured markers, trimmed and case-sensitive', () => {
    const test = missingValueTest([' NA ', 'null', ''])
    expect(test('NA')).toBe(true)
    expect(test('null')).toBe(true)
    expect(test('NULL')).toBe(false)
    expect(test('na')).toBe(false)
  })

  it('makes a marker in a required field a missing_field rejection', () => {
    const withMarkers = missingValueTest(['NA'])
    expect(classifyListing(arrayFields(row({ region: ' NA ' })), layout, withMarkers)).toEqual({
      ok: false,
      reason: 'missing_field',
      detail: 'region',
    })
  })
})

describe('classifyKey', () => {
  it('decides exactly as classifyListing and returns the dedup key', () => {
    const variants = [
      row(),
      row({ seller_id: '  ' }),
      row({ region: '\u00a0' }),
      row({ category: ' é ' }),
      row({ date: '2023-02-29' }),
      row({ price_gbp: '0' }),
      row({ region: 'NA' }),
      [...row(), 'surplus'],
      row().slice(0, 4),
    ]
    for (const markers of [[], ['NA']]) {
      const test = missingValueTest(markers)
      for (const fields of variants) {
        const full = classifyListing(arrayFields(fields), layout, test)
        const key = classifyKey(arrayFields(fields), layout, test)
        if (full.ok) expect(key).toEqual({ ok: true, date: full.listing.date, itemId: full.listing.item_id })
        else expect(key).toEqual(full)
      }
    }
  })
})

import { describe, expect, it } from 'vitest'
import { LISTING_COLUMNS } from '../../shared/src/contract.js'
import { InputError } from '../../shared/src/errors.js'
import { resolveColumns } from '../../shared/src/header.js'

describe('resolveColumns', () => {
  it('maps required columns in any order and trims header names', () => {
    const layout = resolveColumns(
      'l.csv',
      [' price_gbp ', 'item_id', 'category', '\tregion', 'seller_id', 'date'],
      LISTING_COLUMNS,
    )
    expect(layout.index).toEqual({ price_gbp: 0, item_id: 1, category: 2, region: 3, seller_id: 4, date: 5 })
    expect(layout.extra).toEqual([])
  })

  it('lists extra columns, which are allowed and ignored', () => {
    const layout = resolveColumns('l.csv', ['notes', ...LISTING_COLUMNS, 'colour'], LISTING_COLUMNS)
    expect(layout.extra).toEqual(['notes', 'colour'])
    expect(layout.index.date).toBe(1)
  })

  it('names every missing column in one error', () => {
    const attempt = () => resolveColumns('l.csv', ['date', 'seller_id', 'region', 'item_id'], LISTING_COLUMNS)
    expect(attempt).toThrow(InputError)
    expect(attempt).toThrow(/^l\.csv: missing required columns category, price_gbp \(header has: /)
  })

  it('uses the singular for one missing column', () => {
    expect(() => resolveColumns('l.csv', LISTING_COLUMNS.slice(1), LISTING_COLUMNS)).toThrow(
      'l.csv: missing required column date (header has: ',
    )
  })

  it('is case-sensitive about column names', () => {
    expect(() => resolveColumns('l.csv', ['Date', ...LISTING_COLUMNS.slice(1)], LISTING_COLUMNS)).toThrow(
      /missing required column date/,
    )
  })

  it('refuses a required column given twice, since either copy could be meant', () => {
    expect(() => resolveColumns('l.csv', [...LISTING_COLUMNS, ' date'], LISTING_COLUMNS)).toThrow(
      'l.csv: column date appears more than once in the header',
    )
  })

  it('trims header names by the Unicode White_Space property, keeping a BOM-like U+FEFF inside the name', () => {
    const layout = resolveColumns(
      'l.csv',
      [
        '\u0085date\u3000',
        '\u00a0seller_id',
        'region\u2028',
        'category',
        'item_id',
        'price_gbp',
        '\ufeffnotes\u0085',
      ],
      LISTING_COLUMNS,
    )
    expect(layout.index.date).toBe(0)
    expect(layout.names.slice(0, 3)).toEqual(['date', 'seller_id', 'region'])
    expect(layout.extra).toEqual(['\ufeffnotes'])
    expect(() =>
      resolveColumns('l.csv', ['\ufeffdate', ...LISTING_COLUMNS.slice(1)], LISTING_COLUMNS),
    ).toThrow(/missing required column date/)
  })
})

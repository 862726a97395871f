import { describe, expect, it } from 'vitest'
import { classifyKey, classifyListing, missingValueTest } from '../../shared/src/classify.js'
import { LISTING_COLUMNS } from '../../shared/src/contract.js'
import { arrayFields, type CsvRecord } from '../../shared/src/csv-record.js'
import { readCsvRecords } from '../../shared/src/csv-records.js'
import { resolveColumns } from '../../shared/src/header.js'
import { textSource } from '../helpers/sources.js'

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

/** The first data row of `header + row` as the byte-level reader gives it, so fields may hold any bytes. */
async function scanned(rowBytes: Buffer): Promise<CsvRecord> {
  const file = Buffer.concat([Buffer.from(`${layout.names.join(',')}\n`), rowBytes, Buffer.from('\n')])
  const records: CsvRecord[] = []
  for await (const record of readCsvRecords('l.csv', textSource('l.csv', file, 5).open()))
    records.push(record)
  return records[1] as CsvRecord
}

/** A row whose fields are given as bytes (strings are UTF-8), joined with commas. */
const byteRow = (overrides: Partial<Record<(typeof LISTING_COLUMNS)[number] | 'notes', Buffer>> = {}) => {
  const names = [...LISTING_COLUMNS, 'notes'] as const
  const text = row()
  return Buffer.concat(
    names.flatMap((name, i) => [
      i === 0 ? Buffer.alloc(0) : Buffer.from(','),
      overrides[name] ?? Buffer.from(text[i] as string),
    ]),
  )
}
const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))))

describe('invalid UTF-8 in a required field', () => {
  it('is rejected as invalid_encoding naming the column, in the missing-required bucket', async () => {
    for (const column of LISTING_COLUMNS) {
      for (const bad of [
        bytes('I', [0xff]),
        bytes('I', [0xfe]),
        bytes([0xe2, 0x80], 'x'),
        bytes('x', [0xc3]),
      ]) {
        const record = await scanned(byteRow({ [column]: bad }))
        const expected = { ok: false, reason: 'invalid_encoding', detail: column }
        expect(classifyListing(record, layout, isNull), `${column} ${bad.toString('hex')}`).toEqual(expected)
        expect(classifyKey(record, layout, isNull)).toEqual(expected)
      }
    }
  })

  it('does not matter in an ignored column', async () => {
    const record = await scanned(byteRow({ notes: bytes([0xff, 0xfe, 0xc0, 0x80]) }))
    expect(classifyListing(record, layout, isNull)).toMatchObject({ ok: true, listing: { item_id: '007' } })
  })

  it('is checked after the shape and missing fields, before the date and the price', async () => {
    const badItem = bytes('I', [0xff])
    const missingRegion = await scanned(byteRow({ item_id: badItem, region: bytes('  ') }))
    expect(classifyListing(missingRegion, layout, isNull)).toMatchObject({
      reason: 'missing_field',
      detail: 'region',
    })
    const tooMany = await scanned(Buffer.concat([byteRow({ item_id: badItem }), bytes(',surplus')]))
    expect(classifyListing(tooMany, layout, isNull)).toMatchObject({ reason: 'too_many_fields' })
    const badDateToo = await scanned(byteRow({ item_id: badItem, date: bytes('2023-02-29') }))
    expect(classifyListing(badDateToo, layout, isNull)).toMatchObject({
      reason: 'invalid_encoding',
      detail: 'item_id',
    })
    const badPrice = await scanned(byteRow({ price_gbp: bytes('1', [0xff]) }))
    expect(classifyListing(badPrice, layout, isNull)).toMatchObject({
      reason: 'invalid_encoding',
      detail: 'price_gbp',
    })
    const twoBad = await scanned(byteRow({ item_id: badItem, seller_id: bytes([0x80]) }))
    expect(classifyListing(twoBad, layout, isNull)).toMatchObject({
      reason: 'invalid_encoding',
      detail: 'seller_id',
    })
  })

  it('leaves valid multi-byte text alone', async () => {
    const record = await scanned(byteRow({ seller_id: bytes('Café 東京 😀') }))
    expect(classifyListing(record, layout, isNull)).toMatchObject({
      ok: true,
      listing: { seller_id: 'Café 東京 😀' },
    })
  })
})

describe('trimming by the Unicode White_Space property', () => {
  it('trims NEL, ideographic space and other White_Space around values before every check', () => {
    const outcome = classifyListing(
      arrayFields(
        row({
          seller_id: '\u0085S1\u3000',
          date: '\u20282024-03-01\u2029',
          price_gbp: '\u3000 12 \u0085',
          item_id: '\u1680007\u205f',
        }),
      ),
      layout,
      isNull,
    )
    expect(outcome).toMatchObject({
      ok: true,
      listing: { seller_id: 'S1', item_id: '007', price_gbp: 12, date: 19783 },
    })
    for (const blank of ['\u0085', '\u3000\u00a0', '\u2000\u200a']) {
      expect(classifyListing(arrayFields(row({ region: blank })), layout, isNull)).toMatchObject({
        reason: 'missing_field',
        detail: 'region',
      })
    }
  })

  it('keeps U+FEFF and U+001C-U+001F, which are not whitespace, as part of the value', () => {
    expect(classifyListing(arrayFields(row({ item_id: '\ufeff007' })), layout, isNull)).toMatchObject({
      ok: true,
      listing: { item_id: '\ufeff007' },
    })
    expect(classifyListing(arrayFields(row({ region: '\ufeff' })), layout, isNull)).toMatchObject({
      ok: true,
      listing: { region: '\ufeff' },
    })
    expect(classifyListing(arrayFields(row({ date: '\u001f2024-03-01' })), layout, isNull)).toMatchObject({
      reason: 'invalid_date',
    })
    expect(classifyListing(arrayFields(row({ price_gbp: '12\u001c' })), layout, isNull)).toMatchObject({
      reason: 'non_numeric_price',
    })
  })

  it('decides the same on the byte-level reader as on strings, for every whitespace look-alike', async () => {
    for (const text of ['\u0085', '\u3000', '\ufeff', '\u001c', '\u001f', '\u00a0', '\u200b', ' \u2029 ']) {
      for (const column of ['region', 'seller_id', 'category'] as const) {
        const fields = row({ [column]: text })
        const record = await scanned(Buffer.from(fields.join(',')))
        const expected = classifyListing(arrayFields(fields), layout, isNull)
        expect(classifyListing(record, layout, isNull), JSON.stringify(text)).toEqual(expected)
        const key = classifyKey(record, layout, isNull)
        if (expected.ok) expect(key).toMatchObject({ ok: true })
        else expect(key).toEqual(expected)
      }
    }
  })
})

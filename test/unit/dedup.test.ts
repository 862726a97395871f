import { describe, expect, it } from 'vitest'
import { LastOccurrenceIndex, RowSet } from '../../shared/src/dedup.js'
import { readWithHyparquet } from '../helpers/parquet-readers.js'
import { LISTINGS_HEADER, runOnText } from '../helpers/sources.js'

describe('LastOccurrenceIndex', () => {
  it('keeps the last ordinal of each (date, item_id) key', () => {
    const index = new LastOccurrenceIndex()
    index.add(1, 'A', 0)
    index.add(1, 'B', 1)
    index.add(1, 'A', 2)
    index.add(2, 'A', 3)
    expect(index.keys).toBe(3)
    expect(index.superseded).toBe(1)
    const keep = index.takeKeepers(4)
    expect([0, 1, 2, 3].map((ordinal) => keep.has(ordinal))).toEqual([false, true, true, true])
  })

  it('compares item ids exactly and case-sensitively', () => {
    const index = new LastOccurrenceIndex()
    for (const [ordinal, id] of ['a', 'A', '007', '7', 'a '].entries()) index.add(5, id, ordinal)
    expect(index.keys).toBe(5)
  })

  it('agrees with a Map over many keys, including non-ASCII ids and growth past every resize', () => {
    const index = new LastOccurrenceIndex()
    const reference = new Map<string, number>()
    const ids = ['A', 'é', '東京', '😀', 'a b', '', '007']
    for (let ordinal = 0; ordinal < 200_000; ordinal++) {
      const date = (ordinal * 7919) % 400
      const itemId = `${ids[ordinal % ids.length]}${(ordinal * 104_729) % 50_000}`
      index.add(date, itemId, ordinal)
      reference.set(`${date}|${itemId}`, ordinal)
    }
    expect(index.keys).toBe(reference.size)
    expect(index.superseded).toBe(200_000 - reference.size)
    const keep = index.takeKeepers(200_000)
    const kept = new Set(reference.values())
    const wrong = Array.from({ length: 200_000 }, (_, ordinal) => ordinal).filter(
      (o) => keep.has(o) !== kept.has(o),
    )
    expect(wrong).toEqual([])
  })

  it('holds a key in about 30 bytes', () => {
    const index = new LastOccurrenceIndex()
    for (let i = 0; i < 1_000_000; i++) index.add(i % 365, `ITEM${i}`, i)
    expect(index.bytes / index.keys).toBeLessThan(45)
  })

  it('tells apart keys whose bytes differ only at the end, or in length', () => {
    const index = new LastOccurrenceIndex()
    for (const [ordinal, id] of ['ab', 'abc', 'abd', 'ab\u0000', 'a'].entries()) index.add(1, id, ordinal)
    expect(index.keys).toBe(5)
  })
})

describe('RowSet', () => {
  it('tracks membership across word boundaries', () => {
    const set = new RowSet(100)
    for (const ordinal of [0, 31, 32, 63, 64, 99]) set.add(ordinal)
    const members = Array.from({ length: 100 }, (_, i) => i).filter((i) => set.has(i))
    expect(members).toEqual([0, 31, 32, 63, 64, 99])
  })

  it('grows past the size it was made for, keeping its members', () => {
    const set = new RowSet(32)
    for (const ordinal of [5, 40, 100_000]) set.add(ordinal)
    expect([5, 40, 100_000, 6, 99_999].map((ordinal) => set.has(ordinal))).toEqual([
      true,
      true,
      true,
      false,
      false,
    ])
  })

  it('walks its members in increasing order with a cursor', () => {
    const set = new RowSet()
    for (const ordinal of [70_000, 3, 31, 32]) set.add(ordinal)
    const next = set.cursor()
    expect([next(), next(), next(), next()]).toEqual([3, 31, 32, 70_000])
  })
})

describe('deduplication in a run', () => {
  const csv = [
    LISTINGS_HEADER,
    '2024-01-01,S1,London,Electronics,A,10',
    '2024-01-01,S1,London,Electronics,B,20',
    '2024-01-01,S2,Wales,Electronics, A ,11',
    '2024-01-02,S1,London,Electronics,A,12',
    '2024-01-01,S3,London,Electronics,a,13',
    '2024-01-01,S1,London,Electronics,B,0',
  ].join('\n')

  it('keeps the last valid occurrence, standing where it stood', async () => {
    const { report, parquet } = await runOnText(csv)
    const rows = await readWithHyparquet(parquet)
    expect(rows.map((r) => [r.date, r.item_id, r.price_gbp])).toEqual([
      ['2024-01-01', 'B', 20],
      ['2024-01-01', 'A', 11],
      ['2024-01-02', 'A', 12],
      ['2024-01-01', 'a', 13],
    ])
    expect(report.valid_rows_after_clean).toBe(5)
    expect(report.rows_after_dedup).toBe(4)
    expect(report.duplicates_removed).toBe(1)
  })

  it('lets an invalid later row not displace a valid earlier one', async () => {
    const { parquet, report } = await runOnText(csv)
    const rows = await readWithHyparquet(parquet)
    expect(rows.find((r) => r.item_id === 'B')?.price_gbp).toBe(20)
    expect(report.dropped_non_positive_price).toBe(1)
  })
})

describe('LastOccurrenceIndex.reserve', () => {
  it('sizes the arrays up front and keeps every key after more arrive than reserved', () => {
    const index = new LastOccurrenceIndex()
    index.reserve(10_000, 8)
    const reservedBytes = index.bytes
    for (let i = 0; i < 10_000; i++) index.add(i % 30, `id${i}`, i)
    expect(index.bytes).toBe(reservedBytes)
    for (let i = 10_000; i < 30_000; i++) index.add(i % 30, `id${i}`, i)
    expect(index.keys).toBe(30_000)
    const keep = index.takeKeepers(30_000)
    expect(keep.has(0) && keep.has(29_999)).toBe(true)
  })
})

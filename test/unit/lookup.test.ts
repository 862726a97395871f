import { describe, expect, it } from 'vitest'
import { missingValueTest } from '../../shared/src/classify.js'
import { InputError } from '../../shared/src/errors.js'
import { loadCategoryLookup } from '../../shared/src/lookup.js'
import { readWithHyparquet } from '../helpers/parquet-readers.js'
import { LISTINGS_HEADER, runOnText, textSource } from '../helpers/sources.js'

const load = (csv: string, markers: string[] = []) =>
  loadCategoryLookup(textSource('lookup.csv', csv), missingValueTest(markers))

describe('loadCategoryLookup', () => {
  it('maps trimmed categories to trimmed segments, in any column order, ignoring extra columns', async () => {
    const lookup = await load('owner, segment ,category\nx, Tech , Electronics \ny,Home,Garden\n')
    expect(lookup.segmentOf('Electronics')).toBe('Tech')
    expect(lookup.segmentOf('Garden')).toBe('Home')
    expect(lookup.segmentOf('electronics')).toBeUndefined()
    expect(lookup.stats).toMatchObject({ rows: 2, categories: 2, ignored_columns: ['owner'] })
  })

  it('maps a category with an empty segment to null', async () => {
    const lookup = await load('category,segment\nToys,\nBooks,  \nGames\n')
    expect(lookup.segmentOf('Toys')).toBeNull()
    expect(lookup.segmentOf('Books')).toBeNull()
    expect(lookup.segmentOf('Games')).toBeNull()
  })

  it('ignores rows with an empty category', async () => {
    const lookup = await load('category,segment\n,Tech\n  ,Home\nToys,Family\n')
    expect(lookup.stats).toMatchObject({ rows: 3, categories: 1, ignored_empty_category: 2 })
  })

  it('accepts a category listed twice with the same segment', async () => {
    const lookup = await load('category,segment\nToys,Family\n Toys , Family \n')
    expect(lookup.segmentOf('Toys')).toBe('Family')
    expect(lookup.stats.repeated_categories).toBe(1)
  })

  it('refuses a category listed with two different segments, naming it and both lines', async () => {
    const attempt = load('category,segment\nToys,Family\nBooks,Media\nToys,Leisure\n')
    await expect(attempt).rejects.toBeInstanceOf(InputError)
    await expect(attempt).rejects.toThrow(
      'lookup.csv: category "Toys" has two different segments: "Family" on line 2 and "Leisure" on line 4',
    )
  })

  it('refuses a file without the segment column', async () => {
    await expect(load('category,owner\nToys,x\n')).rejects.toThrow(
      'lookup.csv: missing required column segment (header has: category, owner)',
    )
  })

  it('refuses an empty file and a row longer than the header', async () => {
    await expect(load('')).rejects.toThrow('lookup.csv: file is empty: expected a header row')
    await expect(load('category,segment\nToys,Family,extra\n')).rejects.toThrow(
      'lookup.csv: line 2 has 3 fields but the header has 2',
    )
  })

  it('trims categories, segments and header names by the Unicode White_Space property', async () => {
    const lookup = await load(
      '\u3000category\u0085,segment\u00a0\n\u0085Toys\u3000,\u2028Family\u2029\n\ufeffBooks,Media\u001f\n\u0085,Ignored\n',
    )
    expect(lookup.segmentOf('Toys')).toBe('Family')
    expect(lookup.segmentOf('Books')).toBeUndefined()
    expect(lookup.segmentOf('\ufeffBooks')).toBe('Media\u001f')
    expect(lookup.stats).toMatchObject({ categories: 2, ignored_empty_category: 1 })
  })

  it('refuses invalid UTF-8 in a category or segment, naming the line and column', async () => {
    const bytes = (...parts: (string | number[])[]) =>
      Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))))
    const loadBytes = (csv: Buffer) => loadCategoryLookup(textSource('lookup.csv', csv), missingValueTest())
    await expect(loadBytes(bytes('category,segment\nToys,Family\nI', [0xff], ',Tech\n'))).rejects.toThrow(
      'lookup.csv: line 3: category is not valid UTF-8',
    )
    await expect(loadBytes(bytes('category,segment\n"Toys",Fam', [0xe2, 0x80], '\n'))).rejects.toThrow(
      'lookup.csv: line 2: segment is not valid UTF-8',
    )
    await expect(loadBytes(bytes('categ', [0xff], 'ory,segment\nToys,Family\n'))).rejects.toThrow(
      'lookup.csv: line 1: the header is not valid UTF-8 (column 1)',
    )
    await expect(
      loadBytes(bytes('category,segment\nToys,Family\nI', [0xff], ',Tech\n')),
    ).rejects.toBeInstanceOf(InputError)
  })

  it('ignores invalid UTF-8 in ignored columns and in rows it ignores', async () => {
    const csv = Buffer.concat([
      Buffer.from('category,segment,owner\nToys,Family,'),
      Buffer.from([0xff]),
      Buffer.from('\n,'),
      Buffer.from([0xfe]),
      Buffer.from(',x\n'),
    ])
    const lookup = await loadCategoryLookup(textSource('lookup.csv', csv), missingValueTest())
    expect(lookup.segmentOf('Toys')).toBe('Family')
    expect(lookup.stats).toMatchObject({ categories: 1, ignored_empty_category: 1 })
  })

  it('applies null markers to segments and categories', async () => {
    const lookup = await load('category,segment\nToys,NA\nNA,Tech\n', ['NA'])
    expect(lookup.segmentOf('Toys')).toBeNull()
    expect(lookup.stats.ignored_empty_category).toBe(1)
  })
})

describe('enrichment in a run', () => {
  it('left-joins on the trimmed, case-sensitive category; unmatched rows get null', async () => {
    const csv = [
      LISTINGS_HEADER,
      '2024-01-01,S1,London, Electronics ,A,10',
      '2024-01-01,S1,London,electronics,B,10',
      '2024-01-01,S1,London,Toys,C,10',
      '2024-01-01,S1,London,Garden,D,10',
      '2024-01-01,S1,London,Garden,E,10',
    ].join('\n')
    const { parquet, report } = await runOnText(csv)
    const rows = await readWithHyparquet(parquet)
    expect(rows.map((r) => [r.category, r.segment])).toEqual([
      ['Electronics', 'Tech'],
      ['electronics', null],
      ['Toys', null],
      ['Garden', null],
      ['Garden', null],
    ])
    expect(report.rows_without_segment).toBe(4)
    expect(report.rows_with_empty_segment).toBe(1)
    expect(report.unmatched_category_count).toBe(2)
    expect(report.unmatched_categories).toEqual([
      { category: 'Garden', rows: 2 },
      { category: 'electronics', rows: 1 },
    ])
  })

  it('never duplicates a listing, since lookup categories are unique', async () => {
    const csv = `${LISTINGS_HEADER}\n2024-01-01,S1,London,Toys,A,10\n`
    const { report } = await runOnText(csv, 'category,segment\nToys,Family\nToys,Family\n')
    expect(report.rows_after_dedup).toBe(1)
    expect(report.output.parquet.rows).toBe(1)
  })
})

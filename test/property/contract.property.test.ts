import { parse } from 'csv-parse/sync'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InputError } from '../../shared/src/errors.js'
import { contractCounts, modelIngest, modelParseCsv } from '../helpers/model.js'
import { readWithHyparquet } from '../helpers/parquet-readers.js'
import { runOnText } from '../helpers/sources.js'

const REQUIRED = ['date', 'seller_id', 'region', 'category', 'item_id', 'price_gbp'] as const

const whitespace = fc.constantFrom('', '', '', ' ', '  ', '\t', '\u00a0')
const padded = (value: fc.Arbitrary<string>) =>
  fc.tuple(whitespace, value, whitespace).map(([before, text, after]) => `${before}${text}${after}`)
const messyText = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  fc.constantFrom('a,b', 'say "hi"', 'two\nlines', 'cr\r\nlf', 'NA', 'null', '£5', 'Café'),
)
const values: Record<(typeof REQUIRED)[number], fc.Arbitrary<string>> = {
  date: fc.oneof(
    fc.constantFrom('2024-01-01', '2024-02-29', '1999-12-31', '2024-01-02'),
    fc.constantFrom('2023-02-29', '2024-1-5', '2024/01/05', '2024-01-05T00:00:00', '2024-13-01', '', 'NA'),
  ),
  seller_id: fc.oneof(fc.constantFrom('S1', '007', ''), messyText),
  region: fc.oneof(fc.constantFrom('London', 'NA', 'Wales', ''), messyText),
  category: fc.constantFrom('Electronics', 'Toys', 'Garden', 'electronics', 'Home, Garden', 'NA', ''),
  item_id: fc.constantFrom('A', 'a', '007', '7', 'X Y', ''),
  price_gbp: fc.oneof(
    fc.constantFrom(
      '12',
      '+3',
      '.5',
      '5.',
      '1e3',
      '0',
      '-1',
      '1e-400',
      '1e400',
      'abc',
      '1,200.00',
      'NaN',
      '0x10',
      '',
    ),
    fc.double({ noNaN: true }).map(String),
  ),
}

/** A row as values in header order, possibly too short or too long. */
const rowArbitrary = (columns: string[]) =>
  fc
    .tuple(
      fc.record(
        Object.fromEntries(
          columns.map((c) => [c, c in values ? padded(values[c as keyof typeof values]) : messyText]),
        ),
      ),
      fc.constantFrom('exact', 'exact', 'exact', 'exact', 'short', 'long'),
      fc.integer({ min: 2, max: 5 }),
    )
    .map(([record, shape, cut]) => {
      const fields = columns.map((c) => record[c] as string)
      if (shape === 'short') return fields.slice(0, Math.max(2, fields.length - cut))
      if (shape === 'long') return [...fields, 'surplus']
      return fields
    })

const quote = (field: string, always: boolean) =>
  always || /[",\r\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field

/** A whole messy CSV file: header in any order, extra columns, CRLF/LF mix, blank lines, BOM. */
const listingsFile = fc
  .tuple(
    fc.shuffledSubarray(['notes', 'colour'], { minLength: 0, maxLength: 2 }),
    fc.constantFrom(...permutations()),
  )
  .chain(([extra, order]) => {
    const columns = [...order, ...extra]
    return fc.record({
      columns: fc.constant(columns),
      headerPadding: fc.array(whitespace, { minLength: columns.length, maxLength: columns.length }),
      rows: fc.array(
        fc.record({
          fields: rowArbitrary(columns),
          eol: fc.constantFrom('\n', '\r\n'),
          blankBefore: fc.constantFrom('', '', '', '', '\n', '   \n', '\r\n'),
          alwaysQuote: fc.boolean(),
        }),
        { maxLength: 30 },
      ),
      bom: fc.boolean(),
      finalNewline: fc.boolean(),
    })
  })
  .map(({ columns, headerPadding, rows, bom, finalNewline }) => {
    let text = `${bom ? '\uFEFF' : ''}${columns.map((c, i) => `${headerPadding[i]}${c}`).join(',')}`
    for (const row of rows) {
      text += `${row.eol}${row.blankBefore}${row.fields.map((f) => quote(f, row.alwaysQuote)).join(',')}`
    }
    return finalNewline ? `${text}\n` : text
  })

function permutations(): string[][] {
  const base = [...REQUIRED]
  return [base, [...base].reverse(), ['item_id', 'price_gbp', 'date', 'category', 'region', 'seller_id']]
}

/** Padded names and values, an empty segment, a quoted comma, an ignored row, a repeat, an `NA` category. */
const LOOKUP =
  'category, segment\nElectronics,Tech\n Toys ,\n"Home, Garden",Home\n,Ignored\nElectronics,Tech\nNA,Unknown\n'

describe('the transform against a naive model of the contract', () => {
  it('agrees on counts, rows, order, segments and rejects for random messy files', async () => {
    await fc.assert(
      fc.asyncProperty(
        listingsFile,
        fc.integer({ min: 1, max: 64 }),
        fc.constantFrom([], ['NA'], ['NA', 'null']),
        async (csv, chunkSize, nullMarkers) => {
          const expected = modelIngest(csv, LOOKUP, nullMarkers)
          const { report, parquet, rejectedCsv } = await runOnText(csv, LOOKUP, { chunkSize, nullMarkers })
          expect(report).toMatchObject(contractCounts(expected))
          expect(report.source_rows).toBe(
            report.valid_rows_after_clean +
              report.dropped_missing_required +
              report.dropped_non_positive_price,
          )
          expect(await readWithHyparquet(parquet)).toEqual(expected.rows)
          const rejects = parse(rejectedCsv, { relax_column_count: true, from_line: 2 }) as string[][]
          expect(rejects.map((r) => ({ line: Number(r[0]), reason: r[2] }))).toEqual(expected.rejects)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('never crashes on arbitrary text: it reports, or refuses the file with an InputError', async () => {
    const alphabet = fc.constantFrom(',', '"', '\r', '\n', ' ', 'a', '1', '-', '.', '\uFEFF', 'é', '😀')
    const body = fc.array(alphabet, { maxLength: 120 }).map((chars) => chars.join(''))
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('', `${REQUIRED.join(',')}\n`), body, async (header, text) => {
        try {
          const { report } = await runOnText(header + text)
          expect(report.source_rows).toBe(
            report.valid_rows_after_clean +
              report.dropped_missing_required +
              report.dropped_non_positive_price,
          )
        } catch (error) {
          expect(error).toBeInstanceOf(InputError)
        }
      }),
      { numRuns: 300 },
    )
  })
})

describe('the model itself', () => {
  it('parses the awkward cases it is trusted with', () => {
    expect(modelParseCsv('\uFEFFa,b\r\n\r\n"x\r\ny",""""\n  \nc,d')).toEqual([
      { fields: ['a', 'b'], line: 1 },
      { fields: ['x\r\ny', '"'], line: 3 },
      { fields: ['c', 'd'], line: 6 },
    ])
  })
})

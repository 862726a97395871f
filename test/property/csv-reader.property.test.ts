import { parse } from 'csv-parse/sync'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { readCsvRecords } from '../../shared/src/csv-records.js'
import { modelParseCsv } from '../helpers/model.js'
import { textSource } from '../helpers/sources.js'

/** A field of awkward characters, written as RFC 4180 requires (quotes where needed, sometimes anyway). */
const field = fc
  .tuple(
    fc.array(
      fc.constantFrom('a', 'Z', '1', ' ', '\t', ',', '"', '\r', '\n', '\r\n', 'é', '東', '😀', '\u00a0'),
      { maxLength: 8 },
    ),
    fc.boolean(),
  )
  .map(([chars, alwaysQuote]) => {
    const value = chars.join('')
    const mustQuote = /[,\r\n]/.test(value) || value.startsWith('"')
    return mustQuote || alwaysQuote ? `"${value.replaceAll('"', '""')}"` : value
  })

const csvText = fc
  .tuple(
    fc.array(
      fc.tuple(
        fc.array(field, { minLength: 1, maxLength: 6 }),
        fc.constantFrom('\n', '\r\n'),
        fc.constantFrom('', '', '\n', '  \r\n'),
      ),
      {
        maxLength: 25,
      },
    ),
    fc.boolean(),
    fc.boolean(),
  )
  .map(([rows, bom, finalNewline]) => {
    const lines = rows.map(([fields, eol, blank]) => `${blank}${fields.join(',')}${eol}`)
    const text = `${bom ? '\uFEFF' : ''}${lines.join('')}`
    return finalNewline ? text : text.replace(/\r?\n$/, '')
  })

async function ours(text: string, chunkSize: number) {
  const out = []
  for await (const record of readCsvRecords('p.csv', textSource('p.csv', text, chunkSize).open()))
    out.push(record)
  return out
}

describe('the CSV reader', () => {
  it('agrees with csv-parse on every record of random RFC 4180 text, whatever the chunking', async () => {
    await fc.assert(
      fc.asyncProperty(csvText, fc.integer({ min: 1, max: 40 }), async (text, chunkSize) => {
        const reference = (
          parse(text, {
            bom: true,
            relax_column_count: true,
            relax_quotes: true,
            record_delimiter: ['\r\n', '\n'],
          }) as string[][]
        ).filter((record) => !(record.length === 1 && (record[0] ?? '').trim() === ''))
        expect((await ours(text, chunkSize)).map((r) => r.fields)).toEqual(reference)
      }),
      { numRuns: 400 },
    )
  })

  it('numbers records by the line they start on, as the naive model does', async () => {
    await fc.assert(
      fc.asyncProperty(csvText, fc.integer({ min: 1, max: 40 }), async (text, chunkSize) => {
        const model = modelParseCsv(text)
        const records = await ours(text, chunkSize)
        expect(records.map((r) => r.line)).toEqual(
          model
            .filter((r) => !(r.fields.length === 1 && (r.fields[0] ?? '').trim() === ''))
            .map((r) => r.line),
        )
      }),
      { numRuns: 400 },
    )
  })
})

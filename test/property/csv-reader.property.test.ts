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
        ).filter(
          // A record of one field of White_Space only (quoted or not) is a blank line, not a row.
          (record) => !(record.length === 1 && /^\p{White_Space}*$/u.test(record[0] ?? '')),
        )
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
        expect(records.map((r) => r.line)).toEqual(model.map((r) => r.line))
      }),
      { numRuns: 400 },
    )
  })
})

/** Bytes cut into chunks of the given sizes, used in turn (the last size repeats), as a reader source. */
function chunked(bytes: Uint8Array, sizes: readonly number[]): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      let offset = 0
      for (let i = 0; offset < bytes.byteLength; i++) {
        const size = sizes[Math.min(i, sizes.length - 1)] as number
        yield bytes.subarray(offset, offset + size)
        offset += size
      }
    },
  }
}

/** Everything the reader says about some bytes: every record (line, fields, exact bytes), or its error. */
async function readOutcome(bytes: Uint8Array, sizes: readonly number[], maxRecordBytes?: number) {
  const records: string[] = []
  try {
    const options = maxRecordBytes === undefined ? {} : { maxRecordBytes }
    for await (const record of readCsvRecords('p.csv', chunked(bytes, sizes), options)) {
      records.push(
        `${record.line} ${JSON.stringify(record.fields)} ${Buffer.from(record.recordBytes()).toString('hex')}`,
      )
    }
    return { records }
  } catch (error) {
    return { records, error: (error as Error).message }
  }
}

/** How one record is written: about `size` bytes, its kind, and its line ending. */
type RecordPlan = [size: number, kind: string, eol: string]

/** A record plan: plain, quoted with line breaks, malformed near its end, blank, or an unclosed quote. */
const recordPlan = (size: fc.Arbitrary<number>): fc.Arbitrary<RecordPlan> =>
  fc.tuple(
    size,
    fc.constantFrom('plain', 'quoted', 'quoted', 'after-quote', 'blank', 'unclosed'),
    fc.constantFrom('\n', '\r\n', ''),
  )

/** The bytes of a file of planned records under a header (built here, so counterexamples stay short). */
function fileOf(plans: readonly RecordPlan[]): Buffer {
  const records = plans.map(([size, kind, eol]) => {
    const body = 'x'.repeat(Math.max(0, size - 8))
    if (kind === 'plain') return `1,${body}${eol}`
    if (kind === 'quoted') return `"a\r\n""",1,"${body}\n"${eol}`
    if (kind === 'after-quote') return `1,"${body}"z${eol}`
    if (kind === 'blank') return ` \t${' '.repeat(Math.max(0, size - 8))}${eol}`
    return `1,"${body}`
  })
  return Buffer.from(`a,b\n${records.join('')}`)
}

/** Chunk sizes: one to a few, each from 1 byte up to `max`. */
const chunkSizes = (max: number) => fc.array(fc.integer({ min: 1, max }), { minLength: 1, maxLength: 6 })

describe('the record cap', () => {
  it('gives identical records, or the identical error, whatever the chunking (cap of 64 bytes)', async () => {
    const cap = 64
    const plans = fc.array(recordPlan(fc.integer({ min: cap - 6, max: cap + 10 })), {
      minLength: 1,
      maxLength: 8,
    })
    await fc.assert(
      fc.asyncProperty(plans, chunkSizes(2 * cap), async (plan, sizes) => {
        const bytes = fileOf(plan)
        const whole = await readOutcome(bytes, [bytes.byteLength], cap)
        expect(await readOutcome(bytes, sizes, cap)).toEqual(whole)
        expect(await readOutcome(bytes, [1], cap)).toEqual(whole)
      }),
      { numRuns: 400 },
    )
  })

  it('gives identical records, or the identical error, for chunks of 1 byte to 2 MiB (default 1 MiB cap)', async () => {
    const MIB = 1_048_576
    const size = fc.oneof(
      fc.integer({ min: MIB - 3, max: MIB + 3 }),
      fc.constant(1.5 * MIB),
      fc.integer({ min: 1, max: 64 }),
    )
    const plans = fc.array(recordPlan(size), { minLength: 1, maxLength: 3 })
    // Any chunk may be as small as 1 byte; the last size repeats, so it stays above 4 KiB to keep runs short.
    const chunkings = fc
      .tuple(chunkSizes(2 * MIB), fc.integer({ min: 4096, max: 2 * MIB }))
      .map(([first, last]) => [...first, last])
    await fc.assert(
      fc.asyncProperty(plans, chunkings, async (plan, sizes) => {
        const bytes = fileOf(plan)
        const whole = await readOutcome(bytes, [bytes.byteLength])
        // Compare summaries: a mismatch must not print megabytes of records.
        const summary = (outcome: { records: string[]; error?: string }) => ({
          records: outcome.records.map((record) => `${record.length} ${record.slice(0, 40)}`),
          error: outcome.error,
        })
        expect(summary(await readOutcome(bytes, sizes))).toEqual(summary(whole))
      }),
      { numRuns: 25 },
    )
  })
})

import { describe, expect, it } from 'vitest'
import { readCsvRecords } from '../../shared/src/csv-records.js'
import { InputError } from '../../shared/src/errors.js'
import { LISTINGS_HEADER, runOnText, textSource } from '../helpers/sources.js'

/** Records as plain data: their fields, decoded, and their line. */
async function records(
  text: string | Uint8Array,
  chunkSize = 3,
): Promise<{ fields: string[]; line: number }[]> {
  const out: { fields: string[]; line: number }[] = []
  for await (const record of readCsvRecords('in.csv', textSource('in.csv', text, chunkSize).open())) {
    out.push({ fields: record.fields, line: record.line })
  }
  return out
}

describe('readCsvRecords', () => {
  it('reads comma-separated fields with line numbers', async () => {
    expect(await records('a,b\n1,2\n3,4\n')).toEqual([
      { fields: ['a', 'b'], line: 1 },
      { fields: ['1', '2'], line: 2 },
      { fields: ['3', '4'], line: 3 },
    ])
  })

  it('reads a last line without a newline', async () => {
    expect((await records('a,b\n1,2')).map((r) => r.fields)).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ])
  })

  it('accepts CRLF, LF, and a mix of both without leaving \\r behind', async () => {
    for (const text of ['a,b\r\n1,2\r\n', 'a,b\n1,2\n', 'a,b\r\n1,2\n3,4\r\n5,6']) {
      for (const record of await records(text)) {
        for (const field of record.fields) expect(field, JSON.stringify(text)).not.toContain('\r')
      }
    }
    expect((await records('a,b\r\n1,2\n3,4\r\n')).map((r) => r.line)).toEqual([1, 2, 3])
  })

  it('drops a UTF-8 byte-order mark from the first header name', async () => {
    const [header] = await records('\uFEFFdate,price\n2024-01-01,1\n')
    expect(header?.fields).toEqual(['date', 'price'])
  })

  it('keeps commas, doubled quotes and line breaks inside quoted fields', async () => {
    const rows = await records('a,b\n"x, y","say ""hi"""\n"two\nlines",3\r\n"crlf\r\ninside",4\n', 2)
    expect(rows).toEqual([
      { fields: ['a', 'b'], line: 1 },
      { fields: ['x, y', 'say "hi"'], line: 2 },
      { fields: ['two\nlines', '3'], line: 3 },
      { fields: ['crlf\r\ninside', '4'], line: 5 },
    ])
  })

  it('skips empty and whitespace-only lines but counts them in line numbers', async () => {
    const rows = await records('a,b\n\n1,2\n   \n\t\n\r\n3,4\n\n')
    expect(rows).toEqual([
      { fields: ['a', 'b'], line: 1 },
      { fields: ['1', '2'], line: 3 },
      { fields: ['3', '4'], line: 7 },
    ])
  })

  it('skips blank lines before the header', async () => {
    expect(await records('\n  \na,b\n1,2\n')).toEqual([
      { fields: ['a', 'b'], line: 3 },
      { fields: ['1', '2'], line: 4 },
    ])
  })

  it('returns rows of any length; the caller counts fields', async () => {
    expect((await records('a,b,c\n1\n1,2,3,4\n,,\n')).map((r) => r.fields)).toEqual([
      ['a', 'b', 'c'],
      ['1'],
      ['1', '2', '3', '4'],
      ['', '', ''],
    ])
  })

  it('keeps untrimmed values; trimming is the classifier job', async () => {
    expect((await records('a,b\n  x , y\t\n'))[1]?.fields).toEqual(['  x ', ' y\t'])
  })

  it('decodes multi-byte UTF-8 split across chunks', async () => {
    const rows = await records('name,price\nCafé ☕ 東京 😀,£5\n', 1)
    expect(rows[1]?.fields).toEqual(['Café ☕ 東京 😀', '£5'])
  })

  it('keeps a stray quote inside an unquoted field as text', async () => {
    expect((await records('a,b\nKids bike 16",3\n'))[1]?.fields).toEqual(['Kids bike 16"', '3'])
  })

  it('refuses an unclosed quote with an InputError naming the file', async () => {
    const failure = records('a,b\n1,"open\n2,3\n')
    await expect(failure).rejects.toBeInstanceOf(InputError)
    await expect(failure).rejects.toThrow(
      'in.csv: malformed CSV (unclosed_quote): the quoted field starting on line 2 is never closed',
    )
  })

  it('refuses text after a closing quote, naming the line', async () => {
    await expect(records('a,b\n1,2\n"x"y,3\n')).rejects.toThrow(
      'in.csv: malformed CSV (invalid_closing_quote): text follows a closing quote on line 3',
    )
  })

  it('refuses a record larger than maxRecordBytes', async () => {
    const big = `a,b\n"${'x'.repeat(200)}",1\n`
    const read = async () => {
      for await (const _ of readCsvRecords('big.csv', textSource('big.csv', big).open(), {
        maxRecordBytes: 100,
      })) {
        // drain
      }
    }
    await expect(read()).rejects.toThrow(
      /^big\.csv: malformed CSV \(record_too_large\): the record starting on line 2 is over 100 bytes/,
    )
  })

  it('passes a source read error through unchanged', async () => {
    const failing = {
      async *[Symbol.asyncIterator]() {
        yield Buffer.from('a,b\n1,2\n')
        throw new Error('disk on fire')
      },
    }
    const read = async () => {
      for await (const _ of readCsvRecords('x.csv', failing)) {
        // drain
      }
    }
    await expect(read()).rejects.toThrow('disk on fire')
  })
})

describe('line numbers around multi-line records', () => {
  it('counts a CRLF or LF inside quotes as one line break, in LF and CRLF files', async () => {
    for (const eol of ['\n', '\r\n']) {
      for (const inner of ['\n', '\r\n']) {
        const text = ['a,b', `"x${inner}y${inner}z",1`, '', 'c,d', `"p${inner}q",2`, 'e,f'].join(eol)
        const lines = (await records(text)).map((r) => r.line)
        expect(lines, JSON.stringify({ eol, inner })).toEqual([1, 2, 6, 7, 9])
      }
    }
  })
})

describe('blank lines are lines of White_Space only', () => {
  it('skips lines of Unicode whitespace (NEL, ideographic space, NBSP) but not of BOM or separator controls', async () => {
    const text = 'a,b\n\u0085\n\u3000 \u00a0\r\n\u2028\n\ufeff\n\u001c\n1,2\n'
    expect(await records(text)).toEqual([
      { fields: ['a', 'b'], line: 1 },
      { fields: ['\ufeff'], line: 5 },
      { fields: ['\u001c'], line: 6 },
      { fields: ['1', '2'], line: 7 },
    ])
  })

  it('skips a line holding only a quoted blank value, as docs/contract.md chooses, but not a quoted U+FEFF', async () => {
    expect(await records('a,b\n""\n"\u3000 "\n"\r\n"\n"\ufeff"\n1,2\n')).toEqual([
      { fields: ['a', 'b'], line: 1 },
      { fields: ['\ufeff'], line: 6 },
      { fields: ['1', '2'], line: 7 },
    ])
  })
})

/** What the reader makes of some bytes: each record's line and field lengths, or the error it throws. */
async function outcome(
  bytes: Uint8Array,
  chunkSize: number,
  maxRecordBytes?: number,
): Promise<{ records: string[] } | { error: string }> {
  const out: string[] = []
  try {
    const options = maxRecordBytes === undefined ? {} : { maxRecordBytes }
    for await (const record of readCsvRecords(
      'in.csv',
      textSource('in.csv', bytes, chunkSize).open(),
      options,
    ))
      out.push(`${record.line}:${record.fields.map((field) => field.length).join('/')}`)
    return { records: out }
  } catch (error) {
    return { error: (error as Error).message }
  }
}

describe('the record cap (1 MiB by default) applies to the record, whatever the read chunk size', () => {
  const MIB = 1_048_576

  it('refuses a 1.5 MiB record with 1 MiB chunks (the CLI), 64 KiB chunks (S3) or one 2 MiB chunk', async () => {
    const file = Buffer.from(`a,b\n1,"${'x'.repeat(1.5 * MIB)}"\n2,3\n`)
    const refusal = {
      error: `in.csv: malformed CSV (record_too_large): the record starting on line 2 is over ${MIB} bytes; is a quote left open?`,
    }
    for (const chunkSize of [MIB, 64 * 1024, 2 * MIB, 1.5 * MIB + 9]) {
      expect(await outcome(file, chunkSize), `chunks of ${chunkSize}`).toEqual(refusal)
    }
  })

  it('accepts a record of exactly the cap and refuses one byte more; the line ending does not count', async () => {
    const record = (length: number) => `1,${'x'.repeat(length - 2)}`
    for (const eol of ['\n', '\r\n', '']) {
      for (const chunkSize of [MIB, MIB + 1, MIB + 2, MIB + 3, 64 * 1024, 4 * MIB]) {
        const atCap = await outcome(Buffer.from(`a,b\n${record(MIB)}${eol}`), chunkSize)
        expect(atCap, `${JSON.stringify(eol)} chunks of ${chunkSize}`).toEqual({
          records: ['1:1/1', `2:1/${MIB - 2}`],
        })
        const overCap = await outcome(Buffer.from(`a,b\n${record(MIB + 1)}${eol}`), chunkSize)
        expect(overCap, `${JSON.stringify(eol)} chunks of ${chunkSize}`).toMatchObject({
          error: expect.stringContaining('(record_too_large): the record starting on line 2 is over'),
        })
      }
    }
  })

  it('counts quoted line breaks, quotes and commas as record bytes', async () => {
    // `1,"` + body + `"` is the whole record: 4 bytes of syntax around the body.
    const body = (length: number) => `${'y'.repeat(length - 6)}\r\n,""\n`
    for (const chunkSize of [MIB, 64 * 1024, 3 * MIB, 7919]) {
      const atCap = await outcome(Buffer.from(`a,b\r\n1,"${body(MIB - 4)}"\r\n3,4\r\n`), chunkSize)
      expect(atCap, `chunks of ${chunkSize}`).toEqual({ records: ['1:1/1', `2:1/${MIB - 4 - 1}`, '5:1/1'] })
      const overCap = await outcome(Buffer.from(`a,b\r\n1,"${body(MIB - 3)}"\r\n3,4\r\n`), chunkSize)
      expect(overCap, `chunks of ${chunkSize}`).toMatchObject({
        error: expect.stringContaining('record_too_large'),
      })
    }
  })

  it('reads a record near the cap arriving in small chunks (as S3 may send it) without rescanning it per chunk', async () => {
    const record = `1,"${'q'.repeat(MIB - 16)}\r\n"`
    const file = Buffer.from(`a,b\n${record}\n2,3\n`)
    const started = performance.now()
    expect(await outcome(file, 512)).toEqual({ records: ['1:1/1', `2:1/${MIB - 14}`, '4:1/1'] })
    // Rescanning the held-over record for each of its 2,048 chunks would read about 1 GiB.
    expect(performance.now() - started).toBeLessThan(3000)
  })

  it('makes a whole run refuse a 1.5 MiB record alike for CLI-sized and S3-sized reads', async () => {
    const listings = `${LISTINGS_HEADER}\n2024-01-01,S1,London,Toys,"${'n'.repeat(1.5 * MIB)}",1\n`
    for (const chunkSize of [MIB, 16 * 1024]) {
      await expect(runOnText(listings, undefined, { chunkSize }), `chunks of ${chunkSize}`).rejects.toThrow(
        `listings.csv: malformed CSV (record_too_large): the record starting on line 2 is over ${MIB} bytes`,
      )
    }
  })

  it('decides between an unclosed quote and a record too large by the bytes alone', async () => {
    const small = Buffer.from(`a,b\n1,"${'z'.repeat(50)}\n`)
    const large = Buffer.from(`a,b\n1,"${'z'.repeat(500)}\n`)
    for (const chunkSize of [1, 2, 7, 64, 1000]) {
      expect(await outcome(small, chunkSize, 100)).toMatchObject({
        error: expect.stringContaining('unclosed_quote'),
      })
      expect(await outcome(large, chunkSize, 100)).toMatchObject({
        error: expect.stringContaining('record_too_large'),
      })
    }
  })
})

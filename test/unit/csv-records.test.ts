import { describe, expect, it } from 'vitest'
import { readCsvRecords } from '../../shared/src/csv-records.js'
import { InputError } from '../../shared/src/errors.js'
import { textSource } from '../helpers/sources.js'

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

describe('lazy fields', () => {
  it('decodes a field only when read, and reports the field count without decoding', async () => {
    const rows = []
    for await (const row of readCsvRecords('in.csv', textSource('in.csv', 'a,b,c\n"x ""y""",,é\n').open()))
      rows.push(row)
    const row = rows[1]
    expect(row?.fieldCount).toBe(3)
    expect([row?.field(0), row?.field(1), row?.field(2), row?.field(3)]).toEqual([
      'x "y"',
      '',
      'é',
      undefined,
    ])
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

describe('fieldIsBlank', () => {
  it('answers as trim() would, for ASCII and Unicode whitespace, and for absent fields', async () => {
    const rows = []
    const text = 'a,b,c,d,e\n  ,\t,\u00a0 ,é, x \n'
    for await (const row of readCsvRecords('in.csv', textSource('in.csv', text).open())) rows.push(row)
    const row = rows[1]
    expect([0, 1, 2, 3, 4, 5].map((i) => row?.fieldIsBlank(i))).toEqual([
      true,
      true,
      true,
      false,
      false,
      true,
    ])
    expect([0, 1, 2, 3, 4].map((i) => (row?.field(i) ?? '').trim() === '')).toEqual([
      true,
      true,
      true,
      false,
      false,
    ])
  })
})

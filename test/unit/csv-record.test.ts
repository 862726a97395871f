import { describe, expect, it } from 'vitest'
import { arrayFields, type CsvRecord } from '../../shared/src/csv-record.js'
import { readCsvRecords } from '../../shared/src/csv-records.js'
import { textSource } from '../helpers/sources.js'

/** The records the scanner makes of `text`, read in chunks of `chunkSize` bytes. */
async function scanned(text: string | Uint8Array, chunkSize?: number): Promise<CsvRecord[]> {
  const rows: CsvRecord[] = []
  for await (const row of readCsvRecords('in.csv', textSource('in.csv', text, chunkSize).open()))
    rows.push(row)
  return rows
}

describe('lazy fields', () => {
  it('decodes a field only when read, and reports the field count without decoding', async () => {
    const row = (await scanned('a,b,c\n"x ""y""",,é\n'))[1]
    expect(row?.fieldCount).toBe(3)
    expect([row?.field(0), row?.field(1), row?.field(2), row?.field(3)]).toEqual([
      'x "y"',
      '',
      'é',
      undefined,
    ])
  })
})

describe('fieldIsBlank', () => {
  it('answers as trimming by the Unicode White_Space property would, and true for absent fields', async () => {
    const text = 'a,b,c,d,e,f,g,h,i\n  ,\t,\u00a0 ,é, x ,\u0085\u3000,\ufeff,\u001f,\u200b\n'
    const row = (await scanned(text))[1]
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => row?.fieldIsBlank(i))).toEqual([
      true,
      true,
      true,
      false,
      false,
      true,
      false,
      false,
      false,
      true,
    ])
  })
})

describe('fieldIsValidUtf8', () => {
  it('is false only for a field whose own bytes are not UTF-8, whatever the chunking', async () => {
    const bytes = Buffer.concat([
      Buffer.from('a,b,c,d,e\n'),
      Buffer.from([0x49, 0xff]),
      Buffer.from(',"x'),
      Buffer.from([0xe2, 0x80]),
      Buffer.from('""y",Café 😀,"ok\n",'),
      Buffer.from([0xc3]),
      Buffer.from('\n'),
    ])
    for (const chunkSize of [1, 2, 3, 5, 1000]) {
      const rows = await scanned(bytes, chunkSize)
      expect(
        [0, 1, 2, 3, 4, 5].map((i) => rows[1]?.fieldIsValidUtf8(i)),
        `chunks of ${chunkSize}`,
      ).toEqual([false, false, true, true, false, true])
      expect(rows[0]?.fieldIsValidUtf8(0)).toBe(true)
    }
  })

  it('gives the exact bytes of the record and of each field, invalid bytes included', async () => {
    const record = Buffer.concat([Buffer.from('"I'), Buffer.from([0xfe]), Buffer.from('""\r\nz",,tail')])
    const bytes = Buffer.concat([Buffer.from('a,b\r\n'), record, Buffer.from('\r\n')])
    for (const chunkSize of [1, 4, 1000]) {
      const rows = await scanned(bytes, chunkSize)
      expect(rows[1]?.recordBytes()).toEqual(record)
      expect(rows[1]?.fieldBytes(0)).toEqual(
        Buffer.concat([Buffer.from('I'), Buffer.from([0xfe]), Buffer.from('"\r\nz')]),
      )
      expect(rows[1]?.fieldBytes(1)).toEqual(Buffer.alloc(0))
      expect(rows[1]?.fieldBytes(2)).toEqual(Buffer.from('tail'))
      expect(rows[1]?.fieldBytes(3)).toBeUndefined()
    }
  })
})

describe('fieldSpan', () => {
  it('gives where a field lies in the chunk, or nothing for a field whose value differs from its bytes', async () => {
    const row = (await scanned('a,b,c\nx,"y,z","q""q"\n', 1000))[1] as CsvRecord
    const span = new Int32Array(2)
    const at = (index: number) => {
      const buffer = row.fieldSpan(index, span)
      return buffer === undefined ? undefined : buffer.toString('utf8', span[0], span[1])
    }
    expect([at(0), at(1), at(2), at(3)]).toEqual(['x', 'y,z', undefined, undefined])
  })
})

describe('arrayFields', () => {
  it('reads fields from an array of strings, undefined past the end', () => {
    const row = arrayFields(['a', ''])
    expect([row.fieldCount, row.field(0), row.field(1), row.field(2)]).toEqual([2, 'a', '', undefined])
  })
})

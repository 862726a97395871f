import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'csv-parse/sync'
import { afterAll, describe, expect, it } from 'vitest'
import { MemorySink } from '../../shared/src/byte-streams.js'
import type { CsvRecord } from '../../shared/src/csv-record.js'
import { readCsvRecords } from '../../shared/src/csv-records.js'
import { RejectedRowsWriter } from '../../shared/src/rejects.js'
import { duckdb } from '../helpers/parquet-readers.js'
import { LISTINGS_HEADER, runOnText, textSource } from '../helpers/sources.js'

const META = ['_source_line', '_bucket', '_reason', '_detail']

/** Bytes from text (UTF-8) and raw byte lists, in order. */
const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))))

/** Records of a CSV file as the byte-level reader gives them (header first). */
async function scan(file: Uint8Array): Promise<CsvRecord[]> {
  const records: CsvRecord[] = []
  for await (const record of readCsvRecords('in.csv', textSource('in.csv', file).open())) records.push(record)
  return records
}

const scratch = mkdtempSync(join(tmpdir(), 'rejects-test-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))
let files = 0

/** What DuckDB's read_csv with auto-detection sees in a file: its column names and every row. */
async function readWithDuckDb(
  file: Uint8Array,
  options = '',
): Promise<{ columns: string[]; rows: string[][] }> {
  const path = join(scratch, `rejected-${files++}.csv`)
  writeFileSync(path, file)
  const source = options === '' ? `'${path}'` : `read_csv('${path}', ${options})`
  const [count] = await duckdb(`SELECT count(*) AS n FROM ${source}`)
  const described = await duckdb(`DESCRIBE SELECT * FROM ${source}`)
  const rows = await duckdb(`SELECT * FROM ${source}`)
  expect(Number(count?.n)).toBe(rows.length)
  return {
    columns: described.map((column) => String(column.column_name)),
    rows: rows.map((row) => Object.values(row).map((value) => (value === null ? '' : String(value)))),
  }
}

describe('RejectedRowsWriter', () => {
  it('writes line, bucket, reason, detail, the fields under the original header, then the raw record', async () => {
    const [header, row] = await scan(Buffer.from('date, price_gbp\n 2024-01-01 ,"-1"\n'))
    const sink = new MemorySink()
    const writer = new RejectedRowsWriter(sink, (header as CsvRecord).fields)
    await writer.add(2, 'non_positive_price', 'price_gbp', row as CsvRecord)
    expect(await writer.finish()).toBe(1)
    expect(sink.bytes().toString()).toBe(
      '_source_line,_bucket,_reason,_detail,date," price_gbp",_raw_record\n' +
        '2,dropped_non_positive_price,non_positive_price,price_gbp," 2024-01-01 ",-1," 2024-01-01 ,""-1"""\n',
    )
  })
})

describe('the rejects file of a run', () => {
  const csv = [
    `${LISTINGS_HEADER},notes`,
    '2024-01-01,S1,London,Electronics,A,10,ok',
    '2024-01-01,S1,,Electronics,B,10,"no region, sadly"',
    '',
    '2024-02-30,S1,London,Electronics,C,10,',
    '"2024-01-01","S1","London","Electronics","D","abc","multi',
    'line ""quoted"""',
    '2024-01-01,S1,London,Electronics,E,-1,x,surplus,more',
    '2024-01-01,S1,London,Electronics,F,1e999',
    '2024-01-01,S1,London',
    '2024-01-01,S1,London,Electronics,G,-1,,',
  ].join('\r\n')
  const header = [...META, ...LISTINGS_HEADER.split(','), 'notes', '_raw_record']
  const expectedRows = [
    ['3', 'dropped_missing_required', 'missing_field', 'region'],
    ['5', 'dropped_missing_required', 'invalid_date', 'date'],
    ['6', 'dropped_non_positive_price', 'non_numeric_price', 'price_gbp'],
    ['8', 'dropped_missing_required', 'too_many_fields', '9 fields, header has 7'],
    ['9', 'dropped_non_positive_price', 'non_finite_price', 'price_gbp'],
    ['10', 'dropped_missing_required', 'missing_field', 'category'],
    ['11', 'dropped_missing_required', 'too_many_fields', '8 fields, header has 7'],
  ]
  const sourceLines = csv.split('\r\n')

  it('is rectangular for csv-parse with default options: one row per rejected row, one column per header name', async () => {
    const { rejectedCsv, report } = await runOnText(csv)
    const [names, ...rows] = parse(rejectedCsv) as string[][]
    expect(names).toEqual(header)
    expect(rows.map((row) => row.slice(0, 4))).toEqual(expectedRows)
    for (const row of rows) expect(row).toHaveLength(header.length)
    expect(rows).toHaveLength(report.rejected_rows)
    expect(rows[0]?.[10]).toBe('no region, sadly')
    expect(rows[2]?.[10]).toBe('multi\r\nline "quoted"')
  })

  it('is read whole by DuckDB with auto-detection: count(*) sees every rejected row', async () => {
    const { rejectedBytes, report } = await runOnText(csv)
    const { columns, rows } = await readWithDuckDb(rejectedBytes)
    expect(columns).toEqual(header)
    expect(rows).toHaveLength(report.rejected_rows)
    expect(rows.map((row) => row.slice(0, 4))).toEqual(expectedRows)
  })

  it('keeps the exact bytes of each record in _raw_record, so the original file can be rebuilt', async () => {
    const { rejectedCsv } = await runOnText(csv)
    const rows = parse(rejectedCsv, { columns: true }) as Record<string, string>[]
    expect(rows.map((row) => row._raw_record)).toEqual([
      sourceLines[2],
      sourceLines[4],
      `${sourceLines[5]}\r\n${sourceLines[6]}`,
      sourceLines[7],
      sourceLines[8],
      sourceLines[9],
      sourceLines[10],
    ])
  })

  it('leaves the field columns of a row with too many fields empty: they cannot be mapped to columns', async () => {
    const { rejectedCsv } = await runOnText(csv)
    const rows = parse(rejectedCsv, { columns: true }) as Record<string, string>[]
    const tooMany = rows.filter((row) => row._reason === 'too_many_fields')
    expect(tooMany).toHaveLength(2)
    for (const row of tooMany) {
      expect([...LISTINGS_HEADER.split(','), 'notes'].map((name) => row[name])).toEqual([
        '',
        '',
        '',
        '',
        '',
        '',
        '',
      ])
    }
    expect(rows.find((row) => row._source_line === '10')).toMatchObject({
      region: 'London',
      category: '',
      notes: '',
    })
  })

  it('writes a header-only file when nothing is rejected', async () => {
    const { rejectedCsv } = await runOnText(`${LISTINGS_HEADER}\n2024-01-01,S1,London,Toys,A,1\n`)
    expect(rejectedCsv).toBe(`_source_line,_bucket,_reason,_detail,${LISTINGS_HEADER},_raw_record\n`)
  })
})

describe('invalid UTF-8 in the rejects file', () => {
  const file = bytes(
    `${LISTINGS_HEADER}\n`,
    '2024-01-01,S1,London,Toys,"I',
    [0xff],
    ' ""x""\n2",10\n',
    '2024-01-01,S1,London,Toys,I',
    [0xfe],
    ',10,surplus\n',
    '2024-01-01,S1,London,Toys,I',
    [0xc3],
    '\n',
  )

  it('survives byte for byte, in the field columns and in _raw_record', async () => {
    const { rejectedBytes } = await runOnText(file)
    const rows = parse(rejectedBytes.toString('latin1'), { columns: true }) as Record<string, string>[]
    expect(rows.map((row) => row._reason)).toEqual(['invalid_encoding', 'too_many_fields', 'missing_field'])
    expect(rows.map((row) => Buffer.from(row._raw_record as string, 'latin1'))).toEqual([
      bytes('2024-01-01,S1,London,Toys,"I', [0xff], ' ""x""\n2",10'),
      bytes('2024-01-01,S1,London,Toys,I', [0xfe], ',10,surplus'),
      bytes('2024-01-01,S1,London,Toys,I', [0xc3]),
    ])
    expect(Buffer.from(rows[0]?.item_id as string, 'latin1')).toEqual(bytes('I', [0xff], ' "x"\n2'))
    expect(Buffer.from(rows[2]?.item_id as string, 'latin1')).toEqual(bytes('I', [0xc3]))
  })

  it('stays rectangular for csv-parse with default options', async () => {
    const { rejectedBytes } = await runOnText(file)
    const rows = parse(rejectedBytes) as string[][]
    expect(rows).toHaveLength(4)
    for (const row of rows) expect(row).toHaveLength(4 + 6 + 1)
  })

  it('is refused loudly, not misread, by DuckDB under default options; latin-1 decoding shows every row', async () => {
    const { rejectedBytes } = await runOnText(file)
    await expect(readWithDuckDb(rejectedBytes)).rejects.toThrow(/Invalid unicode/)
    const { columns, rows } = await readWithDuckDb(rejectedBytes, "encoding = 'latin-1'")
    expect(columns).toHaveLength(4 + 6 + 1)
    expect(rows.map((row) => row[2])).toEqual(['invalid_encoding', 'too_many_fields', 'missing_field'])
  })
})

describe('replaying the rejects file through the pipeline', () => {
  const original = bytes(
    `${LISTINGS_HEADER},notes\n`,
    '2024-01-01,S1,,Toys,A,10,"fix my region"\n',
    '2024-01-01,S1,London,Toys,B,-5,"say ""hi""\r\nthere"\n',
    '2024-01-01,S1,London,Toys,C',
    [0xff],
    ',10,\n',
    '2024-01-01,S1,London,Home, Garden,D,10,\n',
  )

  it('ignores our _ columns on the way in and does not stack a second set on the way out', async () => {
    const first = await runOnText(original)
    const second = await runOnText(first.rejectedBytes)
    const [firstHeader] = parse(first.rejectedCsv) as string[][]
    const [secondHeader] = parse(second.rejectedCsv) as string[][]
    expect(secondHeader).toEqual(firstHeader)
    expect(second.report.input.listings.ignored_columns).toEqual([...META, 'notes', '_raw_record'])
    expect(second.report).toMatchObject({ source_rows: 4, valid_rows_after_clean: 0 })
  })

  it('keeps each row rejected for the same reason, with its original bytes carried over in _raw_record', async () => {
    const first = await runOnText(original)
    const second = await runOnText(first.rejectedBytes)
    const third = await runOnText(second.rejectedBytes)
    const rowsOf = (run: typeof first) =>
      parse(run.rejectedBytes.toString('latin1'), { columns: true }) as Record<string, string>[]
    const [one, two, three] = [rowsOf(first), rowsOf(second), rowsOf(third)]
    expect(one.map((row) => row._reason)).toEqual([
      'missing_field',
      'non_positive_price',
      'invalid_encoding',
      'too_many_fields',
    ])
    // A row with too many fields has no mapped fields, so on replay it lacks them all.
    expect(two.map((row) => row._reason)).toEqual([
      'missing_field',
      'non_positive_price',
      'invalid_encoding',
      'missing_field',
    ])
    expect(two.map((row) => row._raw_record)).toEqual(one.map((row) => row._raw_record))
    expect(three.map((row) => row._raw_record)).toEqual(one.map((row) => row._raw_record))
    expect(Buffer.from(three[2]?._raw_record as string, 'latin1')).toEqual(
      bytes('2024-01-01,S1,London,Toys,C', [0xff], ',10,'),
    )
    expect(three[1]?.notes).toBe('say "hi"\r\nthere')
    expect(third.rejectedBytes.equals(second.rejectedBytes)).toBe(true)
  })

  it('accepts a row once its fields are fixed in place', async () => {
    const first = await runOnText(original)
    // Edit the bytes, not decoded text: decoding would turn the invalid bytes of another row into U+FFFD.
    const fixed = Buffer.from(
      first.rejectedBytes.toString('latin1').replace('S1,,Toys,A,10', 'S1,Leeds,Toys,A,10'),
      'latin1',
    )
    const { report } = await runOnText(fixed)
    expect(report).toMatchObject({ source_rows: 4, valid_rows_after_clean: 1, rows_after_dedup: 1 })
  })
})

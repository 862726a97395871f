import { parse } from 'csv-parse/sync'
import { describe, expect, it } from 'vitest'
import { MemorySink } from '../../shared/src/byte-streams.js'
import { RejectedRowsWriter, toCsvLine } from '../../shared/src/rejects.js'
import { LISTINGS_HEADER, runOnText } from '../helpers/sources.js'

describe('toCsvLine', () => {
  it('quotes only fields that need it', () => {
    expect(toCsvLine(['a', 'b c', 'x,y', 'say "hi"', 'two\nlines', ' pad', ''])).toBe(
      'a,b c,"x,y","say ""hi""","two\nlines"," pad",\n',
    )
  })
})

describe('RejectedRowsWriter', () => {
  it('writes a header, then line, bucket, reason, detail and the original fields', async () => {
    const sink = new MemorySink()
    const writer = new RejectedRowsWriter(sink, ['date', 'price_gbp'])
    await writer.add(7, 'non_positive_price', 'price_gbp', [' 2024-01-01 ', '-1'])
    expect(await writer.finish()).toBe(1)
    expect(sink.bytes().toString()).toBe(
      '_source_line,_bucket,_reason,_detail,date,price_gbp\n' +
        '7,dropped_non_positive_price,non_positive_price,price_gbp," 2024-01-01 ",-1\n',
    )
  })
})

describe('rejected rows in a run', () => {
  const csv = [
    `${LISTINGS_HEADER},notes`,
    '2024-01-01,S1,London,Electronics,A,10,ok',
    '2024-01-01,S1,,Electronics,B,10,"no region, sadly"',
    '',
    '2024-02-30,S1,London,Electronics,C,10,',
    '"2024-01-01","S1","London","Electronics","D","abc","multi',
    'line"',
    '2024-01-01,S1,London,Electronics,E,-1,x,surplus',
    '2024-01-01,S1,London,Electronics,F,1e999',
  ].join('\r\n')

  it('records every rejected row once, with its source line and reason, replayable as CSV', async () => {
    const { rejectedCsv, report } = await runOnText(csv)
    const records = parse(rejectedCsv, { columns: true, relax_column_count: true }) as Record<
      string,
      string
    >[]
    expect(records.map((r) => [r._source_line, r._bucket, r._reason, r._detail, r.item_id])).toEqual([
      ['3', 'dropped_missing_required', 'missing_field', 'region', 'B'],
      ['5', 'dropped_missing_required', 'invalid_date', 'date', 'C'],
      ['6', 'dropped_non_positive_price', 'non_numeric_price', 'price_gbp', 'D'],
      ['8', 'dropped_missing_required', 'too_many_fields', '8 fields, header has 7', 'E'],
      ['9', 'dropped_non_positive_price', 'non_finite_price', 'price_gbp', 'F'],
    ])
    expect(records[0]?.notes).toBe('no region, sadly')
    expect(records[2]?.notes).toBe('multi\r\nline')
    expect(records.length).toBe(report.dropped_missing_required + report.dropped_non_positive_price)
  })

  it('keeps the fields of a too-long row, including the surplus ones', async () => {
    const { rejectedCsv } = await runOnText(csv)
    const rows = parse(rejectedCsv, { relax_column_count: true }) as string[][]
    expect(rows.find((r) => r[2] === 'too_many_fields')?.slice(4)).toEqual([
      '2024-01-01',
      'S1',
      'London',
      'Electronics',
      'E',
      '-1',
      'x',
      'surplus',
    ])
  })

  it('writes a header-only file when nothing is rejected', async () => {
    const { rejectedCsv } = await runOnText(`${LISTINGS_HEADER}\n2024-01-01,S1,London,Toys,A,1\n`)
    expect(rejectedCsv).toBe(`_source_line,_bucket,_reason,_detail,${LISTINGS_HEADER}\n`)
  })
})

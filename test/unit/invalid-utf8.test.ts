import { describe, expect, it } from 'vitest'
import { InputError } from '../../shared/src/errors.js'
import { readWithHyparquet } from '../helpers/parquet-readers.js'
import { LISTINGS_HEADER, runOnText } from '../helpers/sources.js'

/** Bytes from text (UTF-8) and raw byte lists, in order. */
const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))))

describe('invalid UTF-8 in the listings', () => {
  const file = bytes(
    `${LISTINGS_HEADER},notes\n`,
    '2024-01-01,S1,London,Toys,I',
    [0xff],
    ',10,\n',
    '2024-01-01,S1,London,Toys,I',
    [0xfe],
    ',11,\n',
    '2024-01-01,S1,London,Toys,I,12,\n',
    '2024-01-01,S',
    [0xc3],
    ',London,Toys,J,13,\n',
    '2024-01-01,S1,London,Toys,K,14,note ',
    [0xff, 0xfe],
    '\n',
  )

  it('never merges identifiers: I\\xff and I\\xfe are two rejected rows, not one deduplicated row', async () => {
    const { report, parquet } = await runOnText(file)
    expect(report).toMatchObject({
      source_rows: 5,
      valid_rows_after_clean: 2,
      rows_after_dedup: 2,
      dropped_missing_required: 3,
      dropped_non_positive_price: 0,
      duplicates_removed: 0,
    })
    expect(report.reasons.invalid_encoding).toBe(3)
    expect(report.invalid_encoding_fields).toMatchObject({ item_id: 2, seller_id: 1 })
    expect((await readWithHyparquet(parquet)).map((row) => row.item_id)).toEqual(['I', 'K'])
  })

  it('writes each such row to the rejects file with its original bytes and the column at fault', async () => {
    const { rejectedBytes } = await runOnText(file)
    const text = rejectedBytes.toString('latin1')
    expect(text).toContain(
      '2,dropped_missing_required,invalid_encoding,item_id,2024-01-01,S1,London,Toys,I\xff,10,',
    )
    expect(text).toContain(
      '3,dropped_missing_required,invalid_encoding,item_id,2024-01-01,S1,London,Toys,I\xfe,11,',
    )
    expect(text).toContain('5,dropped_missing_required,invalid_encoding,seller_id,2024-01-01,S\xc3,London,')
    expect(rejectedBytes.includes(bytes('I', [0xff]))).toBe(true)
    expect(rejectedBytes.includes(bytes('I', [0xfe]))).toBe(true)
    expect(rejectedBytes.includes(Buffer.from('\uFFFD'))).toBe(false)
  })

  it('refuses a listings header that is not valid UTF-8, naming the file, line and column', async () => {
    const header = bytes(`${LISTINGS_HEADER},no`, [0xff], 'tes\n2024-01-01,S1,London,Toys,I,12,\n')
    const attempt = runOnText(header)
    await expect(attempt).rejects.toBeInstanceOf(InputError)
    await expect(attempt).rejects.toThrow('listings.csv: line 1: the header is not valid UTF-8 (column 7)')
  })
})

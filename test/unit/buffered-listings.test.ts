import { describe, expect, it } from 'vitest'
import { estimateBufferBytes } from '../../shared/src/buffered-listings.js'
import { readWithHyparquet } from '../helpers/parquet-readers.js'
import { LISTINGS_HEADER, LOOKUP_CSV, runOnText } from '../helpers/sources.js'

describe('the single-pass row buffer', () => {
  it('keeps every label exact past 65,536 distinct values, where its ids widen from 16 to 32 bits', async () => {
    const rows = 70_000
    const lines = Array.from(
      { length: rows },
      (_, i) => `2024-01-01,S${i},R${i % 3},${i % 2 ? 'Toys' : 'Electronics'},I${i},${(i % 500) + 1}`,
    )
    const csv = `${LISTINGS_HEADER}\n${lines.join('\n')}\n`
    const onePass = await runOnText(csv, LOOKUP_CSV, { chunkSize: 1 << 20 })
    const twoPasses = await runOnText(csv, LOOKUP_CSV, { chunkSize: 1 << 20, memoryBudgetBytes: 0 })
    expect(onePass.parquet.equals(twoPasses.parquet)).toBe(true)
    const read = await readWithHyparquet(onePass.parquet)
    expect(read).toHaveLength(rows)
    expect(read[65_536]).toMatchObject({ seller_id: 'S65536', item_id: 'I65536' })
    expect(read[rows - 1]).toMatchObject({ seller_id: `S${rows - 1}`, region: `R${(rows - 1) % 3}` })
  })

  it('plans about 40 bytes a row plus the item id', () => {
    expect(estimateBufferBytes(1_000_000, 8)).toBe(48_000_000)
  })
})

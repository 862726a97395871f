import { describe, expect, it } from 'vitest'
import { MemorySink } from '../../shared/src/byte-streams.js'
import { parseIsoDate } from '../../shared/src/date.js'
import { type EnrichedListing, ListingsParquetWriter } from '../../shared/src/parquet.js'
import { duckdb, readWithDuckdb, readWithHyparquet, tempParquet } from '../helpers/parquet-readers.js'

function listing(i: number, overrides: Partial<EnrichedListing> = {}): EnrichedListing {
  return {
    date: (parseIsoDate('2024-01-01') as number) + (i % 366),
    seller_id: `S${i}`,
    region: i % 2 ? 'NA' : 'Wales',
    category: 'Electronics',
    item_id: String(i).padStart(6, '0'),
    price_gbp: i + 0.25,
    segment: i % 3 ? 'Tech' : null,
    ...overrides,
  }
}

async function write(rows: EnrichedListing[], rowGroupSize?: number): Promise<Buffer> {
  const sink = new MemorySink()
  const writer = new ListingsParquetWriter(sink, rowGroupSize ? { rowGroupSize } : {})
  for (const row of rows) await writer.append(row, row.segment)
  const summary = await writer.finish()
  expect(summary.rows).toBe(rows.length)
  return sink.bytes()
}

describe('ListingsParquetWriter', () => {
  it('writes the contract schema: column order and DuckDB types', async () => {
    const path = tempParquet(await write([listing(1)]))
    const columns = await duckdb(`DESCRIBE SELECT * FROM '${path}'`)
    expect(columns.map((c) => [c.column_name, c.column_type])).toEqual([
      ['date', 'DATE'],
      ['seller_id', 'VARCHAR'],
      ['region', 'VARCHAR'],
      ['category', 'VARCHAR'],
      ['item_id', 'VARCHAR'],
      ['price_gbp', 'DOUBLE'],
      ['segment', 'VARCHAR'],
    ])
  })

  it('compresses every column chunk with Snappy', async () => {
    const path = tempParquet(
      await write(
        Array.from({ length: 2500 }, (_, i) => listing(i)),
        1000,
      ),
    )
    const chunks = await duckdb(
      `SELECT row_group_id, path_in_schema, compression FROM parquet_metadata('${path}')`,
    )
    expect(chunks).toHaveLength(3 * 7)
    for (const chunk of chunks) expect(chunk.compression).toBe('SNAPPY')
  })

  it('marks segment optional and every other column required', async () => {
    const path = tempParquet(await write([listing(1)]))
    const schema = await duckdb(`SELECT name, repetition_type, logical_type FROM parquet_schema('${path}')`)
    const repetition = Object.fromEntries(schema.map((s) => [s.name, s.repetition_type]))
    expect(repetition).toMatchObject({
      date: 'REQUIRED',
      seller_id: 'REQUIRED',
      price_gbp: 'REQUIRED',
      segment: 'OPTIONAL',
    })
  })

  it('round-trips values, nulls and row order through two independent readers', async () => {
    const rows = Array.from({ length: 250 }, (_, i) => listing(i))
    rows[7] = listing(7, {
      item_id: '007',
      seller_id: 'Café ☕',
      segment: 'Home, Garden "quoted"',
      price_gbp: 1e-300,
    })
    const bytes = await write(rows, 100)
    const expected = rows.map((r) => ({
      ...r,
      date: new Date(r.date * 86_400_000).toISOString().slice(0, 10),
    }))
    expect(await readWithDuckdb(tempParquet(bytes))).toEqual(expected)
    expect(await readWithHyparquet(bytes)).toEqual(expected)
  })

  it('splits rows into row groups of the configured size', async () => {
    const path = tempParquet(
      await write(
        Array.from({ length: 25 }, (_, i) => listing(i)),
        10,
      ),
    )
    const groups = await duckdb(
      `SELECT row_group_id, any_value(row_group_num_rows) AS n FROM parquet_metadata('${path}') GROUP BY 1 ORDER BY 1`,
    )
    expect(groups.map((g) => Number(g.n))).toEqual([10, 10, 5])
  })

  it('writes a valid zero-row file with the full schema', async () => {
    const bytes = await write([])
    const path = tempParquet(bytes)
    expect(await duckdb(`SELECT count(*)::INTEGER AS n FROM '${path}'`)).toEqual([{ n: 0 }])
    expect((await duckdb(`DESCRIBE SELECT * FROM '${path}'`)).map((c) => c.column_type)).toEqual([
      'DATE',
      'VARCHAR',
      'VARCHAR',
      'VARCHAR',
      'VARCHAR',
      'DOUBLE',
      'VARCHAR',
    ])
    expect(await readWithHyparquet(bytes)).toEqual([])
  })

  it('hands bytes to the sink row group by row group, not all at the end', async () => {
    const sink = new MemorySink()
    const writer = new ListingsParquetWriter(sink, { rowGroupSize: 100 })
    for (let i = 0; i < 300; i++) await writer.append(listing(i), null)
    expect(sink.chunks.length).toBeGreaterThanOrEqual(3)
    await writer.finish()
  })

  it('rejects a row group size that is not a positive integer', () => {
    expect(() => new ListingsParquetWriter(new MemorySink(), { rowGroupSize: 0 })).toThrow(RangeError)
  })
})

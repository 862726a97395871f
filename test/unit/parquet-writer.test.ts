import { describe, expect, it } from 'vitest'
import { MemorySink } from '../../shared/src/byte-streams.js'
import { parseIsoDate } from '../../shared/src/date.js'
import type { EnrichedListing } from '../../shared/src/parquet.js'
import { ListingsParquetWriter } from '../../shared/src/parquet-writer.js'
import {
  arrowTable,
  duckdb,
  type ReadColumn,
  readFileWithAllReaders,
  readWithAllReaders,
  tempParquet,
} from '../helpers/parquet-readers.js'

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

/** Listings 0 to `count - 1`. */
function listings(count: number): EnrichedListing[] {
  return Array.from({ length: count }, (_, i) => listing(i))
}

/** The contract's output schema, as every reader must see it. */
const CONTRACT_SCHEMA: ReadColumn[] = [
  { name: 'date', type: 'DATE', nullable: false },
  { name: 'seller_id', type: 'STRING', nullable: false },
  { name: 'region', type: 'STRING', nullable: false },
  { name: 'category', type: 'STRING', nullable: false },
  { name: 'item_id', type: 'STRING', nullable: false },
  { name: 'price_gbp', type: 'DOUBLE', nullable: false },
  { name: 'segment', type: 'STRING', nullable: true },
]

/** Footer metadata as the pipeline writes it. */
const METADATA = { 'listings_ingest.source_sha256': 'ab'.repeat(32) }

async function write(
  rows: EnrichedListing[],
  rowGroupSize?: number,
  metadata: Record<string, string> = METADATA,
): Promise<Buffer> {
  const sink = new MemorySink()
  const writer = new ListingsParquetWriter(sink, { metadata, ...(rowGroupSize ? { rowGroupSize } : {}) })
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
    const path = tempParquet(await write(listings(2500), 1000))
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

  it('round-trips values, nulls, unicode and row order through DuckDB, hyparquet and Arrow', async () => {
    const rows = listings(250)
    rows[7] = listing(7, {
      item_id: '007',
      seller_id: 'Café ☕',
      segment: 'Home, Garden "quoted"',
      price_gbp: 1e-300,
    })
    rows[8] = listing(8, {
      seller_id: '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀',
      region: '東京',
      category: 'e\u0301lectronique',
      segment: '',
    })
    rows[9] = listing(9, { item_id: 'x'.repeat(5000), price_gbp: Number.MAX_VALUE })
    const bytes = await write(rows, 100)
    const expected = rows.map((r) => ({
      ...r,
      date: new Date(r.date * 86_400_000).toISOString().slice(0, 10),
    }))
    const read = await readFileWithAllReaders(tempParquet(bytes))
    expect(read.schema).toEqual(CONTRACT_SCHEMA)
    expect(read.layout).toEqual({ rowGroups: [100, 100, 50], codecs: ['SNAPPY'], metadata: METADATA })
    expect(read.rows).toEqual(expected)
  })

  it('splits rows into row groups of the configured size', async () => {
    const path = tempParquet(await write(listings(25), 10))
    const groups = await duckdb(
      `SELECT row_group_id, any_value(row_group_num_rows) AS n FROM parquet_metadata('${path}') GROUP BY 1 ORDER BY 1`,
    )
    expect(groups.map((g) => Number(g.n))).toEqual([10, 10, 5])
  })

  it('writes a zero-row file that DuckDB, hyparquet and Arrow read, with the full schema', async () => {
    // Arrow's reader refused this file before: the empty row_groups list was typed 0, not STRUCT.
    const path = tempParquet(await write([]))
    // No row groups, so no column chunks and no codec to see.
    expect(await readFileWithAllReaders(path)).toEqual({
      schema: CONTRACT_SCHEMA,
      layout: { rowGroups: [], codecs: [], metadata: METADATA },
      rows: [],
    })
    expect(await duckdb(`SELECT count(*)::INTEGER AS n FROM '${path}'`)).toEqual([{ n: 0 }])
  })

  it('writes a file without footer metadata that Arrow reads', async () => {
    // An empty key_value_metadata list was typed 0 too, breaking Arrow even on files with rows.
    for (const rows of [[], [listing(1)]]) {
      const bytes = await write(rows, undefined, {})
      expect(arrowTable(bytes).rows).toHaveLength(rows.length)
      expect(await readWithAllReaders(tempParquet(bytes))).toHaveLength(rows.length)
    }
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

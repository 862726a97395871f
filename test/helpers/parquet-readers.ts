import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { parquetReadObjects } from 'hyparquet'

/** A row as read back from Parquet, with the date formatted `YYYY-MM-DD`. */
export interface ReadRow {
  date: string
  seller_id: string
  region: string
  category: string
  item_id: string
  price_gbp: number
  segment: string | null
}

let instance: Promise<DuckDBInstance> | undefined

/** Runs SQL in a shared in-memory DuckDB and returns rows as JSON-like objects. */
export async function duckdb(sql: string): Promise<Record<string, unknown>[]> {
  instance ??= DuckDBInstance.create(':memory:')
  const connection = await (await instance).connect()
  try {
    const result = await connection.runAndReadAll(sql)
    return result.getRowObjectsJson() as Record<string, unknown>[]
  } finally {
    connection.closeSync()
  }
}

/** Writes bytes to a fresh temporary file and returns its path, for DuckDB to read. */
export function tempParquet(bytes: Uint8Array): string {
  const path = join(mkdtempSync(join(tmpdir(), 'ingest-test-')), 'data.parquet')
  writeFileSync(path, bytes)
  return path
}

/** Reads a Parquet file's rows with DuckDB, in file order. */
export async function readWithDuckdb(path: string): Promise<ReadRow[]> {
  const rows = await duckdb(
    `SELECT strftime(date, '%Y-%m-%d') AS date, seller_id, region, category, item_id, price_gbp, segment
     FROM read_parquet('${path}', file_row_number = true) ORDER BY file_row_number`,
  )
  return rows as unknown as ReadRow[]
}

/** Reads Parquet bytes with hyparquet, a second independent reader. */
export async function readWithHyparquet(bytes: Uint8Array): Promise<ReadRow[]> {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
  const rows = await parquetReadObjects({ file })
  return rows.map((row) => ({
    ...(row as Omit<ReadRow, 'date'>),
    date: (row.date as Date).toISOString().slice(0, 10),
  }))
}

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import type { SchemaElement } from 'hyparquet'
import { parquetMetadata, parquetReadObjects } from 'hyparquet'
import { Compression, ParquetFile, readParquet, wasmMemory } from 'parquet-wasm'
import { expect } from 'vitest'

/**
 * Three independent Parquet readers, so that a file the pipeline writes is
 * proven readable by more than the library that wrote it:
 *
 * - DuckDB (C++, its own Parquet reader),
 * - hyparquet (JavaScript, the reading half of the writer's project),
 * - Arrow's Rust reader (arrow-rs `parquet` crate, compiled to WebAssembly as
 *   `parquet-wasm`), the reader behind most Arrow-based tools; it is the
 *   strictest of the three about the footer's Thrift encoding.
 *
 * {@link readWithAllReaders} reads with all three and asserts they agree.
 */

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

/** A column as a reader sees it: the logical type names the three readers share. */
export interface ReadColumn {
  name: string
  type: 'DATE' | 'STRING' | 'DOUBLE' | `other: ${string}`
  nullable: boolean
}

/** How a file is laid out, as a reader's view of its footer. */
export interface ReadLayout {
  /** Rows in each row group, in order. */
  rowGroups: number[]
  /** The distinct compression codecs of the column chunks, sorted (none for a file without rows). */
  codecs: string[]
  /** The footer's key-value metadata. */
  metadata: Record<string, string>
}

/** What one reader made of a file. */
export interface ReaderResult {
  schema: ReadColumn[]
  layout: ReadLayout
  rows: ReadRow[]
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

/**
 * Reads a Parquet file with DuckDB, hyparquet and Arrow's Rust reader, asserts
 * that all three see the same schema (names, logical types, nullability), row
 * count and rows, and returns the rows in file order.
 */
export async function readWithAllReaders(path: string): Promise<ReadRow[]> {
  return (await readFileWithAllReaders(path)).rows
}

/**
 * Reads a Parquet file with all three readers and asserts that they agree on
 * its schema, layout (row groups, codecs, footer metadata), row count and
 * rows; returns what they agree on.
 */
export async function readFileWithAllReaders(path: string): Promise<ReaderResult> {
  const bytes = new Uint8Array(readFileSync(path))
  const readers: [string, ReaderResult][] = [
    ['hyparquet', await hyparquetResult(bytes)],
    ['Arrow (parquet-wasm)', await arrowResult(bytes)],
  ]
  const duck = await duckdbResult(path)
  for (const [name, result] of readers) {
    expect(result.schema, `${name} and DuckDB disagree on the schema of ${path}`).toEqual(duck.schema)
    expect(result.layout, `${name} and DuckDB disagree on the layout of ${path}`).toEqual(duck.layout)
    expect(result.rows.length, `${name} and DuckDB disagree on the row count of ${path}`).toBe(
      duck.rows.length,
    )
    expect(result.rows, `${name} and DuckDB disagree on the rows of ${path}`).toEqual(duck.rows)
  }
  return duck
}

/**
 * Reads a Parquet file's rows, in file order. Despite the name it reads with
 * all three readers and asserts they agree: see {@link readWithAllReaders}.
 */
export function readWithDuckdb(path: string): Promise<ReadRow[]> {
  return readWithAllReaders(path)
}

/**
 * Reads Parquet bytes' rows, in file order. Despite the name it reads with
 * all three readers and asserts they agree: see {@link readWithAllReaders}.
 */
export function readWithHyparquet(bytes: Uint8Array): Promise<ReadRow[]> {
  return readWithAllReaders(tempParquet(bytes))
}

/** DuckDB's view of a file: its column types and its rows in file order. */
export async function duckdbResult(path: string): Promise<ReaderResult> {
  const quoted = path.replaceAll("'", "''")
  const described = await duckdb(`DESCRIBE SELECT * FROM read_parquet('${quoted}')`)
  // DuckDB's DESCRIBE says every column may be null; the file's repetition says which may.
  const repetition = new Map(
    (await duckdb(`SELECT name, repetition_type FROM parquet_schema('${quoted}')`)).map((element) => [
      element.name,
      element.repetition_type,
    ]),
  )
  const schema = described.map(
    (column): ReadColumn => ({
      name: column.column_name as string,
      type: duckdbType(column.column_type as string),
      nullable: repetition.get(column.column_name) === 'OPTIONAL',
    }),
  )
  const groups = await duckdb(
    `SELECT row_group_id, any_value(row_group_num_rows)::INTEGER AS n FROM parquet_metadata('${quoted}')
     GROUP BY row_group_id ORDER BY row_group_id`,
  )
  const codecs = await duckdb(`SELECT DISTINCT compression FROM parquet_metadata('${quoted}')`)
  const metadata = await duckdb(
    `SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata('${quoted}')`,
  )
  const layout = {
    rowGroups: groups.map((group) => group.n as number),
    codecs: codecs.map((codec) => codec.compression as string).sort(),
    metadata: Object.fromEntries(metadata.map(({ key, value }) => [key as string, value as string])),
  }
  const rows = await duckdb(
    `SELECT strftime(date, '%Y-%m-%d') AS date, seller_id, region, category, item_id, price_gbp, segment
     FROM read_parquet('${quoted}', file_row_number = true) ORDER BY file_row_number`,
  )
  return { schema, layout, rows: rows as unknown as ReadRow[] }
}

/** hyparquet's view of a file. */
export async function hyparquetResult(bytes: Uint8Array): Promise<ReaderResult> {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
  const metadata = parquetMetadata(file)
  const schema = metadata.schema.slice(1).map(
    (element): ReadColumn => ({
      name: element.name,
      type: hyparquetType(element),
      nullable: element.repetition_type === 'OPTIONAL',
    }),
  )
  const layout = {
    rowGroups: metadata.row_groups.map((group) => Number(group.num_rows)),
    codecs: distinctSorted(
      metadata.row_groups.flatMap((group) => group.columns.map((column) => column.meta_data?.codec ?? '')),
    ),
    metadata: Object.fromEntries(
      (metadata.key_value_metadata ?? []).map(({ key, value }) => [key, value ?? '']),
    ),
  }
  const rows = (await parquetReadObjects({ file, metadata })).map((row) => ({
    ...(row as Omit<ReadRow, 'date'>),
    date: (row.date as Date).toISOString().slice(0, 10),
  }))
  return { schema, layout, rows }
}

/**
 * Arrow's Rust reader's view of a file: the layout from its footer reader, the
 * schema and rows from {@link arrowTable}.
 */
export async function arrowResult(bytes: Uint8Array): Promise<ReaderResult> {
  const file = await ParquetFile.fromFile(new Blob([bytes]))
  try {
    const footer = file.metadata()
    const groups = footer.rowGroups()
    const layout = {
      rowGroups: groups.map((group) => group.numRows()),
      codecs: distinctSorted(
        groups.flatMap((group) =>
          group.columns().map((column) => Compression[column.compression()] as string),
        ),
      ),
      metadata: Object.fromEntries(footer.fileMetadata().keyValueMetadata()) as Record<string, string>,
    }
    return { ...arrowTable(bytes), layout }
  } finally {
    file.free()
  }
}

/**
 * Arrow's Rust reader's schema and rows. parquet-wasm decodes into Arrow
 * arrays in WebAssembly memory; they are read out through the Arrow C Data
 * Interface (wasm32 layout), which needs no Arrow JS library and copies every
 * value, so the table can be freed at once.
 */
export function arrowTable(bytes: Uint8Array): Omit<ReaderResult, 'layout'> {
  const stream = readParquet(bytes).intoFFI()
  try {
    // Read the memory only now: it may have grown (and so moved) while reading.
    const memory = new DataView(wasmMemory().buffer)
    const fields = cSchemaChildren(memory, stream.schemaAddr())
    const schema = fields.map(
      (field): ReadColumn => ({ name: field.name, type: arrowType(field.format), nullable: field.nullable }),
    )
    const rows: ReadRow[] = []
    for (const batch of stream.arrayAddrs()) {
      const columns = cArrayChildren(memory, batch).map((array, i) =>
        arrowValues(memory, array, (fields[i] as CField).format),
      )
      const length = Number(memory.getBigInt64(batch, true))
      for (let row = 0; row < length; row++) {
        rows.push(
          Object.fromEntries(fields.map((field, i) => [field.name, columns[i]?.[row]])) as unknown as ReadRow,
        )
      }
    }
    return { schema, rows }
  } finally {
    stream.free()
  }
}

function distinctSorted(values: string[]): string[] {
  return [...new Set(values)].sort()
}

function duckdbType(type: string): ReadColumn['type'] {
  if (type === 'DATE' || type === 'DOUBLE') return type
  if (type === 'VARCHAR') return 'STRING'
  return `other: ${type}`
}

function hyparquetType(element: SchemaElement): ReadColumn['type'] {
  if (element.type === 'INT32' && element.logical_type?.type === 'DATE') return 'DATE'
  if (element.type === 'BYTE_ARRAY' && element.logical_type?.type === 'STRING') return 'STRING'
  if (element.type === 'DOUBLE' && element.logical_type === undefined) return 'DOUBLE'
  return `other: ${element.type} ${element.logical_type?.type ?? ''}`
}

/** Arrow C Data Interface format strings: https://arrow.apache.org/docs/format/CDataInterface.html */
function arrowType(format: string): ReadColumn['type'] {
  if (format === 'tdD') return 'DATE'
  if (format === 'u') return 'STRING'
  if (format === 'g') return 'DOUBLE'
  return `other: ${format}`
}

interface CField {
  name: string
  format: string
  nullable: boolean
}

// Offsets in the C structs as laid out for wasm32 (4-byte pointers, 8-byte int64s).
const SCHEMA = { format: 0, name: 4, flags: 16, nChildren: 24, children: 32 } as const
const ARRAY = { length: 0, offset: 16, nBuffers: 24, nChildren: 32, buffers: 40, children: 44 } as const
const ARROW_FLAG_NULLABLE = 2n

function cString(memory: DataView, pointer: number): string {
  const bytes = new Uint8Array(memory.buffer)
  const end = bytes.indexOf(0, pointer)
  return new TextDecoder().decode(bytes.subarray(pointer, end))
}

function pointers(memory: DataView, at: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => memory.getUint32(at + 4 * i, true))
}

function cSchemaChildren(memory: DataView, schema: number): CField[] {
  const count = Number(memory.getBigInt64(schema + SCHEMA.nChildren, true))
  return pointers(memory, memory.getUint32(schema + SCHEMA.children, true), count).map((child) => ({
    format: cString(memory, memory.getUint32(child + SCHEMA.format, true)),
    name: cString(memory, memory.getUint32(child + SCHEMA.name, true)),
    nullable: (memory.getBigInt64(child + SCHEMA.flags, true) & ARROW_FLAG_NULLABLE) !== 0n,
  }))
}

function cArrayChildren(memory: DataView, array: number): number[] {
  const count = Number(memory.getBigInt64(array + ARRAY.nChildren, true))
  return pointers(memory, memory.getUint32(array + ARRAY.children, true), count)
}

/** One column's values, copied out of WebAssembly memory. */
function arrowValues(memory: DataView, array: number, format: string): (string | number | null)[] {
  const length = Number(memory.getBigInt64(array + ARRAY.length, true))
  const offset = Number(memory.getBigInt64(array + ARRAY.offset, true))
  const buffers = pointers(
    memory,
    memory.getUint32(array + ARRAY.buffers, true),
    Number(memory.getBigInt64(array + ARRAY.nBuffers, true)),
  )
  const validity = buffers[0] ?? 0
  const isValid = (i: number) =>
    validity === 0 || ((memory.getUint8(validity + ((offset + i) >> 3)) >> ((offset + i) & 7)) & 1) === 1
  const decoder = new TextDecoder('utf-8', { fatal: true })
  const value = (i: number): string | number => {
    const at = offset + i
    if (format === 'tdD')
      return new Date(memory.getInt32((buffers[1] as number) + 4 * at, true) * 86_400_000)
        .toISOString()
        .slice(0, 10)
    if (format === 'g') return memory.getFloat64((buffers[1] as number) + 8 * at, true)
    if (format === 'u') {
      const offsets = buffers[1] as number
      const start = memory.getInt32(offsets + 4 * at, true)
      const end = memory.getInt32(offsets + 4 * (at + 1), true)
      return decoder.decode(new Uint8Array(memory.buffer, (buffers[2] as number) + start, end - start))
    }
    throw new Error(`Arrow reader: unsupported column format '${format}'`)
  }
  return Array.from({ length }, (_, i) => (isValid(i) ? value(i) : null))
}

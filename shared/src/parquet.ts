import type { KeyValue, SchemaElement } from 'hyparquet-writer'
import { ByteWriter, ParquetWriter } from 'hyparquet-writer'
import type { ByteSink } from './byte-streams.js'
import type { CleanListing } from './classify.js'
import type { DictionaryStrings, PackedStrings, RowGroupColumns } from './column-chunks.js'
import { appendRowGroup, snappyCompressors } from './column-chunks.js'
import { WorkerEncoder } from './parquet-worker.js'

export type { DictionaryStrings, PackedStrings, RowGroupColumns } from './column-chunks.js'
export { unpackStrings } from './column-chunks.js'

/** A cleaned listing with its segment: one output row. */
export interface EnrichedListing extends CleanListing {
  segment: string | null
}

const STRING = { type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } } as const

/**
 * The output schema, in the contract's column order. Every column but
 * `segment` is REQUIRED: cleaning guarantees a value.
 */
export const LISTINGS_PARQUET_SCHEMA: SchemaElement[] = [
  { name: 'schema', num_children: 7 },
  {
    name: 'date',
    type: 'INT32',
    converted_type: 'DATE',
    logical_type: { type: 'DATE' },
    repetition_type: 'REQUIRED',
  },
  { name: 'seller_id', ...STRING, repetition_type: 'REQUIRED' },
  { name: 'region', ...STRING, repetition_type: 'REQUIRED' },
  { name: 'category', ...STRING, repetition_type: 'REQUIRED' },
  { name: 'item_id', ...STRING, repetition_type: 'REQUIRED' },
  { name: 'price_gbp', type: 'DOUBLE', repetition_type: 'REQUIRED' },
  { name: 'segment', ...STRING, repetition_type: 'OPTIONAL' },
]

/** Options for {@link ListingsParquetWriter}. */
export interface ListingsParquetOptions {
  /**
   * Rows per row group. Larger groups compress better and read faster;
   * smaller ones bound the writer's memory.
   * @default 100000
   */
  rowGroupSize?: number
  /** Key-value metadata stored in the file footer. */
  metadata?: Record<string, string>
  /** The footer's `created_by`. */
  createdBy?: string
  /**
   * Encode row groups on a worker thread that loads this module, so that
   * parsing and Parquet encoding run on two cores. The module must call
   * {@link runParquetWorker} when it is not on the main thread (the CLI's and
   * the Lambda's bundles do).
   * @default undefined (encode on the calling thread)
   */
  worker?: URL
}

/** Column buffers as rows are appended. */
type ColumnBuffers = ReturnType<typeof emptyColumns>

/** Packs the first `count` strings as UTF-8. */
export function packStrings(values: readonly string[], count: number): PackedStrings {
  const offsets = new Uint32Array(count + 1)
  let total = 0
  for (let i = 0; i < count; i++) {
    total += Buffer.byteLength(values[i] as string, 'utf8')
    offsets[i + 1] = total
  }
  // Buffer.alloc never uses the shared pool, so the buffer can be transferred.
  const bytes = Buffer.alloc(total)
  for (let i = 0; i < count; i++) bytes.write(values[i] as string, offsets[i] as number, 'utf8')
  return { bytes, offsets }
}

/**
 * The first `count` values as a dictionary column: distinct values in order
 * of first appearance, one index per row, -1 for null. Both ingest paths
 * number values this way, so they write the same bytes.
 */
export function internStrings(values: readonly (string | null)[], count: number): DictionaryStrings {
  const positions = new Map<string, number>()
  const distinct: string[] = []
  const ids = new Int32Array(count)
  for (let i = 0; i < count; i++) {
    const value = values[i]
    if (value === null || value === undefined) {
      ids[i] = -1
      continue
    }
    let position = positions.get(value)
    if (position === undefined) {
      position = distinct.push(value) - 1
      positions.set(value, position)
    }
    ids[i] = position
  }
  return { values: packStrings(distinct, distinct.length), ids }
}

/** Turns row groups into Parquet bytes, in order; the file's footer on finish. */
export interface RowGroupEncoder {
  /** Takes a row group; resolves when the encoder can take another. */
  write(columns: RowGroupColumns, rows: number): Promise<void>
  /** Writes the footer; resolves when every byte has reached the sink. */
  finish(): Promise<void>
  /** Stops without finishing the file; for runs that failed. */
  abort(): Promise<void>
}

/** What was written, for the report. */
export interface ParquetSummary {
  rows: number
  row_groups: number
  compression: 'SNAPPY'
}

/** Where encoded row groups go: the calling thread, or a worker thread loaded from a module. */
export function rowGroupEncoder(sink: ByteSink, footer: FooterOptions, worker?: URL): RowGroupEncoder {
  return worker ? new WorkerEncoder(worker, sink, footer) : new InThreadEncoder(sink, footer)
}

/** Footer contents for a writer's options. */
export function footerOptions(
  options: Pick<ListingsParquetOptions, 'metadata' | 'createdBy'>,
): FooterOptions {
  return { metadata: options.metadata ?? {}, createdBy: options.createdBy ?? 'listings-ingest' }
}

/** Checks a row-group size option. */
export function checkRowGroupSize(rowGroupSize: number): number {
  if (!Number.isInteger(rowGroupSize) || rowGroupSize < 1) {
    throw new RangeError(`rowGroupSize must be a positive integer, got ${rowGroupSize}`)
  }
  return rowGroupSize
}

/**
 * Streams listings into a Snappy-compressed Parquet file, one row group at a
 * time: memory holds at most one row group's values and its encoded bytes.
 */
export class ListingsParquetWriter {
  readonly #rowGroupSize: number
  readonly #encoder: RowGroupEncoder
  #columns: ColumnBuffers
  #buffered = 0
  #rows = 0
  #rowGroups = 0

  /**
   * @param sink - receives the file's bytes, in order
   * @param options - row group size and footer metadata
   */
  constructor(sink: ByteSink, options: ListingsParquetOptions = {}) {
    this.#rowGroupSize = checkRowGroupSize(options.rowGroupSize ?? 100_000)
    this.#columns = emptyColumns(this.#rowGroupSize)
    this.#encoder = rowGroupEncoder(sink, footerOptions(options), options.worker)
  }

  /**
   * Adds one row; writes a row group whenever one is full.
   *
   * @param row - the cleaned listing
   * @param segment - its segment, or null
   * @returns a promise only when a row group was written; await it (a
   *   promise per row would cost a microtask per row)
   */
  append(row: CleanListing, segment: string | null): Promise<void> | undefined {
    const columns = this.#columns
    const at = this.#buffered
    columns.date[at] = row.date
    columns.seller_id[at] = row.seller_id
    columns.region[at] = row.region
    columns.category[at] = row.category
    columns.item_id[at] = row.item_id
    columns.price_gbp[at] = row.price_gbp
    columns.segment[at] = segment
    if (++this.#buffered === this.#rowGroupSize) return this.#writeRowGroup()
    return undefined
  }

  /** Writes the last row group and the footer. A file with no rows is still valid. */
  async finish(): Promise<ParquetSummary> {
    if (this.#buffered > 0) await this.#writeRowGroup()
    await this.#encoder.finish()
    return { rows: this.#rows, row_groups: this.#rowGroups, compression: 'SNAPPY' }
  }

  /** Abandons the file (the run failed); stops a worker if there is one. */
  async abort(): Promise<void> {
    await this.#encoder.abort()
  }

  async #writeRowGroup(): Promise<void> {
    const rows = this.#buffered
    const columns = rowGroupOf(this.#columns, rows)
    this.#columns = emptyColumns(this.#rowGroupSize)
    this.#buffered = 0
    await this.#encoder.write(columns, rows)
    this.#rows += rows
    this.#rowGroups++
  }
}

/** The first `rows` values of each buffer, as a row group (buffers are used as they are when full). */
function rowGroupOf(buffers: ColumnBuffers, rows: number): RowGroupColumns {
  const full = rows === buffers.date.length
  return {
    date: full ? buffers.date : buffers.date.slice(0, rows),
    seller_id: internStrings(buffers.seller_id, rows),
    region: internStrings(buffers.region, rows),
    category: internStrings(buffers.category, rows),
    item_id: packStrings(buffers.item_id, rows),
    price_gbp: full ? buffers.price_gbp : buffers.price_gbp.slice(0, rows),
    segment: internStrings(buffers.segment, rows),
  }
}

/** Footer contents, shared by both encoders. */
export interface FooterOptions {
  metadata: Record<string, string>
  createdBy: string
}

/** Encodes on the calling thread with hyparquet-writer's building blocks, streaming to the sink. */
export class InThreadEncoder implements RowGroupEncoder {
  readonly #writer: ParquetWriter

  constructor(sink: ByteSink, footer: FooterOptions) {
    const kvMetadata: KeyValue[] = Object.entries(footer.metadata).map(([key, value]) => ({ key, value }))
    this.#writer = new ParquetWriter({
      writer: new SinkWriter(sink),
      schema: LISTINGS_PARQUET_SCHEMA,
      codec: 'SNAPPY',
      compressors: snappyCompressors(),
      kvMetadata,
      createdBy: footer.createdBy,
    })
  }

  async write(columns: RowGroupColumns, rows: number): Promise<void> {
    await appendRowGroup(this.#writer, columns, rows)
  }

  async finish(): Promise<void> {
    await this.#writer.finish()
  }

  async abort(): Promise<void> {}
}

/** Column buffers for one row group, allocated once at full size. */
function emptyColumns(rows: number) {
  return {
    date: new Int32Array(rows),
    seller_id: new Array<string>(rows).fill(''),
    region: new Array<string>(rows).fill(''),
    category: new Array<string>(rows).fill(''),
    item_id: new Array<string>(rows).fill(''),
    price_gbp: new Float64Array(rows),
    segment: new Array<string | null>(rows).fill(null),
  }
}

/**
 * A hyparquet-writer `Writer` that hands its buffer to a sink after every row
 * group (the library calls `flush` there) and at the end, instead of holding
 * the whole file in memory as `ByteWriter` does. On finish the buffer ends
 * with the whole footer, which it corrects (see {@link typeEmptyFooterLists})
 * before handing it over.
 */
class SinkWriter extends ByteWriter {
  readonly #sink: ByteSink

  constructor(sink: ByteSink) {
    super(1 << 20)
    this.#sink = sink
  }

  flush(): void | Promise<void> {
    if (this.index === 0) return
    // Hand over the filled buffer and start a fresh one, rather than copying.
    const filled = new Uint8Array(this.buffer, 0, this.index)
    this.buffer = new ArrayBuffer(this.buffer.byteLength)
    this.view = new DataView(this.buffer)
    this.index = 0
    return this.#sink.write(filled)
  }

  override finish(): void | Promise<void> {
    typeEmptyFooterLists(footerOf(new Uint8Array(this.buffer, 0, this.index)))
    return this.flush()
  }
}

const PARQUET_MAGIC = 0x31524150 // "PAR1", little-endian

/**
 * The Thrift-encoded `FileMetaData` at the end of a buffer that ends with a
 * Parquet file's tail: metadata, its 4-byte length, then "PAR1".
 */
function footerOf(tail: Uint8Array): Uint8Array {
  const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength)
  const length = tail.byteLength >= 8 ? view.getUint32(tail.byteLength - 8, true) : -1
  const start = tail.byteLength - 8 - length
  if (length < 0 || start < 0 || view.getUint32(tail.byteLength - 4, true) !== PARQUET_MAGIC) {
    throw new Error('Parquet writer: the file footer is not where it should be')
  }
  return tail.subarray(start, start + length)
}

// Thrift compact protocol type ids.
const COMPACT = {
  STOP: 0,
  BOOLEAN_TRUE: 1,
  BOOLEAN_FALSE: 2,
  BYTE: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  DOUBLE: 7,
  BINARY: 8,
  LIST: 9,
  SET: 10,
  MAP: 11,
  STRUCT: 12,
} as const

/**
 * `FileMetaData` fields (parquet.thrift) that are lists of structs: schema (2),
 * row_groups (4), key_value_metadata (5) and column_orders (7).
 */
const FILE_METADATA_STRUCT_LISTS = new Set([2, 4, 5, 7])

/**
 * Gives each empty list of structs in `FileMetaData` the element type STRUCT,
 * in place.
 *
 * hyparquet-writer 0.17 takes a list's element type from its first element,
 * so an empty list is written with type 0. Its own reader and DuckDB accept
 * that, but Arrow's Rust reader (and so pyarrow-style tools, Spark, Athena)
 * check the type and refuse the file ("Expected list element type of Struct
 * but got Byte"). Two lists can be empty here: `row_groups` when every row
 * was rejected, and `key_value_metadata` when there is no footer metadata.
 * The library's Thrift writer cannot express a typed empty list, so the
 * encoded footer is corrected instead: the type sits in the low 4 bits of the
 * list's header byte, so the fix changes no length or offset. The walk skips
 * every other field by its encoded type, so it touches only those headers and
 * fails loudly if the footer is not the shape it expects.
 *
 * @param footer - the Thrift compact encoding of a `FileMetaData`
 */
export function typeEmptyFooterLists(footer: Uint8Array): void {
  const reader = new CompactReader(footer)
  let fieldId = 0
  for (let header = reader.byte(); header !== COMPACT.STOP; header = reader.byte()) {
    const type = header & 0x0f
    fieldId = header >> 4 ? fieldId + (header >> 4) : reader.zigzag()
    if (type === COMPACT.LIST && FILE_METADATA_STRUCT_LISTS.has(fieldId)) {
      const listHeader = reader.position
      if (reader.listHeader().size === 0) {
        footer[listHeader] = ((footer[listHeader] as number) & 0xf0) | COMPACT.STRUCT
      }
      reader.position = listHeader
    }
    reader.skip(type)
  }
  if (reader.position !== footer.byteLength) {
    throw new Error('Parquet writer: the file footer has bytes after its end')
  }
}

/** Reads just enough of the Thrift compact protocol to step over any value. */
class CompactReader {
  position = 0
  readonly #bytes: Uint8Array

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes
  }

  byte(): number {
    const value = this.#bytes[this.position++]
    if (value === undefined) throw new Error('Parquet writer: the file footer ends early')
    return value
  }

  /** An unsigned varint, as a number: sizes and lengths, which are small. */
  varint(): number {
    let value = 0
    for (let shift = 0; ; shift += 7) {
      const byte = this.byte()
      value += (byte & 0x7f) * 2 ** shift
      if (byte < 0x80) return value
    }
  }

  zigzag(): number {
    const value = this.varint()
    return value % 2 ? -(value + 1) / 2 : value / 2
  }

  listHeader(): { size: number; elementType: number } {
    const header = this.byte()
    const size = header >> 4 === 15 ? this.varint() : header >> 4
    return { size, elementType: header & 0x0f }
  }

  /** Steps over one value of a compact type (a boolean inside a struct lives in its field header). */
  skip(type: number, inCollection = false): void {
    switch (type) {
      case COMPACT.BOOLEAN_TRUE:
      case COMPACT.BOOLEAN_FALSE:
        if (inCollection) this.position++
        return
      case COMPACT.BYTE:
        this.position++
        return
      case COMPACT.I16:
      case COMPACT.I32:
      case COMPACT.I64:
        this.varint()
        return
      case COMPACT.DOUBLE:
        this.position += 8
        return
      case COMPACT.BINARY: {
        const length = this.varint()
        this.position += length
        return
      }
      case COMPACT.LIST:
      case COMPACT.SET: {
        const { size, elementType } = this.listHeader()
        for (let i = 0; i < size; i++) this.skip(elementType, true)
        return
      }
      case COMPACT.MAP: {
        const size = this.varint()
        if (size === 0) return
        const types = this.byte()
        for (let i = 0; i < size; i++) {
          this.skip(types >> 4, true)
          this.skip(types & 0x0f, true)
        }
        return
      }
      case COMPACT.STRUCT: {
        for (let header = this.byte(); header !== COMPACT.STOP; header = this.byte()) {
          // A zero id delta means the field id follows in full.
          if (header >> 4 === 0) this.zigzag()
          this.skip(header & 0x0f)
        }
        return
      }
      default:
        throw new Error(`Parquet writer: the file footer holds an unknown Thrift type ${type}`)
    }
  }
}

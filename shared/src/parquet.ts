import type { ColumnSource, KeyValue, SchemaElement } from 'hyparquet-writer'
import { ByteWriter, ParquetWriter } from 'hyparquet-writer'
import type { ByteSink } from './byte-streams.js'
import type { CleanListing } from './classify.js'

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
}

/** What was written, for the report. */
export interface ParquetSummary {
  rows: number
  row_groups: number
  compression: 'SNAPPY'
}

/**
 * Streams listings into a Snappy-compressed Parquet file, one row group at a
 * time: memory holds at most one row group's values and its encoded bytes.
 */
export class ListingsParquetWriter {
  readonly #rowGroupSize: number
  readonly #writer: ParquetWriter
  #columns: ReturnType<typeof emptyColumns>
  #buffered = 0
  #rows = 0
  #rowGroups = 0

  /**
   * @param sink - receives the file's bytes, in order
   * @param options - row group size and footer metadata
   */
  constructor(sink: ByteSink, options: ListingsParquetOptions = {}) {
    this.#rowGroupSize = options.rowGroupSize ?? 100_000
    if (!Number.isInteger(this.#rowGroupSize) || this.#rowGroupSize < 1) {
      throw new RangeError(`rowGroupSize must be a positive integer, got ${this.#rowGroupSize}`)
    }
    this.#columns = emptyColumns(this.#rowGroupSize)
    const kvMetadata: KeyValue[] = Object.entries(options.metadata ?? {}).map(([key, value]) => ({
      key,
      value,
    }))
    this.#writer = new ParquetWriter({
      writer: new SinkWriter(sink),
      schema: LISTINGS_PARQUET_SCHEMA,
      codec: 'SNAPPY',
      kvMetadata,
      createdBy: options.createdBy ?? 'listings-ingest',
    })
  }

  /**
   * Adds one row; writes a row group whenever one is full.
   *
   * @param row - the cleaned listing
   * @param segment - its segment, or null
   */
  async append(row: CleanListing, segment: string | null): Promise<void> {
    const columns = this.#columns
    const at = this.#buffered
    columns.date[at] = row.date
    columns.seller_id[at] = row.seller_id
    columns.region[at] = row.region
    columns.category[at] = row.category
    columns.item_id[at] = row.item_id
    columns.price_gbp[at] = row.price_gbp
    columns.segment[at] = segment
    if (++this.#buffered === this.#rowGroupSize) await this.#writeRowGroup()
  }

  /** Writes the last row group and the footer. A file with no rows is still valid. */
  async finish(): Promise<ParquetSummary> {
    if (this.#buffered > 0) await this.#writeRowGroup()
    await this.#writer.finish()
    return { rows: this.#rows, row_groups: this.#rowGroups, compression: 'SNAPPY' }
  }

  async #writeRowGroup(): Promise<void> {
    const rows = this.#buffered
    const full = rows === this.#rowGroupSize
    const { date, seller_id, region, category, item_id, price_gbp, segment } = this.#columns
    const columnData: ColumnSource[] = [
      { name: 'date', data: full ? date : date.subarray(0, rows) },
      { name: 'seller_id', data: full ? seller_id : seller_id.slice(0, rows) },
      { name: 'region', data: full ? region : region.slice(0, rows) },
      { name: 'category', data: full ? category : category.slice(0, rows) },
      { name: 'item_id', data: full ? item_id : item_id.slice(0, rows) },
      { name: 'price_gbp', data: full ? price_gbp : price_gbp.subarray(0, rows) },
      { name: 'segment', data: full ? segment : segment.slice(0, rows) },
    ]
    this.#columns = emptyColumns(this.#rowGroupSize)
    this.#buffered = 0
    await this.#writer.write({ columnData, rowGroupSize: rows })
    this.#rows += rows
    this.#rowGroups++
  }
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
 * the whole file in memory as `ByteWriter` does.
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
    return this.flush()
  }
}

/**
 * The two-pass path's Parquet writer: takes cleaned rows one at a time,
 * buffers one row group's values in columns, and hands each full group to an
 * encoder, on this thread or a worker's. Memory holds at most one row group
 * being filled and one being encoded.
 */
import type { ByteSink } from './byte-streams.js'
import type { CleanListing } from './classify.js'
import { DEFAULT_ROW_GROUP_SIZE } from './limits.js'
import type { ParquetSummary } from './parquet.js'
import { WorkerEncoder } from './parquet-worker.js'
import { internStrings, packStrings, type RowGroupColumns } from './row-group-columns.js'
import { footerOptions, InThreadEncoder, type RowGroupEncoder } from './row-group-encoder.js'

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
   * `runParquetWorker` (parquet-worker.ts) when it is not on the main thread
   * (the CLI's and the Lambda's bundles do).
   * @default undefined (encode on the calling thread)
   */
  worker?: URL
}

/** Column buffers as rows are appended. */
type ColumnBuffers = ReturnType<typeof emptyColumns>

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
    this.#rowGroupSize = checkRowGroupSize(options.rowGroupSize ?? DEFAULT_ROW_GROUP_SIZE)
    this.#columns = emptyColumns(this.#rowGroupSize)
    const footer = footerOptions(options)
    this.#encoder = options.worker
      ? new WorkerEncoder(options.worker, sink, footer)
      : new InThreadEncoder(sink, footer)
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

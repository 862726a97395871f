/**
 * What a run takes: its sources and sinks, the contract's options, and the
 * progress callback. Apart from ingest.ts so the passes it drives can read
 * the options without importing the driver.
 */
import type { ByteSink, ByteSource } from './byte-streams.js'
import type { Thresholds } from './report.js'

/** Where a run is, for a progress display. */
export interface IngestProgress {
  /**
   * `classify` reads and checks every row; `write` writes the kept rows (re-reading
   * the file when the run takes two passes).
   */
  phase: 'classify' | 'write'
  /** Bytes of the listings file read so far in this phase. */
  bytesRead: number
  /** The listings file's size, when the source knows it. */
  totalBytes: number | undefined
  /** Data rows read so far in this phase. */
  rows: number
}

/** Everything one run needs. The caller owns the I/O: sources in, sinks out. */
export interface IngestOptions {
  listings: ByteSource
  lookup: ByteSource
  /** Receives the Parquet file; publish it only if the report's status is `succeeded`. */
  parquet: ByteSink
  /** Receives the rejected-rows CSV. */
  rejected: ByteSink
  /**
   * Extra values treated as missing, besides the empty string.
   * @default []
   */
  nullMarkers?: readonly string[]
  /**
   * Data-quality limits.
   * @default {} (none)
   */
  thresholds?: Thresholds
  /**
   * Rows per Parquet row group.
   * @default 100000
   */
  rowGroupSize?: number
  /**
   * Encode Parquet on a worker thread loaded from this module (see
   * `ListingsParquetOptions.worker`), overlapping it with the second pass's
   * parsing. Used only when the run takes two passes: a single pass has read
   * every row before it encodes, so there is nothing to overlap, and the
   * worker's heap would cost about 120 MB (docs/performance.md).
   * @default undefined (encode on the calling thread)
   */
  parquetWorker?: URL
  /** Called after each chunk of input (about 1 MiB from a file) in each phase. */
  onProgress?: (progress: IngestProgress) => void
  /**
   * Bytes the run may hold for its rows. Under it, one pass: every valid row
   * is buffered in columns (about 40 bytes plus its item id) and the kept
   * rows are encoded from there. When the file's size says the buffer would
   * not fit, or it outgrows the budget on the way, the run takes two passes,
   * holding only the dedup index (about 30 bytes a distinct key) and
   * re-reading the file. Outputs are the same either way.
   * @default DEFAULT_MEMORY_BUDGET_BYTES (1 GiB)
   */
  memoryBudgetBytes?: number
}

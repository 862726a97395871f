import { BufferedListings, estimateBufferBytes } from './buffered-listings.js'
import type { ByteDigest, ByteSink, ByteSource } from './byte-streams.js'
import { DigestingSink, digestingSource } from './byte-streams.js'
import { classifyKey, classifyListing, classifyWithoutLabels, missingValueTest } from './classify.js'
import type { ListingColumn, RejectReason } from './contract.js'
import { bucketOf, LISTING_COLUMNS, REJECT_REASONS, REPORT_SCHEMA_VERSION } from './contract.js'
import type { CsvRecord } from './csv-records.js'
import { readCsvBatches } from './csv-records.js'
import { LastOccurrenceIndex, type RowSet } from './dedup.js'
import { InputError } from './errors.js'
import type { ColumnLayout } from './header.js'
import { headerNames, resolveColumns } from './header.js'
import { DEFAULT_MEMORY_BUDGET_BYTES, DEFAULT_ROW_GROUP_SIZE } from './limits.js'
import type { CategoryLookup } from './lookup.js'
import { loadCategoryLookup } from './lookup.js'
import {
  checkRowGroupSize,
  footerOptions,
  ListingsParquetWriter,
  type ParquetSummary,
  rowGroupEncoder,
} from './parquet.js'
import { RejectedRowsWriter } from './rejects.js'
import type { DqReport, Thresholds } from './report.js'
import { findBreaches, ratio, topUnmatched, UNMATCHED_CATEGORIES_LISTED } from './report.js'

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

/**
 * Runs the ingest contract: classify every listings row, drop duplicates
 * keeping the last, enrich with the lookup's segment, and stream the kept rows
 * to Parquet and the rejected rows to CSV.
 *
 * One pass when the rows fit the memory budget: valid rows are buffered in
 * columns, deduplicated on the way, and the kept rows encoded at the end.
 * Otherwise two passes keep memory bounded by the number of distinct
 * `(date, item_id)` keys rather than by the file: the first classifies rows and
 * finds each key's last row, the second re-reads the file and writes only
 * those rows, in file order. Both give the same outputs, byte for byte.
 *
 * @returns the data-quality report; its `status` says whether the Parquet may be published
 * @throws {InputError} for unusable input: a missing column, malformed CSV, a
 *   conflicting lookup, or a listings file that changed between the passes
 */
export async function ingest(options: IngestOptions): Promise<DqReport> {
  const startedAt = new Date()
  const clock = stopwatch()
  const isNull = missingValueTest(options.nullMarkers)

  const lookup = await loadCategoryLookup(options.lookup, isNull)
  const lookupMs = clock.lap()

  const rejectedSink = new DigestingSink(options.rejected)
  const scan = await classifyPass(options, isNull, rejectedSink)
  const classifyMs = clock.lap()

  const parquetSink = new DigestingSink(options.parquet)
  const written = scan.buffered
    ? await writeBuffered(options, scan, scan.buffered, lookup, parquetSink)
    : await writePass(options, isNull, scan, lookup, parquetSink)
  const writeMs = clock.lap()

  const rejectedRows = scan.dropped.dropped_missing_required + scan.dropped.dropped_non_positive_price
  const ratios = {
    rejected: ratio(rejectedRows, scan.sourceRows),
    without_segment: ratio(written.rowsWithoutSegment, written.parquet.rows),
  }
  const thresholds = options.thresholds ?? {}
  const breaches = findBreaches(ratios, thresholds)
  return {
    schema_version: REPORT_SCHEMA_VERSION,
    status: breaches.length === 0 ? 'succeeded' : 'threshold_breached',
    source_rows: scan.sourceRows,
    valid_rows_after_clean: scan.validRows,
    rows_after_dedup: written.parquet.rows,
    ...scan.dropped,
    duplicates_removed: scan.validRows - written.parquet.rows,
    rows_without_segment: written.rowsWithoutSegment,
    rejected_rows: scan.rejectedRows,
    reasons: scan.reasons,
    missing_fields: scan.missingFields,
    invalid_encoding_fields: scan.invalidEncodingFields,
    ratios,
    unmatched_category_count: written.unmatched.size,
    unmatched_categories: topUnmatched(written.unmatched, UNMATCHED_CATEGORIES_LISTED),
    rows_with_empty_segment: written.rowsWithEmptySegment,
    thresholds: {
      max_rejected_ratio: thresholds.maxRejectedRatio ?? null,
      max_unmatched_segment_ratio: thresholds.maxUnmatchedSegmentRatio ?? null,
      breaches,
    },
    null_markers: [...(options.nullMarkers ?? [])],
    input: {
      listings: {
        name: options.listings.name,
        ...scan.digest,
        columns: scan.layout.names,
        ignored_columns: scan.layout.extra,
      },
      lookup: { name: options.lookup.name, ...lookup.stats },
    },
    output: {
      parquet: { ...written.parquet, ...parquetSink.digest(), published: breaches.length === 0 },
      rejected: { ...rejectedSink.digest(), rows: scan.rejectedRows },
    },
    timings_ms: { lookup: lookupMs, classify: classifyMs, write: writeMs, total: clock.total() },
    started_at: startedAt.toISOString(),
    finished_at: new Date().toISOString(),
  }
}

/** What the first pass learns about the listings file. */
interface ScanResult {
  layout: ColumnLayout<ListingColumn>
  sourceRows: number
  validRows: number
  rejectedRows: number
  dropped: { dropped_missing_required: number; dropped_non_positive_price: number }
  reasons: Record<RejectReason, number>
  missingFields: Record<ListingColumn, number>
  invalidEncodingFields: Record<ListingColumn, number>
  /** One pass: every valid row, deduplicated, ready to encode. */
  buffered: BufferedListings | undefined
  /** Two passes: the last valid row of each (date, item_id) key, by ordinal. */
  keepers: RowSet | undefined
  digest: ByteDigest
}

async function classifyPass(
  options: IngestOptions,
  isNull: (trimmed: string) => boolean,
  rejectedSink: ByteSink,
): Promise<ScanResult> {
  const reading = await openListings(options, 'classify')
  const { layout, header } = reading
  const rejects = new RejectedRowsWriter(rejectedSink, header)
  const reasons = zeroCounts(REJECT_REASONS)
  const missingFields = zeroCounts(LISTING_COLUMNS)
  const invalidEncodingFields = zeroCounts(LISTING_COLUMNS)
  const budget = options.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET_BYTES
  let buffered: BufferedListings | undefined
  let lastOccurrence: LastOccurrenceIndex | undefined
  /** Which ordinals are valid rows, while buffering: the way back to ordinals if the run falls back. */
  let validOrdinals = new GrowableRowSet()
  let ordinal = 0
  let validRows = 0
  for await (const batch of reading.batches) {
    if (buffered === undefined && lastOccurrence === undefined) {
      ;({ buffered, lastOccurrence } = holderFor(
        planFor(options.listings.size, batch, layout.index.item_id),
        budget,
      ))
    }
    for (const record of batch) {
      const outcome = buffered
        ? classifyWithoutLabels(record, layout, isNull)
        : classifyKey(record, layout, isNull)
      if (outcome.ok) {
        if (buffered) {
          const { listing } = outcome as Extract<typeof outcome, { listing: unknown }>
          buffered.add(record, layout.index, listing.date, listing.price_gbp)
          validOrdinals.add(ordinal)
        } else {
          const key = outcome as Extract<typeof outcome, { itemId: string }>
          lastOccurrence?.add(key.date, key.itemId, ordinal)
        }
        validRows++
      } else {
        reasons[outcome.reason]++
        if (outcome.reason === 'missing_field') missingFields[outcome.detail as ListingColumn]++
        if (outcome.reason === 'invalid_encoding') invalidEncodingFields[outcome.detail as ListingColumn]++
        const flushed = rejects.add(record.line, outcome.reason, outcome.detail, record)
        if (flushed) await flushed
      }
      ordinal++
    }
    if (buffered !== undefined && buffered.bytes > budget) {
      // The file's start misled the plan: fall back to two passes, keeping only the keys.
      lastOccurrence = buffered.toLastOccurrenceIndex(validOrdinals.cursor())
      buffered = undefined
      validOrdinals = new GrowableRowSet()
    }
    reading.report(ordinal)
  }
  if (buffered === undefined && lastOccurrence === undefined) {
    // No data rows: the same choice, planned for an empty batch.
    ;({ buffered, lastOccurrence } = holderFor(planFor(0, [], layout.index.item_id), budget))
    if (buffered !== undefined && buffered.bytes > budget) {
      lastOccurrence = new LastOccurrenceIndex()
      buffered = undefined
    }
  }
  const rejectedRows = await rejects.finish()
  const dropped = { dropped_missing_required: 0, dropped_non_positive_price: 0 }
  for (const reason of REJECT_REASONS) dropped[bucketOf(reason)] += reasons[reason]
  return {
    layout,
    sourceRows: ordinal,
    validRows,
    rejectedRows,
    dropped,
    reasons,
    missingFields,
    invalidEncodingFields,
    buffered,
    keepers: lastOccurrence?.takeKeepers(ordinal),
    digest: reading.digest(),
  }
}

/** What the second pass wrote. */
interface WriteResult {
  parquet: ParquetSummary
  rowsWithoutSegment: number
  rowsWithEmptySegment: number
  unmatched: Map<string, number>
}

async function writePass(
  options: IngestOptions,
  isNull: (trimmed: string) => boolean,
  scan: ScanResult,
  lookup: CategoryLookup,
  parquetSink: ByteSink,
): Promise<WriteResult> {
  const reading = await openListings(options, 'write')
  const { layout } = reading
  const writer = new ListingsParquetWriter(parquetSink, {
    ...(options.rowGroupSize === undefined ? {} : { rowGroupSize: options.rowGroupSize }),
    metadata: { 'listings_ingest.source_sha256': scan.digest.sha256 },
    ...(options.parquetWorker ? { worker: options.parquetWorker } : {}),
  })
  const unmatched = new Map<string, number>()
  let rowsWithoutSegment = 0
  let rowsWithEmptySegment = 0
  let ordinal = 0
  try {
    for await (const batch of reading.batches) {
      for (const record of batch) {
        if (scan.keepers?.has(ordinal)) {
          const outcome = classifyListing(record, layout, isNull)
          if (!outcome.ok) throw changedError(options.listings.name)
          const { listing } = outcome
          const segment = lookup.segmentOf(listing.category)
          if (segment === undefined)
            unmatched.set(listing.category, (unmatched.get(listing.category) ?? 0) + 1)
          if (segment === null) rowsWithEmptySegment++
          if (segment == null) rowsWithoutSegment++
          const written = writer.append(listing, segment ?? null)
          if (written) await written
        }
        ordinal++
      }
      reading.report(ordinal)
    }
  } catch (error) {
    await writer.abort()
    throw error
  }
  const digest = reading.digest()
  if (ordinal !== scan.sourceRows || digest.sha256 !== scan.digest.sha256) {
    await writer.abort()
    throw changedError(options.listings.name)
  }
  return { parquet: await writer.finish(), rowsWithoutSegment, rowsWithEmptySegment, unmatched }
}

/**
 * Opens the listings for one pass, with hashing and progress reporting
 * attached, and reads the header.
 */
async function openListings(options: IngestOptions, phase: IngestProgress['phase']) {
  const { listings, onProgress } = options
  let bytesRead = 0
  const { chunks, digest } = digestingSource(listings.open(), (bytes) => {
    bytesRead += bytes
  })
  const batches = readCsvBatches(listings.name, chunks)
  const first = await batches.next()
  const [header, ...rest] = first.done ? [] : first.value
  if (header === undefined) throw new InputError(listings.name, 'file is empty: expected a header row')
  const names = headerNames(listings.name, header)
  async function* records(): AsyncGenerator<CsvRecord[]> {
    if (rest.length > 0) yield rest
    yield* batches
  }
  return {
    header: names,
    layout: resolveColumns(listings.name, names, LISTING_COLUMNS),
    batches: records(),
    digest,
    report(rows: number) {
      onProgress?.({ phase, bytesRead, totalBytes: listings.size, rows })
    },
  }
}

/** How a run will hold its rows, planned from the first batch. */
interface Plan {
  /** Rows expected in the file (a little over the estimate). */
  rows: number
  /** Bytes per item id, a little over the average seen. */
  itemBytes: number
  /** What buffering every row would take. */
  bufferBytes: number
}

/**
 * Estimates the file's rows from the first batch: the file's size over the
 * batch's bytes per record (line endings counted as one byte). With no size
 * known, plans for the first batch only; the budget check after every batch
 * still bounds the buffer.
 */
function planFor(fileBytes: number | undefined, batch: CsvRecord[], itemColumn: number): Plan {
  let itemChars = 0
  let recordBytes = 0
  for (const record of batch) {
    itemChars += record.field(itemColumn)?.length ?? 0
    recordBytes += record.recordBytes().length + 1
  }
  const itemBytes = batch.length === 0 ? 16 : (itemChars / batch.length) * 1.05 + 0.5
  const known = fileBytes !== undefined && batch.length > 0
  // A little over the estimate: the arrays still grow if the rest of the file differs.
  const rows = Math.ceil((known ? (fileBytes / recordBytes) * batch.length : batch.length) * 1.05) + 16
  return { rows, itemBytes, bufferBytes: estimateBufferBytes(rows, itemBytes) }
}

/** One pass (a row buffer) if the plan fits the budget, else two (a dedup index). */
function holderFor(
  plan: Plan,
  budget: number,
): { buffered: BufferedListings | undefined; lastOccurrence: LastOccurrenceIndex | undefined } {
  if (plan.bufferBytes <= budget)
    return { buffered: new BufferedListings(plan.rows, plan.itemBytes), lastOccurrence: undefined }
  const lastOccurrence = new LastOccurrenceIndex()
  lastOccurrence.reserve(plan.rows, plan.itemBytes)
  return { buffered: undefined, lastOccurrence }
}

/** What the single pass wrote from its buffer. */
async function writeBuffered(
  options: IngestOptions,
  scan: ScanResult,
  buffered: BufferedListings,
  lookup: CategoryLookup,
  parquetSink: ByteSink,
): Promise<WriteResult> {
  const rowGroupSize = checkRowGroupSize(options.rowGroupSize ?? DEFAULT_ROW_GROUP_SIZE)
  // On this thread even when a worker is offered: with every row already read there is no
  // parsing left to overlap, and a worker's own heap costs about 120 MB of peak RSS at 1M rows
  // (docs/performance.md).
  const encoder = rowGroupEncoder(
    parquetSink,
    footerOptions({ metadata: { 'listings_ingest.source_sha256': scan.digest.sha256 } }),
  )
  const segmentOf = (category: string) => lookup.segmentOf(category)
  let rows = 0
  let rowGroups = 0
  try {
    for (const group of buffered.rowGroups(rowGroupSize, segmentOf)) {
      await encoder.write(group.columns, group.rows)
      rows += group.rows
      rowGroups++
      options.onProgress?.({
        phase: 'write',
        bytesRead: options.listings.size ?? scan.digest.bytes,
        totalBytes: options.listings.size,
        rows,
      })
    }
    await encoder.finish()
  } catch (error) {
    await encoder.abort()
    throw error
  }
  const counts = buffered.segmentCounts(segmentOf)
  return {
    parquet: { rows, row_groups: rowGroups, compression: 'SNAPPY' },
    rowsWithoutSegment: counts.rowsWithoutSegment,
    rowsWithEmptySegment: counts.rowsWithEmptySegment,
    unmatched: counts.unmatched,
  }
}

/** A set of row ordinals that grows as rows are read, one bit each. */
class GrowableRowSet {
  #bits = new Uint32Array(1024)

  add(ordinal: number): void {
    const word = ordinal >>> 5
    if (word >= this.#bits.length) {
      const larger = new Uint32Array(Math.max(word + 1, this.#bits.length * 2))
      larger.set(this.#bits)
      this.#bits = larger
    }
    this.#bits[word] = (this.#bits[word] as number) | (1 << (ordinal & 31))
  }

  /** A function that returns the members in increasing order, one per call. */
  cursor(): () => number {
    let at = -1
    return () => {
      do at++
      while (((this.#bits[at >>> 5] ?? 0) & (1 << (at & 31))) === 0)
      return at
    }
  }
}

function changedError(name: string): InputError {
  return new InputError(name, 'file changed while it was being read; run again once it is complete')
}

function zeroCounts<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((key) => [key, 0])) as Record<K, number>
}

function stopwatch() {
  const start = performance.now()
  let last = start
  return {
    lap(): number {
      const now = performance.now()
      const elapsed = Math.round(now - last)
      last = now
      return elapsed
    },
    total: () => Math.round(performance.now() - start),
  }
}

/**
 * The write phase, after the classify pass: the kept rows, enriched with
 * their segment, to Parquet, and the segment counts the report gives. A
 * single pass encodes from its buffer; two passes re-read the file.
 */
import type { BufferedListings } from './buffered-listings.js'
import type { ByteSink } from './byte-streams.js'
import { classifyListing } from './classify.js'
import type { ScanResult } from './classify-pass.js'
import type { IngestOptions } from './ingest-options.js'
import { DEFAULT_ROW_GROUP_SIZE } from './limits.js'
import { changedError, openListings } from './listings-pass.js'
import type { CategoryLookup } from './lookup.js'
import type { ParquetSummary } from './parquet.js'
import { checkRowGroupSize, ListingsParquetWriter } from './parquet-writer.js'
import { footerOptions, InThreadEncoder } from './row-group-encoder.js'

/** What the write phase wrote. */
export interface WriteResult {
  parquet: ParquetSummary
  rowsWithoutSegment: number
  rowsWithEmptySegment: number
  unmatched: Map<string, number>
}

/**
 * One pass: encodes the buffered rows left after deduplication, in file
 * order, and counts their segments.
 */
export async function writeFromBuffer(
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
  const encoder = new InThreadEncoder(
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

/**
 * Two passes: re-reads the listings and writes the rows the first pass chose
 * (each key's last), checking that the file has not changed in between.
 */
export async function writeByRereading(
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
  if (ordinal !== scan.counts.sourceRows || digest.sha256 !== scan.digest.sha256) {
    await writer.abort()
    throw changedError(options.listings.name)
  }
  return { parquet: await writer.finish(), rowsWithoutSegment, rowsWithEmptySegment, unmatched }
}

/**
 * The classify pass, the one every run makes, and the choice it makes on the
 * way between holding every valid row (one pass) and only the dedup index
 * (two passes), planned from the file's size and its first batch.
 */
import { BufferedListings, estimateBufferBytes } from './buffered-listings.js'
import type { ByteDigest, ByteSink } from './byte-streams.js'
import { classifyKey, classifyWithoutLabels } from './classify.js'
import type { ListingColumn } from './contract.js'
import { LISTING_COLUMNS, REJECT_REASONS } from './contract.js'
import type { CsvRecord } from './csv-record.js'
import { LastOccurrenceIndex, RowSet } from './dedup.js'
import type { ColumnLayout } from './header.js'
import type { IngestOptions } from './ingest-options.js'
import { DEFAULT_MEMORY_BUDGET_BYTES } from './limits.js'
import { openListings } from './listings-pass.js'
import { RejectedRowsWriter } from './rejects.js'
import type { RowCounts } from './report.js'

/** What the first pass learns about the listings file. */
export interface ScanResult {
  layout: ColumnLayout<ListingColumn>
  counts: RowCounts
  /** One pass: every valid row, deduplicated, ready to encode. */
  buffered: BufferedListings | undefined
  /** Two passes: the last valid row of each (date, item_id) key, by ordinal. */
  keepers: RowSet | undefined
  digest: ByteDigest
}

/**
 * The first pass: classifies every row, writes the rejected ones, and holds
 * the valid ones for the write: all of them, deduplicated, in a
 * {@link BufferedListings} when the plan fits the memory budget (one pass),
 * else only each key's last row in a {@link LastOccurrenceIndex} (two
 * passes). A buffer that outgrows the budget on the way is turned into the
 * index, and the run goes on as two passes.
 */
export async function classifyPass(
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
  let validOrdinals = new RowSet()
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
      validOrdinals = new RowSet()
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
  return {
    layout,
    counts: { sourceRows: ordinal, validRows, rejectedRows, reasons, missingFields, invalidEncodingFields },
    buffered,
    keepers: lastOccurrence?.takeKeepers(ordinal),
    digest: reading.digest(),
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

function zeroCounts<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((key) => [key, 0])) as Record<K, number>
}

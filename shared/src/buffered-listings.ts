/**
 * The single pass's row buffer: every valid row in columns, deduplicated as
 * it is added, then read back as row groups for the encoder.
 *
 * Length: over 250 lines, kept as one module: {@link BufferedListings} is one data structure whose
 * private typed arrays the per-row `add` and the per-row row-group assembly
 * read directly; split across modules, those hot loops would need an
 * accessor call per row and column. The parts that stand alone (the label
 * dictionaries, byte-interner.ts; the hashing and probing, open-addressing.ts)
 * are already apart.
 */
import { ByteInterner, LocalDictionary } from './byte-interner.js'
import type { ListingColumn } from './contract.js'
import type { CsvRecord } from './csv-record.js'
import { LastOccurrenceIndex } from './dedup.js'
import { EMPTY, GROWTH, grow, hashBytes, rehashed, sameBytes } from './open-addressing.js'
import type { RowGroupColumns } from './row-group-columns.js'
import { isAsciiWhiteSpaceByte, trimWhiteSpace } from './whitespace.js'

/**
 * The row table's fill limit. Sized up front for every row of the file, it
 * ends near half full (only distinct keys take slots), so the 0.7 limit is
 * reached only when the plan was short, and it halves the table at 10M rows
 * (2^24 slots, 67 MB, instead of 2^25).
 */
const ROW_TABLE_MAX_LOAD = 0.7

/**
 * Bytes one buffered row costs besides its item id: date 4, price 8, three
 * label ids 6 (2 each while a label has under 65,536 distinct values, else
 * 4), item offset 4, its share of the dedup slot table (4 bytes a slot at
 * 35-70% load, 6-11) and a superseded bit. The planner's estimate
 * (see {@link estimateBufferBytes}); {@link BufferedListings.bytes} is the truth.
 */
export const BYTES_PER_BUFFERED_ROW = 40

/**
 * What a single-pass run would hold for a file: every valid row's columns
 * and dedup slot, plus its item id's bytes.
 *
 * @param rows - data rows expected (from the file size over the bytes per row seen so far)
 * @param itemBytes - average item id length in bytes
 */
export function estimateBufferBytes(rows: number, itemBytes: number): number {
  return Math.ceil(rows * (BYTES_PER_BUFFERED_ROW + itemBytes))
}

/** Where {@link trimmedBytes} leaves the value's bounds. */
const span = new Int32Array(2)

/**
 * A field's bytes trimmed of `White_Space`, as a range of a buffer (bounds
 * in {@link span}). The common case (no `""`, printable ASCII at both ends
 * after ASCII trimming) reads the record's own bytes; anything else is
 * decoded, trimmed as text and encoded again, which is the same value since
 * the row's required fields are valid UTF-8.
 */
function trimmedBytes(record: CsvRecord, column: number): Uint8Array {
  const buffer = record.fieldSpan(column, span)
  if (buffer !== undefined) {
    let start = span[0] as number
    let end = span[1] as number
    while (start < end && isAsciiWhiteSpaceByte(buffer[start] as number)) start++
    while (end > start && isAsciiWhiteSpaceByte(buffer[end - 1] as number)) end--
    if (start < end && (buffer[start] as number) < 0x80 && (buffer[end - 1] as number) < 0x80) {
      span[0] = start
      span[1] = end
      return buffer
    }
  }
  const bytes = Buffer.from(trimWhiteSpace(record.field(column) ?? ''), 'utf8')
  span[0] = 0
  span[1] = bytes.length
  return bytes
}

/** Ids of one label column, row by row. */
type LabelIds = Uint16Array | Int32Array

/** The same ids in an array that can hold `id`: widened to 32 bits once a label passes 65,535 values. */
function widenFor(ids: LabelIds, id: number): LabelIds {
  if (id <= 0xffff || ids instanceof Int32Array) return ids
  const wide = new Int32Array(ids.length)
  wide.set(ids)
  return wide
}

/** What the report needs about the segments of the kept rows. */
export interface SegmentCounts {
  rowsWithoutSegment: number
  rowsWithEmptySegment: number
  unmatched: Map<string, number>
}

/**
 * Every valid row of a file, held in columns until the file is read, with
 * exact last-occurrence deduplication on the way: the single-pass design.
 *
 * Per row: the date (days) and the price as numbers, seller, region and
 * category as ids into {@link ByteInterner}s, the item id's bytes in one
 * arena. A slot table keyed by `(date, item_id)` points at the latest row of
 * each key, and a bitset marks the rows a later one superseded, so the kept
 * rows are the unmarked ones, in file order: each stands where its last
 * occurrence stood. About {@link BYTES_PER_BUFFERED_ROW} bytes a row plus
 * the item id, with no per-row object or string.
 */
export class BufferedListings {
  #dates: Int32Array
  #prices: Float64Array
  /** Label ids: 16 bits each until a label has more distinct values (see {@link widenFor}). */
  #sellers: LabelIds
  #regions: LabelIds
  #categories: LabelIds
  /** Row `i`'s item id is `#items[#itemOffsets[i] .. #itemOffsets[i + 1])`. */
  #itemOffsets: Uint32Array
  #items: Uint8Array
  /** Bit `i` set: row `i` was superseded by a later row with its key. */
  #superseded: Uint32Array
  /** Open addressing: the latest row of each key, or EMPTY. */
  #slots: Int32Array
  #rows = 0
  #keys = 0
  readonly sellers = new ByteInterner()
  readonly regions = new ByteInterner()
  readonly categories = new ByteInterner()

  /**
   * @param rows - rows to make room for up front (growing copies every array and briefly holds both)
   * @param itemBytes - expected bytes per item id
   */
  constructor(rows = 1024, itemBytes = 16) {
    const capacity = Math.max(16, Math.ceil(rows))
    this.#dates = new Int32Array(capacity)
    this.#prices = new Float64Array(capacity)
    this.#sellers = new Uint16Array(capacity)
    this.#regions = new Uint16Array(capacity)
    this.#categories = new Uint16Array(capacity)
    this.#itemOffsets = new Uint32Array(capacity + 1)
    this.#items = new Uint8Array(Math.ceil(capacity * itemBytes))
    this.#superseded = new Uint32Array(Math.ceil(capacity / 32))
    let slots = 1024
    while (capacity > slots * ROW_TABLE_MAX_LOAD) slots *= 2
    this.#slots = new Int32Array(slots).fill(EMPTY)
  }

  /**
   * Buffers a valid row. Its labels and item id are read from the record's
   * bytes, trimmed; `date` and `price` are the parsed values.
   */
  add(
    record: CsvRecord,
    columns: Readonly<Record<ListingColumn, number>>,
    date: number,
    price: number,
  ): void {
    const row = this.#rows
    if (row === this.#dates.length) this.#grow()
    this.#dates[row] = date
    this.#prices[row] = price
    let bytes = trimmedBytes(record, columns.seller_id)
    const seller = this.sellers.intern(bytes, span[0] as number, span[1] as number)
    this.#sellers = widenFor(this.#sellers, seller)
    this.#sellers[row] = seller
    bytes = trimmedBytes(record, columns.region)
    const region = this.regions.intern(bytes, span[0] as number, span[1] as number)
    this.#regions = widenFor(this.#regions, region)
    this.#regions[row] = region
    bytes = trimmedBytes(record, columns.category)
    const category = this.categories.intern(bytes, span[0] as number, span[1] as number)
    this.#categories = widenFor(this.#categories, category)
    this.#categories[row] = category
    bytes = trimmedBytes(record, columns.item_id)
    const start = span[0] as number
    const end = span[1] as number
    const itemAt = this.#itemOffsets[row] as number
    if (itemAt + end - start > this.#items.length)
      this.#items = grow(this.#items, Math.ceil(Math.max(itemAt + end - start, this.#items.length * GROWTH)))
    const items = this.#items
    for (let i = start, at = itemAt; i < end; i++, at++) items[at] = bytes[i] as number
    this.#itemOffsets[row + 1] = itemAt + end - start
    this.#rows++
    this.#deduplicate(row)
  }

  /** Rows buffered: the valid rows so far. */
  get rows(): number {
    return this.#rows
  }

  /** Rows no later row superseded: the rows after deduplication. */
  get keptRows(): number {
    return this.#keys
  }

  /** Bytes held, for the memory budget. */
  get bytes(): number {
    return (
      this.#dates.byteLength +
      this.#prices.byteLength +
      this.#sellers.byteLength +
      this.#regions.byteLength +
      this.#categories.byteLength +
      this.#itemOffsets.byteLength +
      this.#items.byteLength +
      this.#superseded.byteLength +
      this.#slots.byteLength +
      this.sellers.bytes +
      this.regions.bytes +
      this.categories.bytes
    )
  }

  /**
   * The same keys in a {@link LastOccurrenceIndex}, for a run that must fall
   * back to two passes: row `i` of the buffer is the `i`-th valid row, and
   * `ordinalOf` gives its position among all rows.
   */
  toLastOccurrenceIndex(ordinalOf: (row: number) => number): LastOccurrenceIndex {
    const index = new LastOccurrenceIndex()
    index.reserve(this.#keys * 1.05, this.#items.length / Math.max(1, this.#rows))
    for (let row = 0; row < this.#rows; row++) {
      const item = this.#items.subarray(this.#itemOffsets[row], this.#itemOffsets[row + 1])
      index.addBytes(this.#dates[row] as number, item, ordinalOf(row))
    }
    return index
  }

  /**
   * Counts, over the kept rows, those whose category has no segment, an
   * empty one, or no lookup entry (by category).
   */
  segmentCounts(segmentOf: (category: string) => string | null | undefined): SegmentCounts {
    const perCategory = new Float64Array(this.categories.size)
    this.#forEachKept((row) => {
      const category = this.#categories[row] as number
      perCategory[category] = (perCategory[category] as number) + 1
    })
    const counts: SegmentCounts = { rowsWithoutSegment: 0, rowsWithEmptySegment: 0, unmatched: new Map() }
    for (let id = 0; id < perCategory.length; id++) {
      const rows = perCategory[id] as number
      if (rows === 0) continue
      const category = this.categories.textOf(id)
      const segment = segmentOf(category)
      if (segment === undefined) counts.unmatched.set(category, rows)
      if (segment === null) counts.rowsWithEmptySegment += rows
      if (segment == null) counts.rowsWithoutSegment += rows
    }
    return counts
  }

  /**
   * The kept rows, in file order, as row groups of `rowGroupSize` rows, each
   * string column numbered from 0 in order of first appearance in its group,
   * as {@link internStrings} numbers them on the two-pass path.
   */
  *rowGroups(
    rowGroupSize: number,
    segmentOf: (category: string) => string | null | undefined,
  ): Generator<{ columns: RowGroupColumns; rows: number }> {
    const segments = new ByteInterner()
    const segmentOfCategory = new Int32Array(this.categories.size)
    for (let id = 0; id < segmentOfCategory.length; id++) {
      const segment = segmentOf(this.categories.textOf(id))
      if (segment == null) segmentOfCategory[id] = -1
      else {
        const bytes = Buffer.from(segment, 'utf8')
        segmentOfCategory[id] = segments.intern(bytes, 0, bytes.length)
      }
    }
    const sellers = new LocalDictionary(this.sellers)
    const regions = new LocalDictionary(this.regions)
    const categories = new LocalDictionary(this.categories)
    const segmentDictionary = new LocalDictionary(segments)
    const picked = new Int32Array(Math.min(rowGroupSize, Math.max(this.#keys, 1)))
    let row = 0
    let remaining = this.#keys
    while (remaining > 0) {
      const count = Math.min(rowGroupSize, remaining)
      let itemBytes = 0
      const superseded = this.#superseded
      const itemOffsets = this.#itemOffsets
      for (let k = 0; k < count; row++) {
        if (((superseded[row >>> 5] as number) & (1 << (row & 31))) !== 0) continue
        picked[k++] = row
        itemBytes += (itemOffsets[row + 1] as number) - (itemOffsets[row] as number)
      }
      const date = new Int32Array(count)
      const price = new Float64Array(count)
      const groupItemOffsets = new Uint32Array(count + 1)
      const groupItems = new Uint8Array(itemBytes)
      const items = this.#items
      const sellerIds = new Int32Array(count)
      const regionIds = new Int32Array(count)
      const categoryIds = new Int32Array(count)
      const segmentIds = new Int32Array(count)
      let itemAt = 0
      for (let k = 0; k < count; k++) {
        const source = picked[k] as number
        date[k] = this.#dates[source] as number
        price[k] = this.#prices[source] as number
        const to = itemOffsets[source + 1] as number
        for (let from = itemOffsets[source] as number; from < to; from++)
          groupItems[itemAt++] = items[from] as number
        groupItemOffsets[k + 1] = itemAt
        sellerIds[k] = sellers.local(this.#sellers[source] as number)
        regionIds[k] = regions.local(this.#regions[source] as number)
        const category = this.#categories[source] as number
        categoryIds[k] = categories.local(category)
        const segment = segmentOfCategory[category] as number
        segmentIds[k] = segment < 0 ? -1 : segmentDictionary.local(segment)
      }
      yield {
        rows: count,
        columns: {
          date,
          seller_id: sellers.take(sellerIds),
          region: regions.take(regionIds),
          category: categories.take(categoryIds),
          item_id: { bytes: groupItems, offsets: groupItemOffsets },
          price_gbp: price,
          segment: segmentDictionary.take(segmentIds),
        },
      }
      remaining -= count
    }
  }

  #forEachKept(visit: (row: number) => void): void {
    for (let row = 0; row < this.#rows; row++) if (!this.#isSuperseded(row)) visit(row)
  }

  #isSuperseded(row: number): boolean {
    return ((this.#superseded[row >>> 5] as number) & (1 << (row & 31))) !== 0
  }

  /** Points the row's key at it, marking the row it supersedes, if any. */
  #deduplicate(row: number): void {
    const items = this.#items
    const start = this.#itemOffsets[row] as number
    const end = this.#itemOffsets[row + 1] as number
    const date = this.#dates[row] as number
    const mask = this.#slots.length - 1
    let slot = hashBytes(date, items, start, end) & mask
    for (;;) {
      const other = this.#slots[slot] as number
      if (other === EMPTY) break
      const otherStart = this.#itemOffsets[other] as number
      if (
        this.#dates[other] === date &&
        (this.#itemOffsets[other + 1] as number) - otherStart === end - start &&
        sameBytes(items, start, end, items, otherStart)
      ) {
        this.#superseded[other >>> 5] = (this.#superseded[other >>> 5] as number) | (1 << (other & 31))
        this.#slots[slot] = row
        return
      }
      slot = (slot + 1) & mask
    }
    this.#slots[slot] = row
    this.#keys++
    if (this.#keys > this.#slots.length * ROW_TABLE_MAX_LOAD) this.#rehash()
  }

  #rehash(): void {
    this.#slots = rehashed(this.#slots, this.#slots.length * 2, (row) =>
      hashBytes(
        this.#dates[row] as number,
        this.#items,
        this.#itemOffsets[row] as number,
        this.#itemOffsets[row + 1] as number,
      ),
    )
  }

  #grow(): void {
    const capacity = Math.ceil(this.#dates.length * GROWTH)
    this.#dates = grow(this.#dates, capacity)
    this.#prices = grow(this.#prices, capacity)
    this.#sellers = grow(this.#sellers, capacity)
    this.#regions = grow(this.#regions, capacity)
    this.#categories = grow(this.#categories, capacity)
    this.#itemOffsets = grow(this.#itemOffsets, capacity + 1)
    this.#superseded = grow(this.#superseded, Math.ceil(capacity / 32))
  }
}

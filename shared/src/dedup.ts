import { EMPTY, GROWTH, grow, hashBytes, MAX_LOAD, rehashed, sameBytes } from './open-addressing.js'

const encoder = new TextEncoder()

/**
 * Finds, for each `(date, item_id)` key, the last valid row that carries it.
 *
 * Rows are identified by their ordinal (0-based position among the file's data
 * rows). This index is the one structure whose size grows with the input, so
 * it is packed into typed arrays rather than a `Map` of strings: an open
 * addressing table of entry numbers, and per entry the date, the last ordinal
 * and the item id's UTF-8 bytes in one shared arena; about 30 bytes a key
 * instead of about 90, and no 2^24-entry `Map` limit. Keys are compared byte
 * for byte: the hash only picks where to look.
 */
export class LastOccurrenceIndex {
  #slots = new Int32Array(1024).fill(EMPTY)
  #dates = new Int32Array(1024)
  #ordinals = new Int32Array(1024)
  /** Entry `i`'s item id is `#arena[#offsets[i] .. #offsets[i + 1])`. */
  #offsets = new Uint32Array(1025)
  #arena = new Uint8Array(8192)
  #scratch = new Uint8Array(256)
  #keys = 0
  #superseded = 0

  /**
   * Records that the row at `ordinal` carries the key; a later call for the
   * same key supersedes it.
   *
   * @param date - days since the epoch
   * @param itemId - the trimmed item id
   * @param ordinal - the row's position, increasing from call to call
   */
  add(date: number, itemId: string, ordinal: number): void {
    this.#addScratch(date, this.#encode(itemId), ordinal)
  }

  /**
   * {@link LastOccurrenceIndex.add} for an item id given as its UTF-8 bytes.
   *
   * @param item - the trimmed item id's bytes
   */
  addBytes(date: number, item: Uint8Array, ordinal: number): void {
    if (this.#scratch.length < item.length) this.#scratch = new Uint8Array(item.length * 2)
    this.#scratch.set(item)
    this.#addScratch(date, item.length, ordinal)
  }

  /** Adds the key whose item id's bytes are the first `length` of the scratch buffer. */
  #addScratch(date: number, length: number, ordinal: number): void {
    const mask = this.#slots.length - 1
    let slot = hashBytes(date, this.#scratch, 0, length) & mask
    for (;;) {
      const entry = this.#slots[slot] as number
      if (entry === EMPTY) break
      if (this.#dates[entry] === date && this.#sameItem(entry, length)) {
        this.#ordinals[entry] = ordinal
        this.#superseded++
        return
      }
      slot = (slot + 1) & mask
    }
    this.#append(date, length, ordinal)
    this.#slots[slot] = this.#keys - 1
    if (this.#keys > this.#slots.length * MAX_LOAD) this.#rehash()
  }

  /**
   * Sizes the index for about `keys` distinct keys up front, so a large
   * file does not grow it step by step (each step copies every array and
   * briefly holds old and new, which sets the peak memory).
   *
   * @param keys - expected distinct keys
   * @param itemBytes - expected bytes per item id
   */
  reserve(keys: number, itemBytes: number): void {
    const entries = Math.ceil(keys)
    if (entries > this.#dates.length) {
      this.#dates = grow(this.#dates, entries)
      this.#ordinals = grow(this.#ordinals, entries)
      this.#offsets = grow(this.#offsets, entries + 1)
    }
    const arena = Math.ceil(entries * itemBytes)
    if (arena > this.#arena.length) this.#arena = grow(this.#arena, arena)
    let slots = this.#slots.length
    while (entries > slots * MAX_LOAD) slots *= 2
    if (slots > this.#slots.length) this.#rehashTo(slots)
  }

  /** Number of distinct keys seen: the rows left after deduplication. */
  get keys(): number {
    return this.#keys
  }

  /** Number of rows superseded by a later row with the same key. */
  get superseded(): number {
    return this.#superseded
  }

  /** Bytes held by the index, for the report and capacity planning. */
  get bytes(): number {
    return (
      this.#slots.byteLength +
      this.#dates.byteLength +
      this.#ordinals.byteLength +
      this.#offsets.byteLength +
      this.#arena.byteLength
    )
  }

  /**
   * The rows to keep, as a bitset over ordinals. The index is emptied so that
   * its memory is released before the rows are written.
   *
   * @param rowCount - one more than the largest ordinal
   */
  takeKeepers(rowCount: number): RowSet {
    const keep = new RowSet(rowCount)
    for (let entry = 0; entry < this.#keys; entry++) keep.add(this.#ordinals[entry] as number)
    this.#slots = new Int32Array(1024).fill(EMPTY)
    this.#dates = new Int32Array(1024)
    this.#ordinals = new Int32Array(1024)
    this.#offsets = new Uint32Array(1025)
    this.#arena = new Uint8Array(8192)
    this.#keys = 0
    return keep
  }

  /** Writes the item id's UTF-8 bytes to the scratch buffer; returns their count. */
  #encode(itemId: string): number {
    if (this.#scratch.length < itemId.length * 3) this.#scratch = new Uint8Array(itemId.length * 3)
    const scratch = this.#scratch
    for (let i = 0; i < itemId.length; i++) {
      const code = itemId.charCodeAt(i)
      if (code >= 0x80) return encoder.encodeInto(itemId, scratch).written
      scratch[i] = code
    }
    return itemId.length
  }

  #sameItem(entry: number, length: number): boolean {
    const start = this.#offsets[entry] as number
    if ((this.#offsets[entry + 1] as number) - start !== length) return false
    return sameBytes(this.#scratch, 0, length, this.#arena, start)
  }

  #append(date: number, length: number, ordinal: number): void {
    const entry = this.#keys
    if (entry === this.#dates.length) {
      const capacity = Math.ceil(entry * GROWTH)
      this.#dates = grow(this.#dates, capacity)
      this.#ordinals = grow(this.#ordinals, capacity)
      this.#offsets = grow(this.#offsets, capacity + 1)
    }
    const start = this.#offsets[entry] as number
    if (start + length > this.#arena.length) {
      this.#arena = grow(this.#arena, Math.ceil(Math.max(start + length, this.#arena.length * GROWTH)))
    }
    this.#arena.set(this.#scratch.subarray(0, length), start)
    this.#dates[entry] = date
    this.#ordinals[entry] = ordinal
    this.#offsets[entry + 1] = start + length
    this.#keys++
  }

  /** Doubles the slot table and places every entry again. */
  #rehash(): void {
    this.#rehashTo(this.#slots.length * 2)
  }

  #rehashTo(size: number): void {
    this.#slots = rehashed(this.#slots, size, (entry) =>
      hashBytes(
        this.#dates[entry] as number,
        this.#arena,
        this.#offsets[entry] as number,
        this.#offsets[entry + 1] as number,
      ),
    )
  }
}

/**
 * A set of row ordinals, one bit each. Sized up front when the row count is
 * known (the keepers of a two-pass run); grows when it is not (the valid
 * rows of a single pass, kept in case it falls back to two).
 */
export class RowSet {
  #bits: Uint32Array

  /** @param rowCount - ordinals to make room for up front */
  constructor(rowCount = 32_768) {
    this.#bits = new Uint32Array(Math.ceil(rowCount / 32))
  }

  add(ordinal: number): void {
    const word = ordinal >>> 5
    if (word >= this.#bits.length) this.#bits = grow(this.#bits, Math.max(word + 1, this.#bits.length * 2))
    this.#bits[word] = (this.#bits[word] as number) | (1 << (ordinal & 31))
  }

  has(ordinal: number): boolean {
    return ((this.#bits[ordinal >>> 5] ?? 0) & (1 << (ordinal & 31))) !== 0
  }

  /** A function that returns the members in increasing order, one per call (past the last, it does not return). */
  cursor(): () => number {
    let at = -1
    return () => {
      do at++
      while (((this.#bits[at >>> 5] ?? 0) & (1 << (at & 31))) === 0)
      return at
    }
  }
}

/**
 * Finds, for each `(date, item_id)` key, the last valid row that carries it.
 *
 * Rows are identified by their ordinal (0-based position among the file's data
 * rows). Keys are compared exactly, never by hash. Keys are grouped by date
 * so that no single `Map` approaches V8's limit of 2^24 entries: a file would
 * need more than sixteen million distinct items on one day to reach it.
 */
export class LastOccurrenceIndex {
  readonly #byDate = new Map<number, Map<string, number>>()
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
    let items = this.#byDate.get(date)
    if (items === undefined) {
      items = new Map()
      this.#byDate.set(date, items)
    }
    const size = items.size
    items.set(itemId, ordinal)
    if (items.size === size) this.#superseded++
    else this.#keys++
  }

  /** Number of distinct keys seen: the rows left after deduplication. */
  get keys(): number {
    return this.#keys
  }

  /** Number of rows superseded by a later row with the same key. */
  get superseded(): number {
    return this.#superseded
  }

  /**
   * The rows to keep, as a bitset over ordinals. The index is emptied so that
   * its memory is released before the rows are written.
   *
   * @param rowCount - one more than the largest ordinal
   */
  takeKeepers(rowCount: number): RowSet {
    const keep = new RowSet(rowCount)
    for (const items of this.#byDate.values()) {
      for (const ordinal of items.values()) keep.add(ordinal)
    }
    this.#byDate.clear()
    return keep
  }
}

/** A fixed-size set of row ordinals, one bit each. */
export class RowSet {
  readonly #bits: Uint32Array

  constructor(rowCount: number) {
    this.#bits = new Uint32Array(Math.ceil(rowCount / 32))
  }

  add(ordinal: number): void {
    this.#bits[ordinal >>> 5] = (this.#bits[ordinal >>> 5] ?? 0) | (1 << (ordinal & 31))
  }

  has(ordinal: number): boolean {
    return ((this.#bits[ordinal >>> 5] ?? 0) & (1 << (ordinal & 31))) !== 0
  }
}

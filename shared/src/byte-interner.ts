/**
 * Distinct byte strings numbered in order of first sight ({@link ByteInterner}),
 * and their renumbering per row group ({@link LocalDictionary}): how the
 * single pass stores the seller, region, category and segment labels once
 * each and hands the encoder a ready-made Parquet dictionary per row group.
 */

import { EMPTY, grow, hashBytes, MAX_LOAD, rehashed, sameBytes } from './open-addressing.js'
import type { DictionaryStrings } from './row-group-columns.js'

/**
 * Distinct byte strings, numbered from 0 in order of first sight: the
 * seller, region and category labels of the buffered rows, stored once each.
 */
export class ByteInterner {
  #slots = new Int32Array(64).fill(EMPTY)
  /** Value `i` is `#arena[#offsets[i] .. #offsets[i + 1])`. */
  #offsets = new Uint32Array(65)
  #arena = new Uint8Array(1024)
  #count = 0

  /** The id of `bytes[start .. end)`, numbering it if new. */
  intern(bytes: Uint8Array, start: number, end: number): number {
    const length = end - start
    const mask = this.#slots.length - 1
    let slot = hashBytes(length, bytes, start, end) & mask
    for (;;) {
      const id = this.#slots[slot] as number
      if (id === EMPTY) break
      const at = this.#offsets[id] as number
      if ((this.#offsets[id + 1] as number) - at === length && sameBytes(bytes, start, end, this.#arena, at))
        return id
      slot = (slot + 1) & mask
    }
    const id = this.#append(bytes, start, end)
    this.#slots[slot] = id
    if (this.#count > this.#slots.length * MAX_LOAD) this.#rehash()
    return id
  }

  /** Number of distinct values. */
  get size(): number {
    return this.#count
  }

  /** Value `id`'s bytes (a view). */
  bytesOf(id: number): Uint8Array {
    return this.#arena.subarray(this.#offsets[id], this.#offsets[id + 1])
  }

  /** Value `id`'s length in bytes. */
  lengthOf(id: number): number {
    return (this.#offsets[id + 1] as number) - (this.#offsets[id] as number)
  }

  /** Copies value `id`'s bytes to `target` at `at`; returns where they end. */
  copyInto(id: number, target: Uint8Array, at: number): number {
    const arena = this.#arena
    const end = this.#offsets[id + 1] as number
    let to = at
    for (let from = this.#offsets[id] as number; from < end; from++) target[to++] = arena[from] as number
    return to
  }

  /** Value `id` as text. */
  textOf(id: number): string {
    const bytes = this.bytesOf(id)
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')
  }

  get bytes(): number {
    return this.#slots.byteLength + this.#offsets.byteLength + this.#arena.byteLength
  }

  #append(bytes: Uint8Array, start: number, end: number): number {
    const id = this.#count
    if (id + 1 >= this.#offsets.length) this.#offsets = grow(this.#offsets, this.#offsets.length * 2)
    const at = this.#offsets[id] as number
    if (at + end - start > this.#arena.length)
      this.#arena = grow(this.#arena, Math.max(at + end - start, this.#arena.length * 2))
    this.#arena.set(bytes.subarray(start, end), at)
    this.#offsets[id + 1] = at + end - start
    this.#count++
    return id
  }

  #rehash(): void {
    this.#slots = rehashed(this.#slots, this.#slots.length * 2, (id) =>
      hashBytes(
        (this.#offsets[id + 1] as number) - (this.#offsets[id] as number),
        this.#arena,
        this.#offsets[id] as number,
        this.#offsets[id + 1] as number,
      ),
    )
  }
}

/**
 * Renumbers global ids within one row group, in order of first appearance,
 * and gives the group's dictionary: what a Parquet dictionary page holds.
 */
export class LocalDictionary {
  readonly #values: ByteInterner
  /** Global id to local id, or -1; reset after each group. */
  #localOf: Int32Array
  /** Global ids in local order. */
  #order: number[] = []

  constructor(values: ByteInterner) {
    this.#values = values
    this.#localOf = new Int32Array(values.size).fill(-1)
  }

  local(id: number): number {
    let local = this.#localOf[id] as number
    if (local < 0) {
      local = this.#order.push(id) - 1
      this.#localOf[id] = local
    }
    return local
  }

  /** The group's dictionary column for `ids`; starts the next group afresh. */
  take(ids: Int32Array): DictionaryStrings {
    const order = this.#order
    let total = 0
    for (let local = 0; local < order.length; local++) total += this.#values.lengthOf(order[local] as number)
    const bytes = new Uint8Array(total)
    const offsets = new Uint32Array(order.length + 1)
    let at = 0
    for (let local = 0; local < order.length; local++) {
      const id = order[local] as number
      at = this.#values.copyInto(id, bytes, at)
      offsets[local + 1] = at
      this.#localOf[id] = -1
    }
    this.#order = []
    return { values: { bytes, offsets }, ids }
  }
}

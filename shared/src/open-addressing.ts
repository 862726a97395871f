/**
 * What the open-addressing hash tables over byte strings share: the dedup
 * index (dedup.ts), the single pass's row table (buffered-listings.ts) and
 * its label dictionaries (byte-interner.ts). Each keeps its entries in typed
 * arrays and a power-of-two slot table of entry ids probed linearly; keys
 * are compared byte for byte, the hash only picks where to look.
 */

/** A free slot. */
export const EMPTY = -1

/** The fill limit of a table sized as it goes: doubled beyond it. */
export const MAX_LOAD = 0.6

/** How much an entry array grows when full: less than doubling, to bound the peak memory of a copy. */
export const GROWTH = 1.5

/** FNV-1a over `seed`'s four bytes and `bytes[start .. end)`, finished with a murmur3 mix. */
export function hashBytes(seed: number, bytes: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5
  for (let shift = 0; shift < 32; shift += 8) hash = Math.imul(hash ^ ((seed >>> shift) & 0xff), 0x01000193)
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ (bytes[i] as number), 0x01000193)
  hash ^= hash >>> 16
  hash = Math.imul(hash, 0x85ebca6b)
  hash ^= hash >>> 13
  return hash >>> 0
}

/** Whether `a[aStart .. aEnd)` equals the same number of bytes of `b` from `bStart`. */
export function sameBytes(
  a: Uint8Array,
  aStart: number,
  aEnd: number,
  b: Uint8Array,
  bStart: number,
): boolean {
  for (let i = aStart, j = bStart; i < aEnd; i++, j++) if (a[i] !== b[j]) return false
  return true
}

/** A copy of `array` in a new one of `length` elements (the rest zero). */
export function grow<T extends Int32Array | Uint16Array | Uint32Array | Uint8Array | Float64Array>(
  array: T,
  length: number,
): T {
  const larger = new (array.constructor as new (length: number) => T)(length)
  larger.set(array)
  return larger
}

/**
 * A slot table of `size` slots (a power of two) holding the ids of `slots`,
 * each placed again by `hashOf`: how a table grows.
 */
export function rehashed(
  slots: Int32Array,
  size: number,
  hashOf: (id: number) => number,
): Int32Array<ArrayBuffer> {
  const table = new Int32Array(size).fill(EMPTY)
  const mask = size - 1
  for (const id of slots) {
    if (id === EMPTY) continue
    let slot = hashOf(id) & mask
    while (table[slot] !== EMPTY) slot = (slot + 1) & mask
    table[slot] = id
  }
  return table
}

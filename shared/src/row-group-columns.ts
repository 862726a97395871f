/**
 * One row group's values as the Parquet encoders take them: typed arrays
 * only, so a row group can be transferred to a worker thread rather than
 * copied. Strings are packed as UTF-8 in one buffer, and the low-cardinality
 * string columns come as a dictionary with one index per row, which is
 * exactly what a Parquet dictionary page and its data page hold.
 *
 * Both ingest paths build these: the two-pass writer from strings
 * ({@link packStrings}, {@link internStrings}), the single pass from its
 * buffered bytes (buffered-listings.ts). Both number dictionary values in
 * order of first appearance in the row group, so they write the same bytes.
 */

/**
 * Strings packed as UTF-8 in one buffer: value `i` is
 * `bytes[offsets[i] .. offsets[i + 1])`. Two transferable buffers instead of
 * an array of strings, and no per-value `TextEncoder` in the Parquet writer.
 */
export interface PackedStrings {
  bytes: Uint8Array
  offsets: Uint32Array
}

/**
 * A string column as its distinct values, in order of first appearance in
 * the row group, and one index into them per row (-1 for null). This is
 * exactly a Parquet dictionary page and its data page's indexes, so the
 * encoder neither hashes nor re-encodes a value per row.
 */
export interface DictionaryStrings {
  values: PackedStrings
  ids: Int32Array
}

/** One row group's column values, as the encoders take them: typed arrays only, so transferable. */
export interface RowGroupColumns {
  date: Int32Array
  seller_id: DictionaryStrings
  region: DictionaryStrings
  category: DictionaryStrings
  /** The one string column written without a dictionary: it is close to unique. */
  item_id: PackedStrings
  price_gbp: Float64Array
  segment: DictionaryStrings
}

/** Packs the first `count` strings as UTF-8. */
export function packStrings(values: readonly string[], count: number): PackedStrings {
  const offsets = new Uint32Array(count + 1)
  let total = 0
  for (let i = 0; i < count; i++) {
    total += Buffer.byteLength(values[i] as string, 'utf8')
    offsets[i + 1] = total
  }
  // Buffer.alloc never uses the shared pool, so the buffer can be transferred.
  const bytes = Buffer.alloc(total)
  for (let i = 0; i < count; i++) bytes.write(values[i] as string, offsets[i] as number, 'utf8')
  return { bytes, offsets }
}

/**
 * The first `count` values as a dictionary column: distinct values in order
 * of first appearance, one index per row, -1 for null. Both ingest paths
 * number values this way, so they write the same bytes.
 */
export function internStrings(values: readonly (string | null)[], count: number): DictionaryStrings {
  const positions = new Map<string, number>()
  const distinct: string[] = []
  const ids = new Int32Array(count)
  for (let i = 0; i < count; i++) {
    const value = values[i]
    if (value === null || value === undefined) {
      ids[i] = -1
      continue
    }
    let position = positions.get(value)
    if (position === undefined) {
      position = distinct.push(value) - 1
      positions.set(value, position)
    }
    ids[i] = position
  }
  return { values: packStrings(distinct, distinct.length), ids }
}

/** The smallest and largest value in unsigned byte order (UTF-8 order is code point order), as copies. */
export function byteRange(packed: PackedStrings): { min?: Uint8Array; max?: Uint8Array } {
  const { bytes, offsets } = packed
  const count = offsets.length - 1
  if (count === 0) return {}
  let min = 0
  let max = 0
  for (let i = 1; i < count; i++) {
    if (compareValues(packed, i, min) < 0) min = i
    if (compareValues(packed, i, max) > 0) max = i
  }
  return {
    min: bytes.slice(offsets[min], offsets[min + 1]),
    max: bytes.slice(offsets[max], offsets[max + 1]),
  }
}

function compareValues({ bytes, offsets }: PackedStrings, a: number, b: number): number {
  const aStart = offsets[a] as number
  const bStart = offsets[b] as number
  const aLength = (offsets[a + 1] as number) - aStart
  const bLength = (offsets[b + 1] as number) - bStart
  const length = Math.min(aLength, bLength)
  for (let i = 0; i < length; i++) {
    const difference = (bytes[aStart + i] as number) - (bytes[bStart + i] as number)
    if (difference !== 0) return difference
  }
  return aLength - bLength
}

/** Values `from .. to` of packed strings as PLAIN byte arrays: a 4-byte length before each. */
export function plainByteArrays(packed: PackedStrings, from: number, to: number): Uint8Array {
  const { bytes, offsets } = packed
  const first = offsets[from] as number
  const page = new Uint8Array((offsets[to] as number) - first + 4 * (to - from))
  const view = new DataView(page.buffer)
  let at = 0
  for (let i = from; i < to; i++) {
    const start = offsets[i] as number
    const end = offsets[i + 1] as number
    view.setUint32(at, end - start, true)
    at += 4
    // A byte loop, not set(subarray): a view per value is the garbage this avoids.
    for (let b = start; b < end; b++) page[at++] = bytes[b] as number
  }
  return page
}

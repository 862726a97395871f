/**
 * The Parquet footer fix-up: finds the Thrift-encoded `FileMetaData` at the
 * end of a file and types its empty lists of structs, which
 * hyparquet-writer 0.17 leaves untyped (see {@link typeEmptyFooterLists}).
 * Kept apart from the writer because it is a self-contained walk over the
 * Thrift compact protocol, tested on its own.
 */

const PARQUET_MAGIC = 0x31524150 // "PAR1", little-endian

/**
 * The Thrift-encoded `FileMetaData` at the end of a buffer that ends with a
 * Parquet file's tail: metadata, its 4-byte length, then "PAR1".
 */
export function footerOf(tail: Uint8Array): Uint8Array {
  const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength)
  const length = tail.byteLength >= 8 ? view.getUint32(tail.byteLength - 8, true) : -1
  const start = tail.byteLength - 8 - length
  if (length < 0 || start < 0 || view.getUint32(tail.byteLength - 4, true) !== PARQUET_MAGIC) {
    throw new Error('Parquet writer: the file footer is not where it should be')
  }
  return tail.subarray(start, start + length)
}

// Thrift compact protocol type ids.
const COMPACT = {
  STOP: 0,
  BOOLEAN_TRUE: 1,
  BOOLEAN_FALSE: 2,
  BYTE: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  DOUBLE: 7,
  BINARY: 8,
  LIST: 9,
  SET: 10,
  MAP: 11,
  STRUCT: 12,
} as const

/**
 * `FileMetaData` fields (parquet.thrift) that are lists of structs: schema (2),
 * row_groups (4), key_value_metadata (5) and column_orders (7).
 */
const FILE_METADATA_STRUCT_LISTS = new Set([2, 4, 5, 7])

/**
 * Gives each empty list of structs in `FileMetaData` the element type STRUCT,
 * in place.
 *
 * hyparquet-writer 0.17 takes a list's element type from its first element,
 * so an empty list is written with type 0. Its own reader and DuckDB accept
 * that, but Arrow's Rust reader (and so pyarrow-style tools, Spark, Athena)
 * check the type and refuse the file ("Expected list element type of Struct
 * but got Byte"). Two lists can be empty here: `row_groups` when every row
 * was rejected, and `key_value_metadata` when there is no footer metadata.
 * The library's Thrift writer cannot express a typed empty list, so the
 * encoded footer is corrected instead: the type sits in the low 4 bits of the
 * list's header byte, so the fix changes no length or offset. The walk skips
 * every other field by its encoded type, so it touches only those headers and
 * fails loudly if the footer is not the shape it expects.
 *
 * @param footer - the Thrift compact encoding of a `FileMetaData`
 */
export function typeEmptyFooterLists(footer: Uint8Array): void {
  const reader = new CompactReader(footer)
  let fieldId = 0
  for (let header = reader.byte(); header !== COMPACT.STOP; header = reader.byte()) {
    const type = header & 0x0f
    fieldId = header >> 4 ? fieldId + (header >> 4) : reader.zigzag()
    if (type === COMPACT.LIST && FILE_METADATA_STRUCT_LISTS.has(fieldId)) {
      const listHeader = reader.position
      if (reader.listHeader().size === 0) {
        footer[listHeader] = ((footer[listHeader] as number) & 0xf0) | COMPACT.STRUCT
      }
      reader.position = listHeader
    }
    reader.skip(type)
  }
  if (reader.position !== footer.byteLength) {
    throw new Error('Parquet writer: the file footer has bytes after its end')
  }
}

/** Reads just enough of the Thrift compact protocol to step over any value. */
class CompactReader {
  position = 0
  readonly #bytes: Uint8Array

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes
  }

  byte(): number {
    const value = this.#bytes[this.position++]
    if (value === undefined) throw new Error('Parquet writer: the file footer ends early')
    return value
  }

  /** An unsigned varint, as a number: sizes and lengths, which are small. */
  varint(): number {
    let value = 0
    for (let shift = 0; ; shift += 7) {
      const byte = this.byte()
      value += (byte & 0x7f) * 2 ** shift
      if (byte < 0x80) return value
    }
  }

  zigzag(): number {
    const value = this.varint()
    return value % 2 ? -(value + 1) / 2 : value / 2
  }

  listHeader(): { size: number; elementType: number } {
    const header = this.byte()
    const size = header >> 4 === 15 ? this.varint() : header >> 4
    return { size, elementType: header & 0x0f }
  }

  /** Steps over one value of a compact type (a boolean inside a struct lives in its field header). */
  skip(type: number, inCollection = false): void {
    switch (type) {
      case COMPACT.BOOLEAN_TRUE:
      case COMPACT.BOOLEAN_FALSE:
        if (inCollection) this.position++
        return
      case COMPACT.BYTE:
        this.position++
        return
      case COMPACT.I16:
      case COMPACT.I32:
      case COMPACT.I64:
        this.varint()
        return
      case COMPACT.DOUBLE:
        this.position += 8
        return
      case COMPACT.BINARY: {
        const length = this.varint()
        this.position += length
        return
      }
      case COMPACT.LIST:
      case COMPACT.SET: {
        const { size, elementType } = this.listHeader()
        for (let i = 0; i < size; i++) this.skip(elementType, true)
        return
      }
      case COMPACT.MAP: {
        const size = this.varint()
        if (size === 0) return
        const types = this.byte()
        for (let i = 0; i < size; i++) {
          this.skip(types >> 4, true)
          this.skip(types & 0x0f, true)
        }
        return
      }
      case COMPACT.STRUCT: {
        for (let header = this.byte(); header !== COMPACT.STOP; header = this.byte()) {
          // A zero id delta means the field id follows in full.
          if (header >> 4 === 0) this.zigzag()
          this.skip(header & 0x0f)
        }
        return
      }
      default:
        throw new Error(`Parquet writer: the file footer holds an unknown Thrift type ${type}`)
    }
  }
}

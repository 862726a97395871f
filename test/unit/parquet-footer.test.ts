import { parquetMetadata } from 'hyparquet'
import { ByteWriter, ParquetWriter } from 'hyparquet-writer'
import { describe, expect, it } from 'vitest'
import { LISTINGS_PARQUET_SCHEMA } from '../../shared/src/parquet.js'
import { typeEmptyFooterLists } from '../../shared/src/parquet-footer.js'
import { arrowTable } from '../helpers/parquet-readers.js'

/** A file exactly as hyparquet-writer writes it, before our footer correction. */
function libraryFile(rows: number, kvMetadata: { key: string; value: string }[]): Uint8Array {
  const writer = new ByteWriter()
  const parquet = new ParquetWriter({ writer, schema: LISTINGS_PARQUET_SCHEMA, codec: 'SNAPPY', kvMetadata })
  if (rows > 0) {
    const text = (prefix: string) => Array.from({ length: rows }, (_, i) => `${prefix}${i}`)
    parquet.write({
      columnData: [
        { name: 'date', data: new Int32Array(rows).fill(19_723) },
        { name: 'seller_id', data: text('S') },
        { name: 'region', data: text('R') },
        { name: 'category', data: text('C') },
        { name: 'item_id', data: text('I') },
        { name: 'price_gbp', data: new Float64Array(rows).fill(9.5) },
        { name: 'segment', data: Array.from({ length: rows }, (_, i) => (i % 2 ? 'Tech' : null)) },
      ],
    })
  }
  parquet.finish()
  return writer.getBytes().slice()
}

/** The footer (Thrift `FileMetaData`) inside a whole file: a view, so corrections land in the file. */
function footerIn(file: Uint8Array): Uint8Array {
  const length = new DataView(file.buffer, file.byteOffset).getUint32(file.byteLength - 8, true)
  return file.subarray(file.byteLength - 8 - length, file.byteLength - 8)
}

function changedBytes(before: Uint8Array, after: Uint8Array): { at: number; from: number; to: number }[] {
  expect(after.byteLength).toBe(before.byteLength)
  return [...before].flatMap((from, at) =>
    after[at] === from ? [] : [{ at, from, to: after[at] as number }],
  )
}

const KV = [{ key: 'listings_ingest.source_sha256', value: 'ab'.repeat(32) }]
const EMPTY_LIST_OF_STRUCTS = 0x0c // size 0 in the high bits, element type STRUCT (12) in the low

describe('typeEmptyFooterLists', () => {
  it('gives the empty row_groups list of a zero-row file the STRUCT element type, and nothing else', () => {
    const before = libraryFile(0, KV)
    expect(() => arrowTable(before)).toThrow('Expected list element type of Struct but got Byte')
    const after = before.slice()
    typeEmptyFooterLists(footerIn(after))
    expect(changedBytes(before, after)).toEqual([
      { at: expect.any(Number), from: 0x00, to: EMPTY_LIST_OF_STRUCTS },
    ])
    expect(parquetMetadata(after.buffer as ArrayBuffer)).toEqual(
      parquetMetadata(before.buffer as ArrayBuffer),
    )
    expect(arrowTable(after).rows).toEqual([])
  })

  it('types an empty key_value_metadata list too', () => {
    for (const rows of [0, 3]) {
      const before = libraryFile(rows, [])
      expect(() => arrowTable(before)).toThrow('Expected list element type of Struct')
      const after = before.slice()
      typeEmptyFooterLists(footerIn(after))
      expect(changedBytes(before, after).map(({ from, to }) => [from, to])).toEqual(
        Array(rows === 0 ? 2 : 1).fill([0x00, EMPTY_LIST_OF_STRUCTS]),
      )
      expect(arrowTable(after).rows).toHaveLength(rows)
    }
  })

  it('leaves a footer without empty lists byte for byte as it was', () => {
    const before = libraryFile(5, KV)
    const after = before.slice()
    typeEmptyFooterLists(footerIn(after))
    expect(changedBytes(before, after)).toEqual([])
  })

  it('steps over every Thrift compact type, and corrects only top-level empty lists of structs', () => {
    // A FileMetaData-shaped struct; ids 2, 4, 5 and 7 are the lists of structs in FileMetaData.
    // biome-ignore format: one field per line
    const footer = Uint8Array.from([
      0x11, // 1: BOOLEAN_TRUE (the value is in the header)
      0x13, 0x7f, // 2: BYTE (an id of a list of structs, but not a list: untouched)
      0x04, 0x06, 0xac, 0x02, // 3: I16 with a long-form header (type, then the id as a zigzag varint)
      0x19, 0x00, // 4: LIST, empty, element type 0 -> corrected (byte 8)
      0x19, 0xf3, 0x00, // 5: LIST, empty in the long form (size as a varint), element type BYTE -> corrected (byte 10)
      0x18, 0x03, 0x61, 0x62, 0x63, // 6: BINARY "abc"
      0x19, 0x1c, 0x1c, 0x00, 0x00, // 7: LIST of one STRUCT { 1: STRUCT {} }
      0x16, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, // 8: I64, a ten-byte varint
      0x17, 1, 2, 3, 4, 5, 6, 7, 8, // 9: DOUBLE
      0x1a, 0x21, 0x01, 0x02, // 10: SET of two booleans, a byte each
      0x1b, 0x01, 0x85, 0x02, 0x61, 0x62, 0x06, // 11: MAP of one BINARY "ab" -> I32 3
      0x1c, 0x19, 0x00, 0x00, // 12: STRUCT { 1: LIST, empty, type 0 } (nested: untouched)
      0x19, 0x00, // 13: LIST, empty, type 0 (not a list of structs in FileMetaData: untouched)
      0x1b, 0x00, // 14: MAP, empty (no types byte)
      0x00, // STOP
    ])
    const before = footer.slice()
    typeEmptyFooterLists(footer)
    expect(changedBytes(before, footer)).toEqual([
      { at: 8, from: 0x00, to: EMPTY_LIST_OF_STRUCTS },
      { at: 10, from: 0xf3, to: 0xfc },
    ])
  })

  it('refuses, in one line, a footer that is cut short or runs on', () => {
    const footer = footerIn(libraryFile(0, KV)).slice()
    expect(() => typeEmptyFooterLists(footer.subarray(0, footer.length - 3))).toThrow(
      /^Parquet writer: the file footer ends early$/,
    )
    expect(() => typeEmptyFooterLists(new Uint8Array([...footer, 0x00]))).toThrow(
      /^Parquet writer: the file footer has bytes after its end$/,
    )
  })
})

import type { ParquetWriter } from 'hyparquet-writer'
import { writeColumn } from 'hyparquet-writer/src/column.js'
import { writeDataPageV2, writePageHeader } from 'hyparquet-writer/src/datapage.js'
import { snappyCompressor } from 'hysnappy'

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

// hyparquet-writer's own types, taken from its functions: the top-level hyparquet is another version.
type ColumnEncoder = Parameters<typeof writeColumn>[0]['column']
type Writer = Parameters<typeof writeColumn>[0]['writer']
type ColumnChunk = ReturnType<typeof writeColumn>['chunk']
type SchemaElement = ColumnEncoder['element']

const PAGE_SIZE = 1 << 20

/**
 * Snappy through hysnappy's WebAssembly build: about ten times the speed of
 * hyparquet-writer's JavaScript Snappy, and, being WASM inlined in the
 * module, the same code on x64 and on the arm64 Lambda. One instance per
 * encoder: its memory grows to the largest page and is reused.
 */
export function snappyCompressors(): { SNAPPY: (input: Uint8Array) => Uint8Array } {
  return { SNAPPY: snappyCompressor() }
}

/** Views of each packed value, as hyparquet-writer takes byte arrays. */
export function unpackStrings(packed: PackedStrings): Uint8Array[] {
  const { bytes, offsets } = packed
  const values = new Array<Uint8Array>(offsets.length - 1)
  for (let i = 0; i < values.length; i++) values[i] = bytes.subarray(offsets[i], offsets[i + 1])
  return values
}

/**
 * Appends one row group to a hyparquet-writer `ParquetWriter`, column by
 * column, with the library's own page and chunk writers: numbers and
 * `item_id` through `writeColumn` as the library would, the dictionary
 * columns from their ready-made dictionaries and indexes. The footer, page
 * indexes and file framing stay the library's (`ParquetWriter.finish`).
 *
 * @returns the promise of the writer's flush, if it gave one
 */
export function appendRowGroup(
  parquet: ParquetWriter,
  columns: RowGroupColumns,
  rows: number,
): void | Promise<void> {
  const writer = parquet.writer
  const start = writer.offset
  const schema = parquet.schema as SchemaElement[]
  const leaves = schema.slice(1)
  const encoder = (name: string, stats: boolean, encoding?: 'PLAIN'): ColumnEncoder => {
    const element = leaves.find((leaf) => leaf.name === name) as SchemaElement
    return {
      columnName: name,
      element,
      schemaPath: [schema[0] as SchemaElement, element],
      codec: parquet.codec,
      compressors: parquet.compressors as ColumnEncoder['compressors'],
      stats,
      pageSize: PAGE_SIZE,
      columnIndex: false,
      offsetIndex: true,
      ...(encoding ? { encoding } : {}),
    }
  }
  const plain = (name: string, values: Int32Array | Float64Array, stats: boolean) => {
    const result = writeColumn({
      writer,
      column: encoder(name, stats),
      pageData: { values, definitionLevels: [], repetitionLevels: [], maxDefinitionLevel: 0 },
    })
    parquet.pendingIndexes.push(result as (typeof parquet.pendingIndexes)[number])
    return result.chunk
  }
  const packedColumn = (name: string, strings: PackedStrings) => {
    const chunk = writePackedColumn(writer, encoder(name, false, 'PLAIN'), strings, rows)
    parquet.pendingIndexes.push({ chunk } as (typeof parquet.pendingIndexes)[number])
    return chunk
  }
  const dictionary = (name: string, strings: DictionaryStrings, stats: boolean, nullable: boolean) => {
    const chunk = writeDictionaryColumn(writer, encoder(name, stats), strings, rows, nullable)
    parquet.pendingIndexes.push({ chunk } as (typeof parquet.pendingIndexes)[number])
    return chunk
  }
  const chunks = [
    plain('date', columns.date, true),
    // Ids are spread over every row group, so their min/max would prune nothing; skip the cost.
    dictionary('seller_id', columns.seller_id, false, false),
    dictionary('region', columns.region, true, false),
    dictionary('category', columns.category, true, false),
    packedColumn('item_id', columns.item_id),
    plain('price_gbp', columns.price_gbp, true),
    dictionary('segment', columns.segment, true, true),
  ]
  let totalByteSize = 0n
  for (const { meta_data } of chunks) totalByteSize += meta_data?.total_uncompressed_size ?? 0n
  parquet.num_rows += BigInt(rows)
  parquet.row_groups.push({
    columns: chunks as (typeof parquet.row_groups)[number]['columns'],
    total_byte_size: totalByteSize,
    num_rows: BigInt(rows),
    total_compressed_size: BigInt(writer.offset - start),
  })
  return writer.flush?.()
}

/**
 * A dictionary-encoded string column chunk: the dictionary page (PLAIN byte
 * arrays) and one data page of RLE/bit-packed indexes, with the chunk
 * metadata hyparquet-writer would give it. Statistics come from the
 * dictionary, so they cost one comparison per distinct value, not per row.
 */
function writeDictionaryColumn(
  writer: Writer,
  column: ColumnEncoder,
  strings: DictionaryStrings,
  rows: number,
  nullable: boolean,
): ColumnChunk {
  const offsetStart = writer.offset
  const distinct = strings.values.offsets.length - 1
  let nonNull = rows
  let definitionLevels: number[] = []
  let indexes = strings.ids.subarray(0, rows)
  if (nullable) {
    definitionLevels = new Array<number>(rows)
    const present = new Int32Array(rows)
    nonNull = 0
    for (let i = 0; i < rows; i++) {
      const id = strings.ids[i] as number
      definitionLevels[i] = id < 0 ? 0 : 1
      if (id >= 0) present[nonNull++] = id
    }
    indexes = present.subarray(0, nonNull)
  }
  let uncompressed = 0
  let dictionaryPageOffset: bigint | undefined
  // A column of nulls only has no dictionary: its page is PLAIN with no values, as the library writes it.
  const encoding = distinct > 0 ? 'RLE_DICTIONARY' : 'PLAIN'
  if (distinct > 0) {
    dictionaryPageOffset = BigInt(writer.offset)
    const page = plainByteArrays(strings.values, 0, distinct)
    const compressed = compressorOf(column)(page)
    const headerStart = writer.offset
    writePageHeader(writer, {
      type: 'DICTIONARY_PAGE',
      uncompressed_page_size: page.length,
      compressed_page_size: compressed.length,
      dictionary_page_header: { num_values: distinct, encoding: 'PLAIN' },
    } as Parameters<typeof writePageHeader>[1])
    uncompressed += writer.offset - headerStart + page.length
    writer.appendBytes(compressed)
  }
  const dataPageOffset = BigInt(writer.offset)
  uncompressed += writeDataPageV2({
    writer,
    column,
    encoding,
    pageData: {
      values: indexes,
      definitionLevels,
      repetitionLevels: [],
      maxDefinitionLevel: nullable ? 1 : 0,
    },
  })
  const { min, max } = byteRange(strings.values)
  return {
    meta_data: {
      type: 'BYTE_ARRAY',
      encodings: distinct > 0 ? ['PLAIN', 'RLE_DICTIONARY'] : ['PLAIN'],
      path_in_schema: [column.columnName],
      codec: column.codec,
      num_values: BigInt(rows),
      total_compressed_size: BigInt(writer.offset - offsetStart),
      total_uncompressed_size: BigInt(uncompressed),
      data_page_offset: dataPageOffset,
      ...(dictionaryPageOffset === undefined ? {} : { dictionary_page_offset: dictionaryPageOffset }),
      ...(column.stats
        ? {
            statistics: {
              ...(min === undefined ? {} : { min_value: min, max_value: max }),
              null_count: BigInt(rows - nonNull),
            },
            encoding_stats: [
              ...(distinct > 0
                ? [{ page_type: 'DICTIONARY_PAGE', encoding: 'PLAIN', count: 1 } as const]
                : []),
              { page_type: 'DATA_PAGE_V2', encoding, count: 1 } as const,
            ],
          }
        : {}),
    },
    file_offset: BigInt(offsetStart),
  } as ColumnChunk
}

/**
 * A PLAIN, required string column chunk straight from packed UTF-8 (a
 * 4-byte length before each value), in pages of about 1 MiB of values as
 * hyparquet-writer cuts them, without statistics: no per-value view or
 * string, which at 100,000 values a group is most of the encoder's garbage.
 */
function writePackedColumn(
  writer: Writer,
  column: ColumnEncoder,
  strings: PackedStrings,
  rows: number,
): ColumnChunk {
  const offsetStart = writer.offset
  const { offsets } = strings
  const compress = compressorOf(column)
  let uncompressed = 0
  for (let start = 0; start < rows; ) {
    let end = start
    let valueBytes = 0
    while (end < rows && (valueBytes < PAGE_SIZE || end === start)) {
      valueBytes += (offsets[end + 1] as number) - (offsets[end] as number)
      end++
    }
    const page = plainByteArrays(strings, start, end)
    const compressed = compress(page)
    const headerStart = writer.offset
    writePageHeader(writer, {
      type: 'DATA_PAGE_V2',
      uncompressed_page_size: page.length,
      compressed_page_size: compressed.length,
      data_page_header_v2: {
        num_values: end - start,
        num_nulls: 0,
        num_rows: end - start,
        encoding: 'PLAIN',
        definition_levels_byte_length: 0,
        repetition_levels_byte_length: 0,
        is_compressed: true,
      },
    } as Parameters<typeof writePageHeader>[1])
    uncompressed += writer.offset - headerStart + page.length
    writer.appendBytes(compressed)
    start = end
  }
  return {
    meta_data: {
      type: 'BYTE_ARRAY',
      encodings: ['PLAIN'],
      path_in_schema: [column.columnName],
      codec: column.codec,
      num_values: BigInt(rows),
      total_compressed_size: BigInt(writer.offset - offsetStart),
      total_uncompressed_size: BigInt(uncompressed),
      data_page_offset: BigInt(offsetStart),
    },
    file_offset: BigInt(offsetStart),
  } as ColumnChunk
}

/** The smallest and largest value in unsigned byte order (UTF-8 order is code point order), as copies. */
function byteRange(packed: PackedStrings): { min?: Uint8Array; max?: Uint8Array } {
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
function plainByteArrays(packed: PackedStrings, from: number, to: number): Uint8Array {
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

/** The column's codec as a function; the identity for an uncompressed column. */
function compressorOf(column: ColumnEncoder): (page: Uint8Array) => Uint8Array {
  return column.compressors[column.codec] ?? ((page) => page)
}

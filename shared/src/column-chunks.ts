/**
 * Encodes a row group's columns as Parquet column chunks with
 * hyparquet-writer's own page and chunk writers: the dictionary columns
 * straight from their ready-made dictionaries and indexes, `item_id` from its
 * packed bytes. The footer, page indexes and file framing stay the library's.
 *
 * Length: just over 250 lines: the two page layouts (dictionary-encoded
 * columns, `item_id`'s PLAIN pages) share one row group's page and chunk
 * bookkeeping, and each is one per-page loop best read whole.
 */
import type { ParquetWriter } from 'hyparquet-writer'
import { writeColumn } from 'hyparquet-writer/src/column.js'
import { writeDataPageV2, writePageHeader } from 'hyparquet-writer/src/datapage.js'
import {
  byteRange,
  type DictionaryStrings,
  type PackedStrings,
  plainByteArrays,
  type RowGroupColumns,
} from './row-group-columns.js'

// hyparquet-writer's own types, taken from its functions: the top-level hyparquet is another version.
type ColumnEncoder = Parameters<typeof writeColumn>[0]['column']
type Writer = Parameters<typeof writeColumn>[0]['writer']
type ColumnChunk = ReturnType<typeof writeColumn>['chunk']
type SchemaElement = ColumnEncoder['element']

const PAGE_SIZE = 1 << 20

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

/** The column's codec as a function; the identity for an uncompressed column. */
function compressorOf(column: ColumnEncoder): (page: Uint8Array) => Uint8Array {
  return column.compressors[column.codec] ?? ((page) => page)
}

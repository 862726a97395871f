import type { ByteDigest, ByteSource } from './byte-streams.js'
import { digestingSource } from './byte-streams.js'
import type { LookupColumn } from './contract.js'
import { LOOKUP_COLUMNS } from './contract.js'
import type { CsvRecord } from './csv-record.js'
import { readCsvRecords } from './csv-records.js'
import { InputError } from './errors.js'
import { headerNames, resolveColumns } from './header.js'
import { trimWhiteSpace } from './whitespace.js'

/** What the report says about the lookup file. */
export interface LookupStats extends ByteDigest {
  /** Data rows read. */
  rows: number
  /** Distinct categories with an entry. */
  categories: number
  /** Rows ignored because their category was empty. */
  ignored_empty_category: number
  /** Rows that repeat an earlier category with the same segment. */
  repeated_categories: number
  /** Header columns other than `category` and `segment`; ignored. */
  ignored_columns: string[]
}

/** The category → segment mapping used to enrich listings. */
export interface CategoryLookup {
  /** The segment for a trimmed category, or `null` when it has none. */
  segmentOf(category: string): string | null | undefined
  stats: LookupStats
}

interface Entry {
  segment: string | null
  line: number
}

/**
 * Reads the whole category lookup (it is small reference data) into memory.
 *
 * Categories and segments are trimmed of `White_Space`. A row with an empty category is
 * ignored; an empty or null-marker segment maps its category to `null`. A
 * category listed twice with the same segment is fine; with two different
 * segments the file is refused, because either pick would mislabel rows.
 *
 * @param source - the lookup CSV
 * @param isNull - whether a trimmed value counts as missing
 * @throws {InputError} on a missing column, a row with more fields than the
 *   header, a conflicting category, a header, category or segment that is not
 *   valid UTF-8 (a mangled category would match the wrong listings), or
 *   malformed CSV
 */
export async function loadCategoryLookup(
  source: ByteSource,
  isNull: (trimmed: string) => boolean,
): Promise<CategoryLookup> {
  const { chunks, digest } = digestingSource(source.open())
  const records = readCsvRecords(source.name, chunks)
  const header = await records.next()
  if (header.done) throw new InputError(source.name, 'file is empty: expected a header row')
  const layout = resolveColumns(source.name, headerNames(source.name, header.value), LOOKUP_COLUMNS)

  const entries = new Map<string, Entry>()
  let rows = 0
  let ignoredEmptyCategory = 0
  let repeated = 0
  for await (const record of records) {
    const { line } = record
    rows++
    if (record.fieldCount > layout.names.length) {
      throw new InputError(
        source.name,
        `line ${line} has ${record.fieldCount} fields but the header has ${layout.names.length}`,
      )
    }
    const category = validText(source.name, record, layout.index.category, 'category')
    if (isNull(category)) {
      ignoredEmptyCategory++
      continue
    }
    const segmentText = validText(source.name, record, layout.index.segment, 'segment')
    const segment = isNull(segmentText) ? null : segmentText
    const earlier = entries.get(category)
    if (earlier === undefined) {
      entries.set(category, { segment, line })
    } else if (earlier.segment === segment) {
      repeated++
    } else {
      throw new InputError(
        source.name,
        `category ${JSON.stringify(category)} has two different segments: ` +
          `${JSON.stringify(earlier.segment ?? '')} on line ${earlier.line} and ` +
          `${JSON.stringify(segment ?? '')} on line ${line}`,
      )
    }
  }
  return {
    segmentOf: (category) => entries.get(category)?.segment,
    stats: {
      ...digest(),
      rows,
      categories: entries.size,
      ignored_empty_category: ignoredEmptyCategory,
      repeated_categories: repeated,
      ignored_columns: layout.extra,
    },
  }
}

/**
 * A lookup field, trimmed; absent is empty. Reference data must be readable:
 * bytes that are not UTF-8 refuse the file rather than decode to U+FFFD.
 */
function validText(file: string, record: CsvRecord, index: number, column: LookupColumn): string {
  if (!record.fieldIsValidUtf8(index)) {
    throw new InputError(file, `line ${record.line}: ${column} is not valid UTF-8`)
  }
  return trimWhiteSpace(record.field(index) ?? '')
}

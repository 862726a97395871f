import type { ByteSink } from './byte-streams.js'
import type { RejectReason } from './contract.js'
import { bucketOf } from './contract.js'
import { isWhiteSpace, trimWhiteSpace } from './whitespace.js'

/** Columns the rejected-rows file puts before the row's own fields. */
export const REJECT_META_COLUMNS = ['_source_line', '_bucket', '_reason', '_detail'] as const

/** The last column of the rejected-rows file: the record's exact original bytes. */
export const RAW_RECORD_COLUMN = '_raw_record'

/**
 * Every column the rejected-rows file adds. A listings header that already has
 * them (a rejects file fed back in) has them ignored as input, and a row it
 * rejects again gets one fresh set, not a second one.
 */
export const REJECT_COLUMNS: ReadonlySet<string> = new Set([...REJECT_META_COLUMNS, RAW_RECORD_COLUMN])

/** What the writer needs of a rejected record: its exact bytes, whole and field by field. */
export interface RejectedRecord {
  readonly fieldCount: number
  /** Field `index`'s bytes (quotes removed, `""` made `"`), or `undefined` past the end. */
  fieldBytes(index: number): Buffer | undefined
  /** The record's bytes as they were in the file, line ending excluded. */
  recordBytes(): Buffer
}

const FLUSH_BYTES = 1 << 16

/**
 * Writes rejected rows as a rectangular CSV that default readers (DuckDB's
 * auto-detection, csv-parse, spreadsheets) read one row per rejected row:
 *
 * `_source_line, _bucket, _reason, _detail`, then one column per listings
 * header column (as written there), then `_raw_record`.
 *
 * - The field columns hold the row's fields, untrimmed and byte for byte
 *   (bytes that are not UTF-8 included); a field the row lacks is empty. A row
 *   with more fields than the header has its field columns left empty: its
 *   fields cannot be mapped to columns, and an unmapped guess fed back in
 *   could pass as a valid row.
 * - `_raw_record` holds the record's exact bytes as they were in the file, up
 *   to its line ending: byte-faithful, whatever the row's shape. A row read
 *   from a rejects file (its header has `_raw_record`) carries that value over
 *   instead, so replaying never nests one record inside another.
 *
 * Because the listings reader ignores extra columns, a person can fix the
 * fields in place and feed the file straight back to the CLI.
 */
export class RejectedRowsWriter {
  readonly #sink: ByteSink
  /** Output not yet written, one character per byte (latin1), so any bytes pass through unchanged. */
  #pending = ''
  #rows = 0
  /** The source columns written as field columns: all but our own. */
  readonly #fieldColumns: number[]
  readonly #headerWidth: number
  /** Where a rejects file fed back in keeps `_raw_record`, if it does. */
  readonly #rawColumn: number | undefined

  /**
   * @param sink - receives the CSV bytes
   * @param header - the listings file's header names, as written there
   */
  constructor(sink: ByteSink, header: readonly string[]) {
    this.#sink = sink
    const names = header.map(trimWhiteSpace)
    this.#fieldColumns = names.flatMap((name, column) => (REJECT_COLUMNS.has(name) ? [] : [column]))
    this.#headerWidth = header.length
    const rawColumn = names.indexOf(RAW_RECORD_COLUMN)
    this.#rawColumn = rawColumn === -1 ? undefined : rawColumn
    const kept = this.#fieldColumns.map((column) => header[column] as string)
    this.#pending = binaryLine([...REJECT_META_COLUMNS, ...kept, RAW_RECORD_COLUMN].map(binaryOfText))
  }

  /**
   * Records one rejected row.
   *
   * @returns a promise only when buffered rows were flushed to the sink; await it
   */
  add(line: number, reason: RejectReason, detail: string, record: RejectedRecord): Promise<void> | undefined {
    const mapped = record.fieldCount <= this.#headerWidth
    const cells = [String(line), bucketOf(reason), reason, binaryOfText(detail)]
    for (const column of this.#fieldColumns) {
      const bytes = mapped ? record.fieldBytes(column) : undefined
      cells.push(bytes === undefined ? '' : bytes.toString('latin1'))
    }
    cells.push(this.#rawBytes(record, mapped).toString('latin1'))
    this.#pending += binaryLine(cells)
    this.#rows++
    return this.#pending.length >= FLUSH_BYTES ? this.#flush() : undefined
  }

  /** Writes whatever is buffered; returns the number of rows written. */
  async finish(): Promise<number> {
    await this.#flush()
    return this.#rows
  }

  /** The record's own bytes, or the original ones a rejects file fed back in carries. */
  #rawBytes(record: RejectedRecord, mapped: boolean): Buffer {
    if (this.#rawColumn !== undefined && mapped) {
      const carried = record.fieldBytes(this.#rawColumn)
      if (carried !== undefined && carried.length > 0) return carried
    }
    return record.recordBytes()
  }

  async #flush(): Promise<void> {
    if (this.#pending === '') return
    const bytes = Buffer.from(this.#pending, 'latin1')
    this.#pending = ''
    await this.#sink.write(bytes)
  }
}

/** Text as its UTF-8 bytes, one character per byte. */
function binaryOfText(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range, by definition
  return /^[\x00-\x7f]*$/.test(text) ? text : Buffer.from(text, 'utf8').toString('latin1')
}

/** One CSV record of byte strings (one character per byte), LF-terminated. */
function binaryLine(cells: readonly string[]): string {
  return `${cells.map(quoteBinary).join(',')}\n`
}

/**
 * Quotes a field that holds a delimiter, quote or line break, or that begins
 * or ends with whitespace or a control character, so that readers which trim
 * unquoted fields keep the value whole.
 */
function quoteBinary(cell: string): string {
  if (cell === '') return cell
  return /[",\r\n]/.test(cell) || hasLooseEdge(cell) ? `"${cell.replaceAll('"', '""')}"` : cell
}

/** Whether a byte string begins or ends with whitespace or a control, ASCII or not. */
function hasLooseEdge(cell: string): boolean {
  const first = cell.charCodeAt(0)
  const last = cell.charCodeAt(cell.length - 1)
  if (first <= 0x20 || first === 0x7f || last <= 0x20 || last === 0x7f) return true
  if (first < 0x80 && last < 0x80) return false
  // A multi-byte character at an edge: decode to see whether it is Unicode whitespace.
  const text = Buffer.from(cell, 'latin1').toString('utf8')
  return isWhiteSpace(text.charCodeAt(0)) || isWhiteSpace(text.charCodeAt(text.length - 1))
}

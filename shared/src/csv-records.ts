import { InputError } from './errors.js'

/** Read access to a row's fields by position. */
export interface FieldSource {
  /** How many fields the row has. */
  readonly fieldCount: number
  /** Field `index`, untrimmed (quotes removed, `""` made `"`), or `undefined` past the end. */
  field(index: number): string | undefined
  /**
   * Whether field `index` is absent or only whitespace, as `field(index)?.trim()`
   * would say, answered without decoding where possible.
   */
  fieldIsBlank?(index: number): boolean
}

/**
 * One CSV record with the line it starts on. Fields are decoded from the
 * input bytes only when asked for: most rows never need their extra columns,
 * and rows the second pass skips need none.
 */
export interface CsvRecord extends FieldSource {
  /** 1-based line number of the record's first line in the source file. */
  readonly line: number
  /** Every field, decoded. */
  readonly fields: string[]
  fieldIsBlank(index: number): boolean
}

/** A {@link FieldSource} over an array of strings. */
export function arrayFields(fields: readonly string[]): FieldSource {
  return { fieldCount: fields.length, field: (index) => fields[index] }
}

/** A record as byte ranges into the chunk it was scanned from. */
class ScannedRecord implements CsvRecord {
  readonly line: number
  readonly #buffer: Buffer
  /** Per field: start, end, and 1 when `""` must be unescaped. */
  readonly #bounds: number[]

  constructor(buffer: Buffer, bounds: number[], line: number) {
    this.#buffer = buffer
    this.#bounds = bounds
    this.line = line
  }

  get fieldCount(): number {
    return this.#bounds.length / 3
  }

  field(index: number): string | undefined {
    const at = index * 3
    if (at >= this.#bounds.length) return undefined
    const text = this.#buffer.toString('utf8', this.#bounds[at], this.#bounds[at + 1])
    return this.#bounds[at + 2] === 1 ? text.replaceAll('""', '"') : text
  }

  fieldIsBlank(index: number): boolean {
    const at = index * 3
    if (at >= this.#bounds.length) return true
    const buffer = this.#buffer
    const end = this.#bounds[at + 1] as number
    for (let i = this.#bounds[at] as number; i < end; i++) {
      const byte = buffer[i] as number
      if (byte === 0x20 || (byte >= 0x09 && byte <= 0x0d)) continue
      // Non-ASCII may be Unicode whitespace (NBSP, ...): let String.prototype.trim decide.
      return byte < 0x80 ? false : (this.field(index) as string).trim() === ''
    }
    return true
  }

  get fields(): string[] {
    return Array.from({ length: this.fieldCount }, (_, index) => this.field(index) as string)
  }
}

/** Options for {@link readCsvRecords} and {@link readCsvBatches}. */
export interface ReadCsvOptions {
  /**
   * Largest record, in bytes, before the file is refused. Bounds memory when
   * an unclosed quote would otherwise swallow the rest of the file.
   * @default 1048576
   */
  maxRecordBytes?: number
}

const QUOTE = 0x22
const COMMA = 0x2c
const CR = 0x0d
const LF = 0x0a

/**
 * Streams RFC 4180 records from UTF-8 bytes, as the contract reads them, one
 * batch per input chunk.
 *
 * A leading byte-order mark is dropped; records end at LF or CRLF; quoted
 * fields keep their commas and line breaks, and `""` inside them is a quote.
 * A quote inside an unquoted field is kept as text. Lines that are empty or
 * only whitespace yield nothing but still count as lines. Rows may have any
 * number of fields: counting them against the header is the caller's job.
 *
 * The scanner works on bytes and decodes a field only when it is read; it replaced
 * csv-parse, which was the ceiling of the whole transform (docs/performance.md).
 *
 * @param name - the file's name, for errors
 * @param bytes - the file's content, in chunks of any size
 * @throws {InputError} when the CSV is malformed: an unclosed quote, text
 *   after a closing quote, or a record over `maxRecordBytes`
 */
export async function* readCsvBatches(
  name: string,
  bytes: AsyncIterable<Uint8Array>,
  options: ReadCsvOptions = {},
): AsyncGenerator<CsvRecord[]> {
  const scanner = new CsvScanner(name, options.maxRecordBytes ?? 1_048_576)
  for await (const chunk of bytes) {
    const batch = scanner.push(chunk)
    if (batch.length > 0) yield batch
  }
  const last = scanner.end()
  if (last.length > 0) yield last
}

/** {@link readCsvBatches}, one record at a time: for small files and tests. */
export async function* readCsvRecords(
  name: string,
  bytes: AsyncIterable<Uint8Array>,
  options: ReadCsvOptions = {},
): AsyncGenerator<CsvRecord> {
  for await (const batch of readCsvBatches(name, bytes, options)) yield* batch
}

/**
 * The byte-level RFC 4180 state machine behind {@link readCsvBatches}. Bytes
 * of a record not yet complete at the end of a chunk are kept and scanned
 * again with the next chunk; records are usually small, so that is cheap.
 */
class CsvScanner {
  readonly #name: string
  readonly #maxRecordBytes: number
  #pending: Buffer = Buffer.alloc(0)
  #line = 1
  #started = false

  constructor(name: string, maxRecordBytes: number) {
    this.#name = name
    this.#maxRecordBytes = maxRecordBytes
  }

  /** Scans a chunk; returns the records it completes. */
  push(chunk: Uint8Array): CsvRecord[] {
    let buffer =
      this.#pending.length === 0
        ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
        : Buffer.concat([this.#pending, chunk])
    if (!this.#started) {
      if (buffer.length < 3 && isBomPrefix(buffer)) {
        this.#pending = Buffer.from(buffer)
        return []
      }
      this.#started = true
      if (buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf) buffer = buffer.subarray(3)
    }
    const records: CsvRecord[] = []
    const consumed = this.#scan(buffer, false, records)
    // Copy the remainder: a view would keep the whole chunk alive.
    this.#pending = Buffer.from(buffer.subarray(consumed))
    if (this.#pending.length > this.#maxRecordBytes) {
      throw new InputError(
        this.#name,
        `malformed CSV (record_too_large): the record starting on line ${this.#line} is over ${this.#maxRecordBytes} bytes; is a quote left open?`,
      )
    }
    return records
  }

  /** Scans what is left at the end of the input. */
  end(): CsvRecord[] {
    const records: CsvRecord[] = []
    if (this.#pending.length > 0) this.#scan(this.#pending, true, records)
    this.#pending = Buffer.alloc(0)
    return records
  }

  /**
   * Scans whole records from `buffer` into `records`.
   *
   * @param final - no more bytes follow, so a record may end at the buffer's end
   * @returns how many bytes were consumed (the start of the first incomplete record)
   */
  #scan(buffer: Buffer, final: boolean, records: CsvRecord[]): number {
    const length = buffer.length
    let start = 0
    while (start < length) {
      const record = this.#scanRecord(buffer, start, final)
      if (record === undefined) return start
      const { bounds, next, lineFeeds } = record
      if (!isBlank(buffer, bounds)) records.push(new ScannedRecord(buffer, bounds, this.#line))
      this.#line += lineFeeds
      start = next
    }
    return start
  }

  /** Scans one record at `start`; `undefined` when it is not complete in `buffer`. */
  #scanRecord(
    buffer: Buffer,
    start: number,
    final: boolean,
  ): { bounds: number[]; next: number; lineFeeds: number } | undefined {
    const length = buffer.length
    const bounds: number[] = []
    let at = start
    let lineFeeds = 0
    for (;;) {
      if (buffer[at] === QUOTE) {
        const quoted = this.#scanQuoted(buffer, at, final, this.#line + lineFeeds)
        if (quoted === undefined) return undefined
        bounds.push(at + 1, quoted.close, quoted.escaped ? 1 : 0)
        lineFeeds += quoted.lineFeeds
        at = quoted.next
        // After the closing quote: a delimiter, a line ending, or the end of the file.
        const after = buffer[at]
        if (after === COMMA) {
          at++
          continue
        }
        if (after === LF) return { bounds, next: at + 1, lineFeeds: lineFeeds + 1 }
        if (after === CR && buffer[at + 1] === LF) return { bounds, next: at + 2, lineFeeds: lineFeeds + 1 }
        if (at >= length || (after === CR && at + 1 >= length)) {
          // The end of the file (a lone CR there is taken as the line ending).
          if (!final) return undefined
          return { bounds, next: length, lineFeeds: lineFeeds + 1 }
        }
        throw this.#closingQuoteError(this.#line + lineFeeds)
      }
      let end = at
      while (end < length) {
        const byte = buffer[end]
        if (byte === COMMA || byte === LF) break
        end++
      }
      if (end >= length && !final) return undefined
      if (buffer[end] === COMMA) {
        bounds.push(at, end, 0)
        at = end + 1
        continue
      }
      // A line feed, or the end of the file: the record's last field.
      const fieldEnd = end > at && buffer[end - 1] === CR && end < length ? end - 1 : end
      bounds.push(at, fieldEnd, 0)
      return { bounds, next: Math.min(end + 1, length), lineFeeds: lineFeeds + 1 }
    }
  }

  /** Scans a quoted field whose opening quote is at `at`. */
  #scanQuoted(
    buffer: Buffer,
    at: number,
    final: boolean,
    line: number,
  ): { close: number; escaped: boolean; next: number; lineFeeds: number } | undefined {
    const length = buffer.length
    let search = at + 1
    let escaped = false
    for (;;) {
      const close = buffer.indexOf(QUOTE, search)
      if (close === -1 || (close + 1 >= length && !final)) {
        if (final && close === -1) {
          throw new InputError(
            this.#name,
            `malformed CSV (unclosed_quote): the quoted field starting on line ${line} is never closed`,
          )
        }
        return undefined
      }
      if (buffer[close + 1] === QUOTE) {
        escaped = true
        search = close + 2
        continue
      }
      return { close, escaped, next: close + 1, lineFeeds: countLineFeeds(buffer, at + 1, close) }
    }
  }

  #closingQuoteError(line: number): InputError {
    return new InputError(
      this.#name,
      `malformed CSV (invalid_closing_quote): text follows a closing quote on line ${line}`,
    )
  }
}

function countLineFeeds(buffer: Buffer, from: number, to: number): number {
  let count = 0
  for (let at = buffer.indexOf(LF, from); at !== -1 && at < to; at = buffer.indexOf(LF, at + 1)) count++
  return count
}

/** An empty or whitespace-only line is one blank field; it is not a row. */
function isBlank(buffer: Buffer, bounds: number[]): boolean {
  return bounds.length === 3 && buffer.toString('utf8', bounds[0], bounds[1]).trim() === ''
}

/** Whether a short first chunk could still be the start of a byte-order mark. */
function isBomPrefix(buffer: Buffer): boolean {
  const bom = [0xef, 0xbb, 0xbf]
  return buffer.every((byte, i) => byte === bom[i])
}

import { isUtf8 } from 'node:buffer'
import { InputError } from './errors.js'
import { isAsciiWhiteSpaceByte, trimWhiteSpace } from './whitespace.js'

/** Read access to a row's fields by position. */
export interface FieldSource {
  /** How many fields the row has. */
  readonly fieldCount: number
  /** Field `index`, untrimmed (quotes removed, `""` made `"`), or `undefined` past the end. */
  field(index: number): string | undefined
  /**
   * Whether field `index` is absent or only whitespace (see whitespace.ts),
   * answered without decoding where possible.
   */
  fieldIsBlank?(index: number): boolean
  /**
   * Whether field `index`'s bytes are valid UTF-8 (an absent field is). A
   * source without this method holds strings, which always are.
   */
  fieldIsValidUtf8?(index: number): boolean
  /**
   * `true` when every field is known to be valid UTF-8, so no field needs
   * {@link FieldSource.fieldIsValidUtf8}: one check per row instead of one per field.
   */
  readonly allValidUtf8?: boolean
}

/**
 * One CSV record with the line it starts on. Fields are decoded from the
 * input bytes only when asked for: most rows never need their extra columns,
 * and rows the second pass skips need none.
 */
export interface CsvRecord extends FieldSource {
  /** 1-based line number of the record's first line in the source file. */
  readonly line: number
  /** Every field, decoded (bytes that are not UTF-8 become U+FFFD). */
  readonly fields: string[]
  fieldIsBlank(index: number): boolean
  fieldIsValidUtf8(index: number): boolean
  readonly allValidUtf8: boolean
  /** Field `index`'s exact bytes (quotes removed, `""` made `"`), or `undefined` past the end. */
  fieldBytes(index: number): Buffer | undefined
  /**
   * The record's exact bytes as they are in the file, from its first byte up
   * to, not including, its line ending (LF or CRLF).
   */
  recordBytes(): Buffer
  /**
   * Field `index`'s bytes where they lie, without a copy or a view: writes
   * their start and end into `span` and returns the buffer that holds them;
   * `undefined` when the row has no such field or the field holds `""`
   * (its value differs from its bytes; use {@link CsvRecord.field}).
   */
  fieldSpan(index: number, span: Int32Array): Buffer | undefined
}

/** A {@link FieldSource} over an array of strings. */
export function arrayFields(fields: readonly string[]): FieldSource {
  return { fieldCount: fields.length, field: (index) => fields[index] }
}

/** Facts about the records scanned from one buffer, learnt after they are created. */
interface ScanFacts {
  /** The bytes of every record in the buffer are valid UTF-8, so no field needs its own check. */
  validUtf8: boolean
}

/** A record as byte ranges into the chunk it was scanned from. */
class ScannedRecord implements CsvRecord {
  readonly line: number
  readonly #buffer: Buffer
  /**
   * Per field: start, end, and 1 when `""` must be unescaped; shared by every
   * record of one scan (one array per chunk, not one per record), this
   * record's from `#first`.
   */
  readonly #bounds: number[]
  readonly #first: number
  readonly #fieldCount: number
  /** The record's bytes are `#buffer[#start .. #end)`, line ending excluded. */
  readonly #start: number
  readonly #end: number
  readonly #facts: ScanFacts

  constructor(
    buffer: Buffer,
    bounds: number[],
    first: number,
    fieldCount: number,
    line: number,
    start: number,
    end: number,
    facts: ScanFacts,
  ) {
    this.#buffer = buffer
    this.#bounds = bounds
    this.#first = first
    this.#fieldCount = fieldCount
    this.line = line
    this.#start = start
    this.#end = end
    this.#facts = facts
  }

  get fieldCount(): number {
    return this.#fieldCount
  }

  field(index: number): string | undefined {
    if (index >= this.#fieldCount) return undefined
    const at = this.#first + index * 3
    const text = this.#buffer.toString('utf8', this.#bounds[at], this.#bounds[at + 1])
    return this.#bounds[at + 2] === 1 ? text.replaceAll('""', '"') : text
  }

  fieldIsBlank(index: number): boolean {
    if (index >= this.#fieldCount) return true
    const at = this.#first + index * 3
    return isBlankBytes(this.#buffer, this.#bounds[at] as number, this.#bounds[at + 1] as number)
  }

  get allValidUtf8(): boolean {
    return this.#facts.validUtf8
  }

  fieldIsValidUtf8(index: number): boolean {
    if (this.#facts.validUtf8) return true
    if (index >= this.#fieldCount) return true
    const at = this.#first + index * 3
    return isUtf8(this.#buffer.subarray(this.#bounds[at], this.#bounds[at + 1]))
  }

  fieldBytes(index: number): Buffer | undefined {
    if (index >= this.#fieldCount) return undefined
    const at = this.#first + index * 3
    const bytes = this.#buffer.subarray(this.#bounds[at], this.#bounds[at + 1])
    return this.#bounds[at + 2] === 1 ? unescapeQuotes(bytes) : bytes
  }

  recordBytes(): Buffer {
    return this.#buffer.subarray(this.#start, this.#end)
  }

  fieldSpan(index: number, span: Int32Array): Buffer | undefined {
    if (index >= this.#fieldCount) return undefined
    const at = this.#first + index * 3
    if (this.#bounds[at + 2] === 1) return undefined
    span[0] = this.#bounds[at] as number
    span[1] = this.#bounds[at + 1] as number
    return this.#buffer
  }

  get fields(): string[] {
    return Array.from({ length: this.fieldCount }, (_, index) => this.field(index) as string)
  }
}

/** Options for {@link readCsvRecords} and {@link readCsvBatches}. */
export interface ReadCsvOptions {
  /**
   * Largest record, in bytes, before the file is refused. Bounds memory when
   * an unclosed quote would otherwise swallow the rest of the file. A record's
   * bytes run from its first byte up to, not including, its line ending (LF or
   * CRLF); quotes, commas and line breaks inside quotes count. The same bytes
   * are accepted or refused whatever the read chunk size.
   * @default 1048576 ({@link MAX_RECORD_BYTES})
   */
  maxRecordBytes?: number
}

/** The contract's record cap: 1 MiB. */
export const MAX_RECORD_BYTES = 1_048_576

/**
 * While the incomplete record held over is at least this large, chunks are
 * gathered until they are as large as it before it is scanned again, so a
 * large record arriving in small chunks costs linear, not quadratic, time.
 */
const GATHER_FROM_BYTES = 65_536

/** The most bytes scanned into one batch. */
const SCAN_SLICE_BYTES = 1 << 16

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
 * only whitespace (`White_Space`, see whitespace.ts; quoted or not) yield
 * nothing but still count as lines. Rows may have any number of fields: counting them against the header is the
 * caller's job. Bytes that are not UTF-8 are kept: each record can say which
 * of its fields are valid and give their exact bytes.
 *
 * The scanner works on bytes and decodes a field only when it is read; it replaced
 * csv-parse, which was the ceiling of the whole transform (docs/performance.md).
 *
 * @param name - the file's name, for errors
 * @param bytes - the file's content, in chunks of any size
 * @throws {InputError} when the CSV is malformed: an unclosed quote, text
 *   after a closing quote, or a record over `maxRecordBytes`. Which error a
 *   file gets depends only on its bytes, never on how they were chunked: a
 *   record whose bytes before the point of failure already exceed the cap is
 *   `record_too_large`.
 */
export async function* readCsvBatches(
  name: string,
  bytes: AsyncIterable<Uint8Array>,
  options: ReadCsvOptions = {},
): AsyncGenerator<CsvRecord[]> {
  const scanner = new CsvScanner(name, options.maxRecordBytes ?? MAX_RECORD_BYTES)
  for await (const chunk of bytes) {
    // Large chunks are scanned in slices: a batch's records live until it is processed, and
    // small batches let them die young instead of being promoted to the old generation
    // (about 4 MB a batch at 1 MiB chunks; peak RSS, docs/performance.md).
    for (let offset = 0; offset < chunk.byteLength; offset += SCAN_SLICE_BYTES) {
      const batch = scanner.push(chunk.subarray(offset, offset + SCAN_SLICE_BYTES))
      if (batch.length > 0) yield batch
    }
  }
  const last = scanner.end()
  if (last.length > 0) yield last
  scanner.finish()
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
 * again with the next chunk; records are usually small, so that is cheap, and
 * a large one waits for enough chunks to double it before it is rescanned.
 *
 * The record cap is checked on each record's own bytes, and on the record
 * held over between chunks only once it is certainly too large (more than
 * cap + 1 bytes: the last one may be the CR of a CRLF), so the outcome never
 * depends on where chunks end.
 */
class CsvScanner {
  readonly #name: string
  readonly #maxRecordBytes: number
  #pending: Buffer = Buffer.alloc(0)
  /** Chunks gathered behind a large `#pending` record, not yet scanned. */
  #gathered: Buffer[] = []
  #gatheredBytes = 0
  #line = 1
  #started = false
  /**
   * A malformed-CSV error met while scanning, thrown on the next call so the
   * records before it are returned first, as they would be with smaller chunks.
   */
  #failure: InputError | undefined

  constructor(name: string, maxRecordBytes: number) {
    this.#name = name
    this.#maxRecordBytes = maxRecordBytes
  }

  /** Scans a chunk; returns the records it completes. */
  push(chunk: Uint8Array): CsvRecord[] {
    if (this.#failure) throw this.#failure
    const incoming = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    if (
      this.#pending.length >= GATHER_FROM_BYTES &&
      this.#gatheredBytes + incoming.length < this.#pending.length
    ) {
      this.#gathered.push(incoming)
      this.#gatheredBytes += incoming.length
      return []
    }
    let buffer =
      this.#pending.length === 0 ? incoming : Buffer.concat([this.#pending, ...this.#gathered, incoming])
    this.#gathered = []
    this.#gatheredBytes = 0
    if (!this.#started) {
      if (buffer.length < 3 && isBomPrefix(buffer)) {
        this.#pending = Buffer.from(buffer)
        return []
      }
      this.#started = true
      if (buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf) buffer = buffer.subarray(3)
    }
    const records: CsvRecord[] = []
    const consumed = this.#scanOrDefer(buffer, false, records)
    // Copy the remainder: a view would keep the whole chunk alive.
    this.#pending = Buffer.from(buffer.subarray(consumed))
    if (this.#pending.length > this.#maxRecordBytes + 1) this.#failure ??= this.#tooLargeError()
    return records
  }

  /** Scans what is left at the end of the input. */
  end(): CsvRecord[] {
    if (this.#failure) throw this.#failure
    const records: CsvRecord[] = []
    const rest =
      this.#gathered.length === 0 ? this.#pending : Buffer.concat([this.#pending, ...this.#gathered])
    if (rest.length > 0) this.#scanOrDefer(rest, true, records)
    this.#pending = Buffer.alloc(0)
    this.#gathered = []
    this.#gatheredBytes = 0
    return records
  }

  /** Throws a failure met by the last {@link CsvScanner.end} call, once its records were taken. */
  finish(): void {
    if (this.#failure) throw this.#failure
  }

  /** `#scan`, holding a malformed-CSV error back until the records before it are taken. */
  #scanOrDefer(buffer: Buffer, final: boolean, records: CsvRecord[]): number {
    try {
      return this.#scan(buffer, final, records)
    } catch (error) {
      if (!(error instanceof InputError)) throw error
      this.#failure = error
      return buffer.length
    }
  }

  /**
   * Scans whole records from `buffer` into `records`.
   *
   * @param final - no more bytes follow, so a record may end at the buffer's end
   * @returns how many bytes were consumed (the start of the first incomplete record)
   */
  #scan(buffer: Buffer, final: boolean, records: CsvRecord[]): number {
    const length = buffer.length
    const facts: ScanFacts = { validUtf8: true }
    const bounds: number[] = []
    let start = 0
    try {
      while (start < length) {
        const first = bounds.length
        const next = this.#scanRecord(buffer, start, final, bounds)
        if (next < 0) {
          bounds.length = first
          break
        }
        const end = this.#recordEnd
        if (end - start > this.#maxRecordBytes) throw this.#tooLargeError()
        const fieldCount = (bounds.length - first) / 3
        if (fieldCount === 1 && isBlankBytes(buffer, bounds[first] as number, bounds[first + 1] as number)) {
          // An empty or whitespace-only line (quoted or not, as docs/contract.md decides) is not a row.
          bounds.length = first
        } else {
          records.push(new ScannedRecord(buffer, bounds, first, fieldCount, this.#line, start, end, facts))
        }
        this.#line += this.#recordLineFeeds
        start = next
      }
    } finally {
      // One validation of the whole span (fast, native) spares a check per field.
      if (records.length > 0) facts.validUtf8 = isUtf8(buffer.subarray(0, start))
    }
    return start
  }

  /** Where the record {@link CsvScanner.#scanRecord} last completed ends, line ending excluded. */
  #recordEnd = 0
  /** How many line feeds that record spans, its line ending included. */
  #recordLineFeeds = 0

  /**
   * Scans one record at `start`, appending its fields' bounds to `bounds`.
   *
   * @returns where the next record starts, or -1 when this one is not complete in `buffer`
   */
  #scanRecord(buffer: Buffer, start: number, final: boolean, bounds: number[]): number {
    const length = buffer.length
    let at = start
    let lineFeeds = 0
    for (;;) {
      if (buffer[at] === QUOTE) {
        const quoted = this.#scanQuoted(buffer, at, final, start, this.#line + lineFeeds)
        if (quoted === undefined) return -1
        bounds.push(at + 1, quoted.close, quoted.escaped ? 1 : 0)
        lineFeeds += quoted.lineFeeds
        at = quoted.next
        // After the closing quote: a delimiter, a line ending, or the end of the file.
        const after = buffer[at]
        if (after === COMMA) {
          at++
          continue
        }
        if (after === LF) return this.#ended(at, lineFeeds + 1, at + 1)
        if (after === CR && buffer[at + 1] === LF) return this.#ended(at, lineFeeds + 1, at + 2)
        if (at >= length || (after === CR && at + 1 >= length)) {
          // The end of the file (a lone CR there is taken as the line ending).
          if (!final) return -1
          return this.#ended(at, lineFeeds + 1, length)
        }
        // Past the cap, the record is too large before it is malformed: so say chunked reads too.
        if (at - start > this.#maxRecordBytes) throw this.#tooLargeError()
        throw this.#closingQuoteError(this.#line + lineFeeds)
      }
      let end = at
      while (end < length) {
        const byte = buffer[end]
        if (byte === COMMA || byte === LF) break
        end++
      }
      if (end >= length && !final) return -1
      if (buffer[end] === COMMA) {
        bounds.push(at, end, 0)
        at = end + 1
        continue
      }
      // A line feed, or the end of the file: the record's last field.
      const fieldEnd = end > at && buffer[end - 1] === CR && end < length ? end - 1 : end
      bounds.push(at, fieldEnd, 0)
      return this.#ended(fieldEnd, lineFeeds + 1, Math.min(end + 1, length))
    }
  }

  /** Records where the record just scanned ends; returns where the next one starts. */
  #ended(end: number, lineFeeds: number, next: number): number {
    this.#recordEnd = end
    this.#recordLineFeeds = lineFeeds
    return next
  }

  /** Scans a quoted field whose opening quote is at `at`, in the record starting at `start`. */
  #scanQuoted(
    buffer: Buffer,
    at: number,
    final: boolean,
    start: number,
    line: number,
  ): { close: number; escaped: boolean; next: number; lineFeeds: number } | undefined {
    const length = buffer.length
    let search = at + 1
    let escaped = false
    for (;;) {
      const close = buffer.indexOf(QUOTE, search)
      if (close === -1 || (close + 1 >= length && !final)) {
        if (final && close === -1) {
          if (length - start > this.#maxRecordBytes) throw this.#tooLargeError()
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

  /** The record starting on the current line is over the cap. */
  #tooLargeError(): InputError {
    return new InputError(
      this.#name,
      `malformed CSV (record_too_large): the record starting on line ${this.#line} is over ${this.#maxRecordBytes} bytes; is a quote left open?`,
    )
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

/** Whether `buffer[start .. end)` is only whitespace, decoding only when a non-ASCII byte is met. */
function isBlankBytes(buffer: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const byte = buffer[i] as number
    if (isAsciiWhiteSpaceByte(byte)) continue
    // Non-ASCII may be Unicode whitespace (NEL, NBSP, ...): decode the rest to decide.
    return byte < 0x80 ? false : trimWhiteSpace(buffer.toString('utf8', i, end)) === ''
  }
  return true
}

/** The bytes of a quoted field's content with each `""` made `"`. */
function unescapeQuotes(bytes: Buffer): Buffer {
  const out = Buffer.allocUnsafe(bytes.length)
  let length = 0
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number
    out[length++] = byte
    if (byte === QUOTE) i++
  }
  return out.subarray(0, length)
}

/** Whether a short first chunk could still be the start of a byte-order mark. */
function isBomPrefix(buffer: Buffer): boolean {
  const bom = [0xef, 0xbb, 0xbf]
  return buffer.every((byte, i) => byte === bom[i])
}

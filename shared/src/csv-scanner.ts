/**
 * The byte-level RFC 4180 state machine behind `readCsvBatches`
 * (csv-records.ts): finds records and their fields' byte ranges in chunks of
 * any size, holding over an incomplete record, and enforces the record cap.
 *
 * Length: over 250 lines, kept as one module: it is one state machine whose per-byte loops
 * (`#scanRecord`, `#scanQuoted`) share its private state; its pieces do not
 * stand alone.
 */
import { isUtf8 } from 'node:buffer'
import { type CsvRecord, isBlankBytes, type ScanFacts, ScannedRecord } from './csv-record.js'
import { InputError } from './errors.js'

/**
 * While the incomplete record held over is at least this large, chunks are
 * gathered until they are as large as it before it is scanned again, so a
 * large record arriving in small chunks costs linear, not quadratic, time.
 */
const GATHER_FROM_BYTES = 65_536

const QUOTE = 0x22
const COMMA = 0x2c
const CR = 0x0d
const LF = 0x0a

/**
 * The byte-level RFC 4180 state machine behind `readCsvBatches`. Bytes
 * of a record not yet complete at the end of a chunk are kept and scanned
 * again with the next chunk; records are usually small, so that is cheap, and
 * a large one waits for enough chunks to double it before it is rescanned.
 *
 * The record cap is checked on each record's own bytes, and on the record
 * held over between chunks only once it is certainly too large (more than
 * cap + 1 bytes: the last one may be the CR of a CRLF), so the outcome never
 * depends on where chunks end.
 */
export class CsvScanner {
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

/** Whether a short first chunk could still be the start of a byte-order mark. */
function isBomPrefix(buffer: Buffer): boolean {
  const bom = [0xef, 0xbb, 0xbf]
  return buffer.every((byte, i) => byte === bom[i])
}

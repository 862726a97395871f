/**
 * Reading CSV as the contract does: {@link readCsvBatches} streams a file's
 * records in batches (the scanner is csv-scanner.ts, a record csv-record.ts),
 * slicing large chunks so a batch's records die young, and
 * {@link readCsvRecords} gives them one at a time.
 */
import type { CsvRecord } from './csv-record.js'
import { CsvScanner } from './csv-scanner.js'

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

/** The most bytes scanned into one batch. */
const SCAN_SLICE_BYTES = 1 << 16

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

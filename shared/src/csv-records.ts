import { pipeline } from 'node:stream/promises'
import { CsvError, parse } from 'csv-parse'
import { InputError } from './errors.js'

/** One CSV record with the line it starts on, for rejects and errors. */
export interface CsvRecord {
  /** The record's fields, untrimmed, exactly as the CSV holds them. */
  fields: string[]
  /** 1-based line number of the record's first line in the source file. */
  line: number
}

/** Options for {@link readCsvRecords}. */
export interface ReadCsvOptions {
  /**
   * Largest record, in characters, before the file is refused. Bounds memory
   * when an unclosed quote would otherwise swallow the rest of the file.
   * @default 1048576
   */
  maxRecordChars?: number
}

/**
 * Streams RFC 4180 records from UTF-8 bytes, as the contract reads them.
 *
 * A leading byte-order mark is dropped; records end at LF or CRLF (listing
 * both keeps a file that mixes them from leaving `\r` on a last field); quoted
 * fields keep their commas and line breaks. Lines that are empty or only
 * whitespace are skipped and yield nothing. Rows may have any number of
 * fields: counting them against the header is the caller's job.
 *
 * @param name - the file's name, for errors
 * @param bytes - the file's content
 * @throws {InputError} when the CSV is malformed (for example an unclosed quote)
 */
export async function* readCsvRecords(
  name: string,
  bytes: AsyncIterable<Uint8Array>,
  options: ReadCsvOptions = {},
): AsyncGenerator<CsvRecord> {
  const parser = parse({
    bom: true,
    delimiter: ',',
    quote: '"',
    escape: '"',
    record_delimiter: ['\r\n', '\n'],
    relax_column_count: true,
    relax_quotes: true,
    max_record_size: options.maxRecordChars ?? 1_048_576,
  })
  const feeding = pipeline(bytes, parser)
  // A consumer that stops early (a bad header) destroys the parser; that
  // rejection is expected and must not surface as unhandled.
  feeding.catch(() => undefined)

  // Line numbers are counted here rather than taken from csv-parse's `info`
  // option, which doubles parsing time and counts a CRLF inside quotes as two
  // lines. Every line break, between records or inside quotes, has one LF.
  let line = 1
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      const start = line
      line += 1 + countLineFeeds(record)
      if (isBlankRecord(record)) continue
      yield { fields: record, line: start }
    }
    await feeding
  } catch (error) {
    throw asInputError(name, error)
  }
}

function countLineFeeds(record: readonly string[]): number {
  let count = 0
  for (const field of record) {
    for (let at = field.indexOf('\n'); at !== -1; at = field.indexOf('\n', at + 1)) count++
  }
  return count
}

/** An empty or whitespace-only line parses as one blank field; it is not a row. */
function isBlankRecord(record: string[]): boolean {
  return record.length === 1 && (record[0] ?? '').trim() === ''
}

function asInputError(name: string, error: unknown): unknown {
  if (error instanceof CsvError) {
    return new InputError(name, `malformed CSV (${error.code}): ${error.message}`)
  }
  return error
}

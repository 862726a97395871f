import type { ByteSink } from './byte-streams.js'
import type { RejectReason } from './contract.js'
import { bucketOf } from './contract.js'

/** Columns the rejected-rows file puts before the row's own fields. */
export const REJECT_META_COLUMNS = ['_source_line', '_bucket', '_reason', '_detail'] as const

const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/
const FLUSH_CHARS = 1 << 16

/**
 * Writes rejected rows as CSV: the source line, bucket, reason and detail,
 * then the row's original fields, untrimmed, under the original header.
 *
 * Because the listings reader ignores extra columns, a person can fix the
 * fields in place and feed the file straight back to the CLI.
 */
export class RejectedRowsWriter {
  readonly #sink: ByteSink
  #pending = ''
  #rows = 0

  /**
   * @param sink - receives the CSV bytes
   * @param header - the listings file's header, as written there
   */
  constructor(sink: ByteSink, header: readonly string[]) {
    this.#sink = sink
    this.#pending = toCsvLine([...REJECT_META_COLUMNS, ...header])
  }

  /**
   * Records one rejected row.
   *
   * @returns a promise only when buffered rows were flushed to the sink; await it
   */
  add(
    line: number,
    reason: RejectReason,
    detail: string,
    fields: readonly string[],
  ): Promise<void> | undefined {
    this.#pending += toCsvLine([String(line), bucketOf(reason), reason, detail, ...fields])
    this.#rows++
    return this.#pending.length >= FLUSH_CHARS ? this.#flush() : undefined
  }

  /** Writes whatever is buffered; returns the number of rows written. */
  async finish(): Promise<number> {
    await this.#flush()
    return this.#rows
  }

  async #flush(): Promise<void> {
    if (this.#pending === '') return
    const bytes = Buffer.from(this.#pending, 'utf8')
    this.#pending = ''
    await this.#sink.write(bytes)
  }
}

/**
 * Formats one CSV record (RFC 4180, LF-terminated), quoting fields that hold
 * a delimiter, quote or line break, or begin or end with whitespace.
 */
export function toCsvLine(fields: readonly string[]): string {
  return `${fields.map(quoteField).join(',')}\n`
}

function quoteField(field: string): string {
  return NEEDS_QUOTES.test(field) ? `"${field.replaceAll('"', '""')}"` : field
}

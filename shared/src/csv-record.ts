/**
 * One CSV record as the transform reads it: the {@link CsvRecord} interface
 * the classifier, the rejects writer and the header check use, and
 * {@link ScannedRecord}, the scanner's record, which keeps byte ranges into
 * the chunk it came from and decodes a field only when it is read.
 */
import { isUtf8 } from 'node:buffer'
import { isAsciiWhiteSpaceByte, trimWhiteSpace } from './whitespace.js'

const QUOTE = 0x22

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
export interface ScanFacts {
  /** The bytes of every record in the buffer are valid UTF-8, so no field needs its own check. */
  validUtf8: boolean
}

/** A record as byte ranges into the chunk it was scanned from. */
export class ScannedRecord implements CsvRecord {
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

/** Whether `buffer[start .. end)` is only whitespace, decoding only when a non-ASCII byte is met. */
export function isBlankBytes(buffer: Buffer, start: number, end: number): boolean {
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

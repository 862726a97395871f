import type { ReadRow } from './parquet-readers.js'

/**
 * A deliberately naive, in-memory model of the ingest contract, written
 * without csv-parse or any production module, for property tests to compare
 * against. It favours being obviously right over being fast.
 */

/** An output row, as the Parquet readers in the tests return it. */
export type ModelRow = ReadRow

/** A rejected row as the contract describes it; byte strings hold one character per byte (latin1). */
export interface ModelReject {
  line: number
  reason: string
  /** The record's exact bytes, line ending excluded, as a byte string. */
  raw: string
  /** The row's fields as byte strings, or `undefined` when it has more fields than the header. */
  fields: string[] | undefined
}

export interface ModelResult {
  source_rows: number
  valid_rows_after_clean: number
  rows_after_dedup: number
  dropped_missing_required: number
  dropped_non_positive_price: number
  rows: ModelRow[]
  rejects: ModelReject[]
}

const REQUIRED = ['date', 'seller_id', 'region', 'category', 'item_id', 'price_gbp']

/** The contract's whitespace: the Unicode White_Space property (so not U+FEFF, nor U+001C-U+001F). */
const trim = (text: string) => text.replace(/^\p{White_Space}+|\p{White_Space}+$/gu, '')

/** A byte string (one character per byte) as text; bytes that are not UTF-8 become U+FFFD. */
const decode = (bytes: string) => Buffer.from(bytes, 'latin1').toString('utf8')

const strictDecoder = new TextDecoder('utf-8', { fatal: true })

/** Whether a byte string is valid UTF-8. */
function isValidUtf8(bytes: string): boolean {
  try {
    strictDecoder.decode(Buffer.from(bytes, 'latin1'))
    return true
  } catch {
    return false
  }
}

/** A file's bytes as a byte string: CSV syntax is ASCII, so it can be parsed one character per byte. */
const binary = (file: string | Uint8Array) =>
  (typeof file === 'string' ? Buffer.from(file, 'utf8') : Buffer.from(file)).toString('latin1')

/** A record: its fields and whole text as byte strings, and the line it starts on. */
interface ModelRecord {
  fields: string[]
  raw: string
  line: number
}

/** Splits RFC 4180 bytes into records, each with the line it starts on; skips blank lines. */
function parseRecords(bytes: string): ModelRecord[] {
  const body = bytes.startsWith('\xef\xbb\xbf') ? bytes.slice(3) : bytes
  const records: ModelRecord[] = []
  let line = 1
  let at = 0
  while (at < body.length) {
    const startLine = line
    const start = at
    const fields: string[] = []
    let field = ''
    let quoted = false
    let end: number
    for (;;) {
      const ch = body[at]
      if (quoted) {
        if (ch === undefined) throw new Error('unclosed quote')
        if (ch === '"' && body[at + 1] === '"') {
          field += '"'
          at += 2
        } else if (ch === '"') {
          quoted = false
          at++
        } else {
          if (ch === '\n') line++
          field += ch
          at++
        }
        continue
      }
      if (ch === undefined || ch === '\n' || (ch === '\r' && body[at + 1] === '\n')) {
        fields.push(field)
        end = at
        at = ch === undefined ? at : ch === '\n' ? at + 1 : at + 2
        line++
        break
      }
      if (ch === ',') {
        fields.push(field)
        field = ''
      } else if (ch === '"' && field === '') {
        quoted = true
      } else {
        field += ch
      }
      at++
    }
    // An empty or whitespace-only line (its whitespace quoted or not) is not a row.
    const blank = fields.length === 1 && trim(decode(fields[0] as string)) === ''
    if (!blank) records.push({ fields, raw: body.slice(start, end), line: startLine })
  }
  return records
}

/** Splits RFC 4180 text (or bytes) into records of decoded fields, each with the line it starts on; skips blank lines. */
export function modelParseCsv(file: string | Uint8Array): { fields: string[]; line: number }[] {
  return parseRecords(binary(file)).map(({ fields, line }) => ({ fields: fields.map(decode), line }))
}

/** A header's names, trimmed; a header that is not UTF-8 refuses the file. */
function headerNames(record: ModelRecord | undefined): string[] {
  const fields = record?.fields ?? []
  if (!fields.every(isValidUtf8)) throw new Error('header is not valid UTF-8')
  return fields.map((name) => trim(decode(name)))
}

function isRealDate(text: string): boolean {
  if (!/^\d\d\d\d-\d\d-\d\d$/.test(text)) return false
  const [y, m, d] = text.split('-').map(Number) as [number, number, number]
  const date = new Date(0)
  date.setUTCFullYear(y, m - 1, d)
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d
}

function priceOf(text: string): number | undefined {
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined
  return Number(text)
}

/**
 * Runs the contract on whole files, given as text or bytes.
 *
 * @throws Error where the contract refuses the file (a header or used lookup field that is not UTF-8)
 */
export function modelIngest(
  listingsCsv: string | Uint8Array,
  lookupCsv: string | Uint8Array,
  nullMarkers: readonly string[] = [],
): ModelResult {
  const missing = (value: string | undefined) =>
    value === undefined || value === '' || nullMarkers.includes(value)

  const [lookupHeader, ...lookupRows] = parseRecords(binary(lookupCsv))
  const lookupNames = headerNames(lookupHeader)
  const segments = new Map<string, string | null>()
  for (const { fields } of lookupRows) {
    const lookupValue = (column: string) => {
      const bytes = fields[lookupNames.indexOf(column)]
      if (bytes === undefined) return undefined
      if (!isValidUtf8(bytes)) throw new Error(`lookup ${column} is not valid UTF-8`)
      return trim(decode(bytes))
    }
    const category = lookupValue('category')
    if (missing(category)) continue
    const segment = lookupValue('segment')
    segments.set(category as string, missing(segment) ? null : (segment as string))
  }

  const [header, ...rows] = parseRecords(binary(listingsCsv))
  const names = headerNames(header)
  const result: ModelResult = {
    source_rows: rows.length,
    valid_rows_after_clean: 0,
    rows_after_dedup: 0,
    dropped_missing_required: 0,
    dropped_non_positive_price: 0,
    rows: [],
    rejects: [],
  }
  const valid: { key: string; row: ModelRow }[] = []
  for (const { fields, raw, line } of rows) {
    const bytesOf = (column: string) => fields[names.indexOf(column)]
    const value = (column: string) => {
      const bytes = bytesOf(column)
      return bytes === undefined ? undefined : trim(decode(bytes))
    }
    const reject = (reason: string, bucket: 'dropped_missing_required' | 'dropped_non_positive_price') => {
      result[bucket]++
      const mapped = fields.length <= names.length
      result.rejects.push({
        line,
        reason,
        raw,
        fields: mapped ? names.map((_, i) => fields[i] ?? '') : undefined,
      })
    }
    if (fields.length > names.length) {
      reject('too_many_fields', 'dropped_missing_required')
    } else if (REQUIRED.some((column) => missing(value(column)))) {
      reject('missing_field', 'dropped_missing_required')
    } else if (REQUIRED.some((column) => !isValidUtf8(bytesOf(column) as string))) {
      reject('invalid_encoding', 'dropped_missing_required')
    } else if (!isRealDate(value('date') as string)) {
      reject('invalid_date', 'dropped_missing_required')
    } else {
      const price = priceOf(value('price_gbp') as string)
      if (price === undefined) reject('non_numeric_price', 'dropped_non_positive_price')
      else if (!Number.isFinite(price)) reject('non_finite_price', 'dropped_non_positive_price')
      else if (price <= 0) reject('non_positive_price', 'dropped_non_positive_price')
      else {
        const category = value('category') as string
        valid.push({
          key: JSON.stringify([value('date'), value('item_id')]),
          row: {
            date: value('date') as string,
            seller_id: value('seller_id') as string,
            region: value('region') as string,
            category,
            item_id: value('item_id') as string,
            price_gbp: price,
            segment: segments.get(category) ?? null,
          },
        })
      }
    }
  }
  result.valid_rows_after_clean = valid.length
  result.rows = valid
    .filter(({ key }, i) => !valid.slice(i + 1).some((later) => later.key === key))
    .map((v) => v.row)
  result.rows_after_dedup = result.rows.length
  return result
}

/** The contract's five mandated counts of a model result, to compare with a report. */
export function contractCounts(result: ModelResult) {
  return {
    source_rows: result.source_rows,
    valid_rows_after_clean: result.valid_rows_after_clean,
    rows_after_dedup: result.rows_after_dedup,
    dropped_missing_required: result.dropped_missing_required,
    dropped_non_positive_price: result.dropped_non_positive_price,
  }
}

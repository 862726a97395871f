import type { ReadRow } from './parquet-readers.js'

/**
 * A deliberately naive, in-memory model of the ingest contract, written
 * without csv-parse or any production module, for property tests to compare
 * against. It favours being obviously right over being fast.
 */

/** An output row, as the Parquet readers in the tests return it. */
export type ModelRow = ReadRow

export interface ModelResult {
  source_rows: number
  valid_rows_after_clean: number
  rows_after_dedup: number
  dropped_missing_required: number
  dropped_non_positive_price: number
  rows: ModelRow[]
  rejects: { line: number; reason: string }[]
}

const REQUIRED = ['date', 'seller_id', 'region', 'category', 'item_id', 'price_gbp']

/** Splits RFC 4180 text into records, each with the line it starts on; skips blank lines. */
export function modelParseCsv(text: string): { fields: string[]; line: number }[] {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text
  const records: { fields: string[]; line: number }[] = []
  let line = 1
  let at = 0
  while (at < body.length) {
    const startLine = line
    const lineEnd = body.indexOf('\n', at)
    const rawLine = body.slice(at, lineEnd === -1 ? body.length : lineEnd).replace(/\r$/, '')
    if (rawLine.trim() === '') {
      at = lineEnd === -1 ? body.length : lineEnd + 1
      line++
      continue
    }
    const fields: string[] = []
    let field = ''
    let quoted = false
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
    records.push({ fields, line: startLine })
  }
  return records
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

/** Runs the contract on whole-file strings. */
export function modelIngest(
  listingsCsv: string,
  lookupCsv: string,
  nullMarkers: readonly string[] = [],
): ModelResult {
  const missing = (value: string | undefined) =>
    value === undefined || value === '' || nullMarkers.includes(value)

  const [lookupHeader, ...lookupRows] = modelParseCsv(lookupCsv)
  const lookupNames = (lookupHeader?.fields ?? []).map((name) => name.trim())
  const segments = new Map<string, string | null>()
  for (const { fields } of lookupRows) {
    const category = fields[lookupNames.indexOf('category')]?.trim()
    const segment = fields[lookupNames.indexOf('segment')]?.trim()
    if (missing(category)) continue
    segments.set(category as string, missing(segment) ? null : (segment as string))
  }

  const [header, ...rows] = modelParseCsv(listingsCsv)
  const names = (header?.fields ?? []).map((name) => name.trim())
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
  for (const { fields, line } of rows) {
    const value = (column: string) => fields[names.indexOf(column)]?.trim()
    const reject = (reason: string, bucket: 'dropped_missing_required' | 'dropped_non_positive_price') => {
      result[bucket]++
      result.rejects.push({ line, reason })
    }
    if (fields.length > names.length) {
      reject('too_many_fields', 'dropped_missing_required')
    } else if (REQUIRED.some((column) => missing(value(column)))) {
      reject('missing_field', 'dropped_missing_required')
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

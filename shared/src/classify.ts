import type { ListingColumn, RejectReason } from './contract.js'
import type { FieldSource } from './csv-records.js'
import { parseIsoDate } from './date.js'
import type { ColumnLayout } from './header.js'
import { parsePrice } from './price.js'

/** A row that passed cleaning: values trimmed, date and price parsed. */
export interface CleanListing {
  /** Days since 1970-01-01. */
  date: number
  seller_id: string
  region: string
  category: string
  item_id: string
  price_gbp: number
}

/** Why a row was rejected. */
export interface Rejection {
  reason: RejectReason
  /** The column at fault, or a short description for whole-row problems. */
  detail: string
}

/** The outcome of {@link classifyListing}. */
export type Classification = { ok: true; listing: CleanListing } | ({ ok: false } & Rejection)

/**
 * Decides which bucket a listings row falls in, running the contract's checks
 * in order: shape and required fields, then the date, then the price.
 *
 * @param fields - the row's fields, untrimmed
 * @param layout - the listings header's column layout
 * @param isNull - whether a trimmed value counts as missing (empty, or a configured null marker)
 */
export function classifyListing(
  fields: FieldSource,
  layout: ColumnLayout<ListingColumn>,
  isNull: (trimmed: string) => boolean,
): Classification {
  if (fields.fieldCount > layout.names.length) {
    return {
      ok: false,
      reason: 'too_many_fields',
      detail: `${fields.fieldCount} fields, header has ${layout.names.length}`,
    }
  }
  // One check per column, in contract order, without building intermediate arrays: this runs for every row.
  const { index } = layout
  const dateText = fields.field(index.date)?.trim()
  if (dateText === undefined || isNull(dateText)) return missing('date')
  const seller_id = fields.field(index.seller_id)?.trim()
  if (seller_id === undefined || isNull(seller_id)) return missing('seller_id')
  const region = fields.field(index.region)?.trim()
  if (region === undefined || isNull(region)) return missing('region')
  const category = fields.field(index.category)?.trim()
  if (category === undefined || isNull(category)) return missing('category')
  const item_id = fields.field(index.item_id)?.trim()
  if (item_id === undefined || isNull(item_id)) return missing('item_id')
  const priceText = fields.field(index.price_gbp)?.trim()
  if (priceText === undefined || isNull(priceText)) return missing('price_gbp')
  const date = parseIsoDate(dateText)
  if (date === undefined) return { ok: false, reason: 'invalid_date', detail: 'date' }
  const price = parsePrice(priceText)
  if (!price.ok) return { ok: false, reason: price.problem, detail: 'price_gbp' }
  return { ok: true, listing: { date, seller_id, region, category, item_id, price_gbp: price.value } }
}

function missing(column: ListingColumn): Classification {
  return { ok: false, reason: 'missing_field', detail: column }
}

/**
 * Builds the missing-value test: the empty string, plus any extra markers the
 * user configured (compared after trimming, case-sensitively).
 *
 * @param nullMarkers - extra values to treat as missing, e.g. `['NA', 'null']`
 */
export function missingValueTest(nullMarkers: readonly string[] = []): (trimmed: string) => boolean {
  const markers = new Set(nullMarkers.map((marker) => marker.trim()).filter((marker) => marker !== ''))
  if (markers.size === 0) return (trimmed) => trimmed === ''
  return (trimmed) => trimmed === '' || markers.has(trimmed)
}

import type { ListingColumn, RejectReason } from './contract.js'
import { LISTING_COLUMNS } from './contract.js'
import type { FieldSource } from './csv-record.js'
import { parseIsoDate } from './date.js'
import type { ColumnLayout } from './header.js'
import { parsePrice } from './price.js'
import { trimWhiteSpace } from './whitespace.js'

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
 * in order (see `REJECT_REASONS`): the row's shape, required fields present,
 * required fields valid UTF-8, then the date, then the price. Values are
 * trimmed of `White_Space` (see whitespace.ts) before any check.
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
  return check(fields, layout, isNull, true)
}

/** The outcome of {@link classifyKey}: the dedup key of a valid row, or why it is rejected. */
export type KeyClassification = { ok: true; date: number; itemId: string } | ({ ok: false } & Rejection)

/**
 * The same decision as {@link classifyListing}, returning only the dedup key
 * of a valid row. Seller, region and category are only checked for being
 * missing, which for plain empty-value tests needs no decoding; this is the
 * first pass's per-row work.
 */
export function classifyKey(
  fields: FieldSource,
  layout: ColumnLayout<ListingColumn>,
  isNull: (trimmed: string) => boolean,
): KeyClassification {
  const outcome = check(fields, layout, isNull, false)
  return outcome.ok ? { ok: true, date: outcome.listing.date, itemId: outcome.listing.item_id } : outcome
}

/**
 * The same decision as {@link classifyListing}, without decoding seller,
 * region, category or item id: the listing carries them empty, for a caller
 * that takes their bytes straight from the record (the single-pass buffer).
 */
export function classifyWithoutLabels(
  fields: FieldSource,
  layout: ColumnLayout<ListingColumn>,
  isNull: (trimmed: string) => boolean,
): Classification {
  return check(fields, layout, isNull, false, false)
}

/**
 * The contract's checks, once for every caller. With `full` false the
 * returned listing's seller, region and category are left empty, and with
 * `decodeItem` false its item id too (checked for being missing only).
 */
function check(
  fields: FieldSource,
  layout: ColumnLayout<ListingColumn>,
  isNull: (trimmed: string) => boolean,
  full: boolean,
  decodeItem = true,
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
  const dateText = trimmed(fields, index.date)
  if (dateText === undefined || isNull(dateText)) return missing('date')
  let seller_id = ''
  let region = ''
  let category = ''
  if (full) {
    seller_id = trimmed(fields, index.seller_id) ?? ''
    if (isNull(seller_id)) return missing('seller_id')
    region = trimmed(fields, index.region) ?? ''
    if (isNull(region)) return missing('region')
    category = trimmed(fields, index.category) ?? ''
    if (isNull(category)) return missing('category')
  } else {
    if (isMissing(fields, index.seller_id, isNull)) return missing('seller_id')
    if (isMissing(fields, index.region, isNull)) return missing('region')
    if (isMissing(fields, index.category, isNull)) return missing('category')
  }
  let item_id = ''
  if (decodeItem) {
    const text = trimmed(fields, index.item_id)
    if (text === undefined || isNull(text)) return missing('item_id')
    item_id = text
  } else if (isMissing(fields, index.item_id, isNull)) return missing('item_id')
  const priceText = trimmed(fields, index.price_gbp)
  if (priceText === undefined || isNull(priceText)) return missing('price_gbp')
  // Undecodable bytes decode to U+FFFD, which would make `I\xff` and `I\xfe` one identifier.
  if (fields.allValidUtf8 === false && holdsBytes(fields)) {
    const column = firstInvalidUtf8(fields, index)
    if (column !== undefined) return { ok: false, reason: 'invalid_encoding', detail: column }
  }
  const date = parseIsoDate(dateText)
  if (date === undefined) return { ok: false, reason: 'invalid_date', detail: 'date' }
  const price = parsePrice(priceText)
  if (!price.ok) return { ok: false, reason: price.problem, detail: 'price_gbp' }
  return { ok: true, listing: { date, seller_id, region, category, item_id, price_gbp: price.value } }
}

/** Field `column`, trimmed, or `undefined` when the row has no such field. */
function trimmed(fields: FieldSource, column: number): string | undefined {
  const value = fields.field(column)
  return value === undefined ? undefined : trimWhiteSpace(value)
}

/** A field source over bytes, which can say whether a field is valid UTF-8. */
type ByteFieldSource = FieldSource & Required<Pick<FieldSource, 'fieldIsValidUtf8'>>

function holdsBytes(fields: FieldSource): fields is ByteFieldSource {
  return fields.fieldIsValidUtf8 !== undefined
}

/** The first required column, in contract order, whose bytes are not valid UTF-8. */
function firstInvalidUtf8(
  fields: ByteFieldSource,
  index: Record<ListingColumn, number>,
): ListingColumn | undefined {
  for (const column of LISTING_COLUMNS) {
    if (!fields.fieldIsValidUtf8(index[column])) return column
  }
  return undefined
}

/** Whether a field is missing; for the plain empty test, without decoding when the source can tell. */
function isMissing(fields: FieldSource, index: number, isNull: (trimmed: string) => boolean): boolean {
  if (isNull === isEmpty && fields.fieldIsBlank) return fields.fieldIsBlank(index)
  const value = trimmed(fields, index)
  return value === undefined || isNull(value)
}

/** The default missing-value test: only the empty string. */
const isEmpty = (trimmed: string): boolean => trimmed === ''

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
  const markers = new Set(nullMarkers.map(trimWhiteSpace).filter((marker) => marker !== ''))
  if (markers.size === 0) return isEmpty
  return (trimmed) => trimmed === '' || markers.has(trimmed)
}

/**
 * How a setting's text becomes a value, decided once for every entry point:
 * the CLI's flags (`local/src/args.ts`), the Lambda's and the Fargate task's
 * environment (`lambdas/ingest/src/config.ts`) and the CDK context
 * (`infra/src/config.ts`). Each entry point wraps these parsers in its own
 * error class and wording; what they accept is the same everywhere:
 *
 * - Surrounding whitespace is ignored: the contract's `White_Space`
 *   (`whitespace.ts`), so `" 10 "`, or a value pasted with a no-break space,
 *   reads as it looks.
 * - Numbers are plain decimal digits. A whole number is digits only; a
 *   decimal may have one point with digits on at least one side (`0.5`,
 *   `.5`, `1.`). No sign, exponent (`1e3`), hex (`0x10`), separator (`1_000`)
 *   or `Infinity`, all of which `Number()` would take, and never blank text,
 *   which `Number()` reads as 0.
 * - Whole numbers are safe integers (`Number.isSafeInteger`): digits beyond
 *   2^53 would be rounded, so they are refused rather than changed.
 *
 * Text that is empty once trimmed is no value ({@link isBlank}). What that
 * means is the entry point's call: an unset variable or context key in the
 * Lambda and the CDK, a usage error for a flag given on the command line.
 */
import { trimWhiteSpace } from './whitespace.js'

/** The inclusive bounds a number must lie within. */
export interface NumberRange {
  readonly min: number
  readonly max: number
}

/** The range of a share: 0 (none) to 1 (all). */
const RATIO_RANGE: NumberRange = { min: 0, max: 1 }

const WHOLE_NUMBER = /^\d+$/
const DECIMAL_NUMBER = /^(?:\d+\.?\d*|\.\d+)$/

/** Whether `text` is empty or only `White_Space`: no value at all. */
export function isBlank(text: string): boolean {
  return trimWhiteSpace(text) === ''
}

/**
 * Reads a whole number written in decimal digits.
 *
 * @returns the number, or `undefined` when the trimmed text is not digits
 *   only, or its value is not a safe integer within `range`
 */
export function parseWholeNumber(text: string, range: NumberRange): number | undefined {
  const digits = trimWhiteSpace(text)
  if (!WHOLE_NUMBER.test(digits)) return undefined
  const value = Number(digits)
  return Number.isSafeInteger(value) && isWithin(value, range) ? value : undefined
}

/**
 * Reads a decimal number such as `0.25`, `.5` or `12`.
 *
 * @returns the number, or `undefined` when the trimmed text is not a plain
 *   decimal or its value (as the nearest double) lies outside `range`
 */
export function parseDecimal(text: string, range: NumberRange): number | undefined {
  const decimal = trimWhiteSpace(text)
  if (!DECIMAL_NUMBER.test(decimal)) return undefined
  const value = Number(decimal)
  return isWithin(value, range) ? value : undefined
}

/** Reads a share from 0 to 1 ({@link parseDecimal} over {@link RATIO_RANGE}). */
export function parseRatio(text: string): number | undefined {
  return parseDecimal(text, RATIO_RANGE)
}

/**
 * What {@link parseWholeNumber} accepts in `range`, for messages:
 * `a whole number from 1 to 1048576`, or with a unit
 * `a whole number of MiB from 0 to 1048576`.
 */
export function describeWholeNumber(range: NumberRange, unit?: string): string {
  return `a whole number${unit === undefined ? '' : ` of ${unit}`} from ${range.min} to ${range.max}`
}

/** What {@link parseDecimal} accepts in `range`, for messages: `a number from 0 to 100`. */
export function describeDecimal(range: NumberRange): string {
  return `a number from ${range.min} to ${range.max}`
}

/**
 * A number written as {@link parseDecimal} reads it back, digit for digit:
 * JavaScript's shortest form with any exponent spelled out (`5e-7` is
 * `0.0000005`, `1e21` is `1000000000000000000000`). For handing a parsed
 * value on as text, such as a CDK context ratio to the Lambda's environment,
 * where `String(value)` would write an exponent the parser refuses.
 *
 * @throws {RangeError} for NaN or an infinity, which no setting holds
 */
export function plainDecimal(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`no decimal form for ${value}`)
  const [mantissa = '', exponentText] = String(Math.abs(value)).split('e')
  const sign = value < 0 ? '-' : ''
  if (exponentText === undefined) return `${sign}${mantissa}`
  const exponent = Number(exponentText)
  const [whole = '', fraction = ''] = mantissa.split('.')
  const digits = whole + fraction
  // Where the decimal point goes, counted from the left of `digits`.
  const point = whole.length + exponent
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`
}

/** What {@link parseRatio} accepts, for messages: `a number from 0 to 1`. */
export const RATIO_DESCRIPTION = describeDecimal(RATIO_RANGE)

/**
 * Reads extra missing-value markers from comma-separated lists (a repeated
 * flag gives several): each marker trimmed by `White_Space`, empty ones
 * dropped, order and repeats kept. A marker cannot contain a comma.
 *
 * U+FEFF is not whitespace, so a marker may hold it (`String#trim` would
 * drop it).
 */
export function parseNullMarkers(lists: readonly string[]): string[] {
  return lists
    .flatMap((list) => list.split(','))
    .map((marker) => trimWhiteSpace(marker))
    .filter((marker) => marker !== '')
}

function isWithin(value: number, range: NumberRange): boolean {
  return value >= range.min && value <= range.max
}

/** A plain decimal: optional sign, digits, optional fraction, optional exponent. */
const PLAIN_DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/

/** Why a price was refused; each is a `dropped_non_positive_price` reason. */
export type PriceProblem = 'non_numeric_price' | 'non_finite_price' | 'non_positive_price'

/** The outcome of {@link parsePrice}: a usable price or the reason it is not one. */
export type PriceResult = { ok: true; value: number } | { ok: false; problem: PriceProblem }

/**
 * Parses a price as the contract defines it.
 *
 * `Number()` alone would accept `0x10`, `Infinity`, `1_000` and blank text, so the
 * text must first match a plain decimal. A value that overflows to infinity is
 * refused, and one that underflows to zero (`1e-400`) is not positive.
 *
 * @param text - the trimmed, non-empty field value
 */
export function parsePrice(text: string): PriceResult {
  if (!PLAIN_DECIMAL.test(text)) return { ok: false, problem: 'non_numeric_price' }
  const value = Number(text)
  if (!Number.isFinite(value)) return { ok: false, problem: 'non_finite_price' }
  if (value <= 0) return { ok: false, problem: 'non_positive_price' }
  return { ok: true, value }
}

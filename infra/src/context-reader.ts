/**
 * Typed reads of CDK context values, one parser per kind of value
 * (shared/src/setting-values.ts, as the CLI's flags and the Lambda's
 * environment use), each refusing a malformed value with one line naming the
 * key: `context <key> must be …, got "…"`.
 */
import type { Node } from 'constructs'
import {
  describeDecimal,
  describeWholeNumber,
  isBlank,
  type NumberRange,
  parseDecimal,
  parseRatio,
  parseWholeNumber,
  RATIO_DESCRIPTION,
} from '../../shared/src/setting-values.js'

/** Typed reads of context keys, each throwing `context <key> must be …` for a malformed value. */
export type ContextReader = ReturnType<typeof contextReader>

/**
 * Reads context as text: `-c` gives strings, cdk.json may give JSON numbers,
 * which are read as JavaScript writes them (`String(value)`). `text` is
 * `undefined` when a key is unset, null or ''; a number also when it is only White_Space.
 */
export function contextReader(node: Node) {
  const text = (key: string): string | undefined => {
    const value: unknown = node.tryGetContext(key)
    return value === undefined || value === null || value === '' ? undefined : String(value)
  }
  const numeric = (key: string, parse: (raw: string) => number | undefined, description: string) => {
    const raw = text(key)
    if (raw === undefined || isBlank(raw)) return undefined
    const value = parse(raw)
    if (value === undefined)
      throw new Error(`context ${key} must be ${description}, got ${JSON.stringify(raw)}`)
    return value
  }
  return {
    text,
    whole: (key: string, range: NumberRange) =>
      numeric(key, (raw) => parseWholeNumber(raw, range), describeWholeNumber(range)),
    decimal: (key: string, range: NumberRange) =>
      numeric(key, (raw) => parseDecimal(raw, range), describeDecimal(range)),
    ratio: (key: string) => numeric(key, parseRatio, RATIO_DESCRIPTION),
  }
}

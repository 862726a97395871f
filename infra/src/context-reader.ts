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
  plainDecimal,
  RATIO_DESCRIPTION,
} from '../../shared/src/setting-values.js'

/** Typed reads of context keys, each throwing `context <key> must be …` for a malformed value. */
export type ContextReader = ReturnType<typeof contextReader>

/**
 * Reads context as text: `-c` gives strings, cdk.json may give JSON numbers,
 * which are written out in plain decimals ({@link plainDecimal}: `5e-7` in
 * cdk.json is `0.0000005`, which the number parsers accept). `text` is
 * `undefined` when a key is unset, null, or empty or only White_Space; other
 * text is taken as written (an S3 URI or a name is never trimmed).
 */
export function contextReader(node: Node) {
  const text = (key: string): string | undefined => {
    const value: unknown = node.tryGetContext(key)
    if (value === undefined || value === null) return undefined
    const written = typeof value === 'number' ? plainDecimal(value) : String(value)
    return isBlank(written) ? undefined : written
  }
  const numeric = (key: string, parse: (raw: string) => number | undefined, description: string) => {
    const raw = text(key)
    if (raw === undefined) return undefined
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

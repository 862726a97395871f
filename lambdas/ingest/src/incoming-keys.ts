/**
 * The one rule for which raw-bucket keys the pipeline processes, in two
 * forms that accept exactly the same keys: {@link isIncomingCsv} for the
 * handler, the local runner and the backfill, and
 * {@link incomingKeyEventPattern} for the EventBridge rule that starts an
 * execution on upload.
 *
 * A key is accepted when it starts with the incoming prefix and ends, after
 * it, in `.csv` in any letter case (`.csv`, `.CSV`, `.Csv`, ...). The suffix
 * may not overlap the prefix: a key must be at least the prefix plus four
 * characters.
 */

/** The eight letter-case spellings of the accepted extension, `.csv` first. */
export const CSV_EXTENSIONS: readonly string[] = spellings('csv').map((letters) => `.${letters}`)

/**
 * Whether the pipeline processes this key.
 *
 * @param key - the object key, as S3 stores it (not URL-encoded)
 * @param incomingPrefix - the raw bucket's incoming prefix, e.g. `incoming/`
 */
export function isIncomingCsv(key: string, incomingPrefix: string): boolean {
  return (
    key.length >= incomingPrefix.length + 4 &&
    key.startsWith(incomingPrefix) &&
    CSV_EXTENSIONS.includes(key.slice(-4))
  )
}

/** One EventBridge wildcard filter. */
export interface WildcardFilter {
  wildcard: string
}

/**
 * The EventBridge content filter for `detail.object.key` that accepts the
 * same keys as {@link isIncomingCsv}.
 *
 * EventBridge's wildcard match is case-sensitive and one field cannot carry
 * two conditions joined by AND (prefix and case-insensitive suffix), so the
 * filter is an OR list of eight wildcards, one per spelling of `.csv`:
 * `<prefix>*.csv`, `<prefix>*.csV`, ... A `*` in each filter matches zero or
 * more characters, so `<prefix>.csv` itself is accepted, as by
 * {@link isIncomingCsv}. A `*` or `\` in the prefix is escaped (`\*`, `\\`),
 * as EventBridge's wildcard syntax requires.
 *
 * @param incomingPrefix - the raw bucket's incoming prefix
 * @returns the value for `detail: { object: { key: ... } }` in the rule's pattern
 */
export function incomingKeyEventPattern(incomingPrefix: string): WildcardFilter[] {
  const literalPrefix = escapeWildcard(incomingPrefix)
  return CSV_EXTENSIONS.map((extension) => ({ wildcard: `${literalPrefix}*${extension}` }))
}

/** Escapes text so that an EventBridge wildcard filter matches it literally. */
export function escapeWildcard(text: string): string {
  return text.replaceAll('\\', '\\\\').replaceAll('*', '\\*')
}

/** Every upper/lower-case spelling of ASCII letters, all lower-case first. */
function spellings(letters: string): string[] {
  if (letters === '') return ['']
  const rest = spellings(letters.slice(1))
  const first = letters[0] as string
  return [
    ...rest.map((tail) => first.toLowerCase() + tail),
    ...rest.map((tail) => first.toUpperCase() + tail),
  ]
}

/**
 * The one rule for which raw-bucket keys the pipeline processes, in two
 * forms that accept exactly the same keys: {@link isIncomingCsv} for the
 * handler, the local runner and the backfill, and
 * {@link incomingKeyEventPattern} for the EventBridge rule that starts an
 * execution on upload.
 *
 * A key is accepted when it starts with the incoming prefix and ends, after
 * it, in `.csv` or `.csv.gz`, each in any letter case (`.csv`, `.CSV`,
 * `.Csv.GZ`, ...). The suffix may not overlap the prefix: a key must be at
 * least the prefix plus the extension.
 *
 * The name only selects keys. Whether the bytes are gzip is decided by the
 * bytes themselves (`decodedSource` in shared/src/input-format.ts), so a
 * gzipped file named `.csv`, or a plain one named `.csv.gz`, is read right.
 */

/** The eight letter-case spellings of `.csv`, `.csv` first. */
export const CSV_EXTENSIONS: readonly string[] = spellings('csv').map((letters) => `.${letters}`)

/** The 32 letter-case spellings of `.csv.gz`, `.csv.gz` first. */
export const GZIP_CSV_EXTENSIONS: readonly string[] = spellings('csvgz').map(
  (letters) => `.${letters.slice(0, 3)}.${letters.slice(3)}`,
)

/** Every accepted extension: the spellings of `.csv`, then those of `.csv.gz`. */
export const INCOMING_EXTENSIONS: readonly string[] = [...CSV_EXTENSIONS, ...GZIP_CSV_EXTENSIONS]

/**
 * Whether the pipeline processes this key.
 *
 * @param key - the object key, as S3 stores it (not URL-encoded)
 * @param incomingPrefix - the raw bucket's incoming prefix, e.g. `incoming/`
 */
export function isIncomingCsv(key: string, incomingPrefix: string): boolean {
  return (
    key.startsWith(incomingPrefix) &&
    INCOMING_EXTENSIONS.some(
      (extension) => key.length >= incomingPrefix.length + extension.length && key.endsWith(extension),
    )
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
 * filter is an OR list of 40 wildcards, one per spelling of `.csv` and of
 * `.csv.gz`: `<prefix>*.csv`, `<prefix>*.csV`, ..., `<prefix>*.CSV.GZ`. Its
 * JSON stays well inside EventBridge's default 2,048-character event-pattern
 * quota for a prefix of up to about 20 characters (the infra test checks the
 * synthesized rule). A `*` in each filter matches zero or
 * more characters, so `<prefix>.csv` itself is accepted, as by
 * {@link isIncomingCsv}. A `*` or `\` in the prefix is escaped (`\*`, `\\`),
 * as EventBridge's wildcard syntax requires.
 *
 * @param incomingPrefix - the raw bucket's incoming prefix
 * @returns the value for `detail: { object: { key: ... } }` in the rule's pattern
 */
export function incomingKeyEventPattern(incomingPrefix: string): WildcardFilter[] {
  const literalPrefix = escapeWildcard(incomingPrefix)
  return INCOMING_EXTENSIONS.map((extension) => ({ wildcard: `${literalPrefix}*${extension}` }))
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

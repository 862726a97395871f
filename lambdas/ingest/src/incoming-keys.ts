/**
 * The one rule for which raw-bucket keys the pipeline processes:
 * {@link isIncomingCsv} for the handler, the local runner and the backfill,
 * and {@link incomingKeyEventPattern} for the EventBridge rule that starts an
 * execution on upload. The rule starts an execution for every key the
 * handler accepts, and beyond them only for `.csv.gz` keys outside the
 * prefix, which the handler skips (why: see {@link incomingKeyEventPattern}).
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

/** The raw-bucket prefix uploads go under when none is configured (context `incomingPrefix`, `INCOMING_PREFIX`). */
export const DEFAULT_INCOMING_PREFIX = 'incoming/'

/** Where the stack expects the category lookup in the raw bucket when context `lookupUri` names none. */
export const DEFAULT_LOOKUP_KEY = 'reference/category_lookup.csv'

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

/** One EventBridge case-insensitive suffix filter. */
export interface SuffixIgnoringCaseFilter {
  suffix: { 'equals-ignore-case': string }
}

/** One alternative of the rule's filter on `detail.object.key`. */
export type KeyFilter = WildcardFilter | SuffixIgnoringCaseFilter

/**
 * The EventBridge content filter for `detail.object.key`: it starts an
 * execution for every key {@link isIncomingCsv} accepts, and beyond those
 * only for keys ending in `.csv.gz` (any case) outside the incoming prefix,
 * which the handler then answers as skipped, naming why. In one formula:
 * the rule accepts a key exactly when `isIncomingCsv(key, prefix) ||
 * isGzipCsvName(key)`.
 *
 * Why not exactly the handler's rule: EventBridge's wildcard match is
 * case-sensitive and one field cannot carry two conditions joined by AND
 * (prefix and case-insensitive suffix), so an exact filter needs one wildcard
 * per spelling, 8 for `.csv` and 32 for `.csv.gz`. EventBridge refuses a rule
 * whose wildcards are "too complex", and by its matcher's measure
 * (`MachineComplexityEvaluator` in aws/event-ruler: how many wildcard
 * patterns one input can keep alive at once) wildcards that share the prefix
 * are all alive together: 8 for the `.csv` filters, which the rule has always
 * had, and 40 with the `.csv.gz` ones, far beyond the per-rule limit that
 * matcher's documentation suggests (10, with 30 wildcard rules per bus, the
 * quota EventBridge publishes). So:
 *
 * - `.csv` in its eight spellings: one wildcard each, `<prefix>*.csv`,
 *   `<prefix>*.csV`, ..., anchored at the prefix as before. A `*` matches
 *   zero or more characters, so `<prefix>.csv` itself is accepted, as by
 *   {@link isIncomingCsv}; a `*` or `\` in the prefix is escaped (`\*`, `\\`).
 * - `.csv.gz` in any case: one suffix filter with `equals-ignore-case`, which
 *   is not a wildcard and adds nothing to the complexity, but cannot be
 *   anchored at the prefix.
 *
 * @param incomingPrefix - the raw bucket's incoming prefix
 * @returns the value for `detail: { object: { key: ... } }` in the rule's pattern
 */
export function incomingKeyEventPattern(incomingPrefix: string): KeyFilter[] {
  const literalPrefix = escapeWildcard(incomingPrefix)
  return [
    ...CSV_EXTENSIONS.map((extension) => ({ wildcard: `${literalPrefix}*${extension}` })),
    { suffix: { 'equals-ignore-case': GZIP_CSV_EXTENSIONS[0] as string } },
  ]
}

/** Whether a key ends in `.csv.gz` in any (ASCII) letter case, wherever it is. */
export function isGzipCsvName(key: string): boolean {
  return GZIP_CSV_EXTENSIONS.some((extension) => key.endsWith(extension))
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

import { CURRENT_TABLE_NAME } from '../../../shared/src/current-table-sql.js'
import { isIncomingCsv } from './incoming-keys.js'
import { MAX_S3_KEY_BYTES } from './s3-uri.js'

/** Where one source object's outputs go in the processed bucket. */
export interface OutputKeys {
  parquet: string
  rejected: string
  report: string
  /** Records which source version the outputs above belong to. */
  manifest: string
}

/**
 * Every prefix of the processed bucket, and what each holds: the home of
 * these keys for the Lambda (which writes the first four), the stack's grants,
 * lifecycle rules and Glue tables (infra/src), and the tests.
 */
export const PROCESSED_PREFIXES = {
  /** The per-file Parquet, `listings/dt=<upload day>/<file>.parquet`. */
  listings: 'listings/',
  /** The rejected rows of each file, as CSV. */
  rejected: 'rejected/',
  /** The data-quality report of each file, JSON and its HTML page. */
  reports: 'reports/',
  /** One manifest per source key: which version's outputs are live. */
  manifests: '_manifests/',
  /** Athena query results: the analysts' workgroup and the current table's statements. */
  athenaResults: 'athena-results/',
  /** The Iceberg table listings_current (data and metadata), written by Athena. */
  currentTable: `current/${CURRENT_TABLE_NAME}/`,
} as const

/**
 * Derives deterministic output keys from the source key and the date the
 * source object was last modified, so the same object version always maps to
 * the same keys (a retried or duplicated event overwrites, never adds).
 *
 * The mapping is one-to-one: two different source keys never share an output
 * key, so one file's run can never replace another file's outputs. Each
 * output is one flat file name in its `dt=` partition (a Hive partition that
 * Athena projects), built from the key's part after the prefix:
 *
 * 1. `%` is written `%25` and `/` is written `%2F`, so sub-folders flatten
 *    without meeting a name that already holds `__` or `%2F`.
 * 2. A name ending in lower-case `.csv` loses that extension (`sample.csv` →
 *    `sample`). Any other name keeps its whole extension, with the last dot
 *    written `%2E`: another spelling (`x.CSV` → `x%2ECSV`), a gzipped file
 *    in any spelling (`x.csv.gz` → `x.csv%2Egz`, so it never meets `x.csv`'s
 *    `x`), and a name whose rest would be empty or start with a dot (`.csv`
 *    → `%2Ecsv`).
 * 3. A leading `.` or `_` is written `%2E` or `%5F`: Athena skips files whose
 *    names start with either.
 *
 * Why it is one-to-one: undoing the percent escapes gives back the name
 * (rule 2's second case) or the name without `.csv` (its first case), and
 * only the second case contains the escape `%2E`, since rule 1 and a leading
 * `_` produce only `%25`, `%2F` and `%5F` (a first-case name never starts
 * with a dot), and that case always escapes its last dot.
 *
 * `incoming/2024/shop listings.csv` modified on 2026-11-28 gives
 * `listings/dt=2026-11-28/2024%2Fshop listings.parquet`, with the rejects and
 * the report under `rejected/` and `reports/` in the same layout (the
 * report's HTML page beside it, see {@link reportHtmlKey}), and the manifest
 * at `_manifests/2024%2Fshop listings.json`.
 *
 * @param sourceKey - the object key, one that {@link isIncomingCsv} accepts
 * @param incomingPrefix - the raw bucket's incoming prefix
 * @param lastModified - the source object's Last-Modified time
 * @throws {RangeError} for a key the pipeline does not accept (a programming error)
 */
export function outputKeysFor(sourceKey: string, incomingPrefix: string, lastModified: Date): OutputKeys {
  if (!isIncomingCsv(sourceKey, incomingPrefix)) {
    throw new RangeError(
      `not an incoming .csv or .csv.gz key under ${incomingPrefix}: ${JSON.stringify(sourceKey)}`,
    )
  }
  const name = outputName(sourceKey.slice(incomingPrefix.length))
  const dt = lastModified.toISOString().slice(0, 10)
  return {
    parquet: `${PROCESSED_PREFIXES.listings}dt=${dt}/${name}.parquet`,
    rejected: `${PROCESSED_PREFIXES.rejected}dt=${dt}/${name}.csv`,
    report: `${PROCESSED_PREFIXES.reports}dt=${dt}/${name}.json`,
    manifest: `${PROCESSED_PREFIXES.manifests}${name}.json`,
  }
}

/**
 * The key of a report's HTML page: beside the JSON report, `.html` for
 * `.json`. A report key is unique to its source key (see
 * {@link outputKeysFor}) and only reports end in `.json` under `reports/`, so
 * the page's key is unique too; it is as long as the JSON's, so
 * {@link overlongOutputKey} covers it.
 *
 * @param reportKey - the `report` of {@link outputKeysFor}
 * @throws {RangeError} for a key that is not a JSON report's (a programming error)
 */
export function reportHtmlKey(reportKey: string): string {
  if (!reportKey.startsWith(PROCESSED_PREFIXES.reports) || !reportKey.endsWith('.json')) {
    throw new RangeError(`not a report key: ${JSON.stringify(reportKey)}`)
  }
  return `${reportKey.slice(0, -'.json'.length)}.html`
}

/**
 * The first of the keys that S3 cannot store (over {@link MAX_S3_KEY_BYTES}
 * bytes of UTF-8), or `undefined` when all fit. A source key near the limit
 * can give output keys over it, as escaping and the partition add bytes.
 */
export function overlongOutputKey(keys: OutputKeys): string | undefined {
  return Object.values(keys).find((key) => Buffer.byteLength(key, 'utf8') > MAX_S3_KEY_BYTES)
}

/** The flat output file name of a source name (the key after the prefix); see {@link outputKeysFor}. */
function outputName(sourceName: string): string {
  const stem = sourceName.slice(0, -4)
  if (sourceName.endsWith('.csv') && stem !== '' && !stem.startsWith('.')) return escapeName(stem)
  // Every accepted name has a dot (its extension's), and the extension after the last dot is letters only.
  const lastDot = sourceName.lastIndexOf('.')
  return `${escapeName(sourceName.slice(0, lastDot))}%2E${sourceName.slice(lastDot + 1)}`
}

/** Rules 1 and 3 of {@link outputKeysFor}: `%` and `/` everywhere, a leading `.` or `_`. */
function escapeName(text: string): string {
  const escaped = text.replaceAll('%', '%25').replaceAll('/', '%2F')
  if (escaped.startsWith('.')) return `%2E${escaped.slice(1)}`
  if (escaped.startsWith('_')) return `%5F${escaped.slice(1)}`
  return escaped
}

/** Where one source object's outputs go in the processed bucket. */
export interface OutputKeys {
  parquet: string
  rejected: string
  report: string
  /** Records which source version the outputs above belong to. */
  manifest: string
}

/**
 * Derives deterministic output keys from the source key and the date the
 * source object was last modified, so the same object version always maps to
 * the same keys (a retried or duplicated event overwrites, never adds).
 *
 * `incoming/2024/shop listings.csv` modified on 2026-11-28 gives
 * `listings/dt=2026-11-28/2024__shop listings.parquet`, with the rejects and
 * the report under `rejected/` and `reports/` in the same layout. `dt=` is a
 * Hive partition, so Athena can project it.
 *
 * @param sourceKey - the object key, under `incomingPrefix`
 * @param incomingPrefix - the raw bucket's incoming prefix
 * @param lastModified - the source object's Last-Modified time
 */
export function outputKeysFor(sourceKey: string, incomingPrefix: string, lastModified: Date): OutputKeys {
  const name = sourceKey
    .slice(incomingPrefix.length)
    .replace(/\.csv$/i, '')
    .replaceAll('/', '__')
  const dt = lastModified.toISOString().slice(0, 10)
  return {
    parquet: `listings/dt=${dt}/${name}.parquet`,
    rejected: `rejected/dt=${dt}/${name}.csv`,
    report: `reports/dt=${dt}/${name}.json`,
    manifest: `_manifests/${name}.json`,
  }
}

/** Whether a key is one the pipeline processes: under the prefix, ending in `.csv`. */
export function isIncomingCsv(key: string, incomingPrefix: string): boolean {
  return key.startsWith(incomingPrefix) && key.length > incomingPrefix.length && /\.csv$/i.test(key)
}

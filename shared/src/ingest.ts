/**
 * The transform's driver: loads the lookup, runs the classify pass
 * (classify-pass.ts), writes the kept rows from the buffer or by re-reading
 * the file (write-kept-rows.ts), and builds the report (report.ts).
 */
import { DigestingSink } from './byte-streams.js'
import { missingValueTest } from './classify.js'
import { classifyPass } from './classify-pass.js'
import type { IngestOptions } from './ingest-options.js'
import { loadCategoryLookup } from './lookup.js'
import { buildDqReport, type DqReport } from './report.js'
import { writeByRereading, writeFromBuffer } from './write-kept-rows.js'

/**
 * Runs the ingest contract: classify every listings row, drop duplicates
 * keeping the last, enrich with the lookup's segment, and stream the kept rows
 * to Parquet and the rejected rows to CSV.
 *
 * One pass when the rows fit the memory budget: valid rows are buffered in
 * columns, deduplicated on the way, and the kept rows encoded at the end.
 * Otherwise two passes keep memory bounded by the number of distinct
 * `(date, item_id)` keys rather than by the file: the first classifies rows and
 * finds each key's last row, the second re-reads the file and writes only
 * those rows, in file order. Both give the same outputs, byte for byte.
 *
 * @returns the data-quality report; its `status` says whether the Parquet may be published
 * @throws {InputError} for unusable input: a missing column, malformed CSV, a
 *   conflicting lookup, or a listings file that changed between the passes
 */
export async function ingest(options: IngestOptions): Promise<DqReport> {
  const startedAt = new Date()
  const clock = stopwatch()
  const isNull = missingValueTest(options.nullMarkers)

  const lookup = await loadCategoryLookup(options.lookup, isNull)
  const lookupMs = clock.lap()

  const rejectedSink = new DigestingSink(options.rejected)
  const scan = await classifyPass(options, isNull, rejectedSink)
  const classifyMs = clock.lap()

  const parquetSink = new DigestingSink(options.parquet)
  const written = scan.buffered
    ? await writeFromBuffer(options, scan, scan.buffered, lookup, parquetSink)
    : await writeByRereading(options, isNull, scan, lookup, parquetSink)
  const writeMs = clock.lap()

  return buildDqReport({
    counts: scan.counts,
    parquet: written.parquet,
    parquetDigest: parquetSink.digest(),
    rowsWithoutSegment: written.rowsWithoutSegment,
    rowsWithEmptySegment: written.rowsWithEmptySegment,
    unmatched: written.unmatched,
    rejectedDigest: rejectedSink.digest(),
    thresholds: options.thresholds ?? {},
    nullMarkers: options.nullMarkers ?? [],
    listings: {
      name: options.listings.name,
      digest: scan.digest,
      columns: scan.layout.names,
      ignoredColumns: scan.layout.extra,
    },
    lookup: { name: options.lookup.name, stats: lookup.stats },
    timings: { lookup: lookupMs, classify: classifyMs, write: writeMs, total: clock.total() },
    startedAt,
    finishedAt: new Date(),
  })
}

/** Milliseconds per phase, rounded, and in all. */
function stopwatch() {
  const start = performance.now()
  let last = start
  return {
    lap(): number {
      const now = performance.now()
      const elapsed = Math.round(now - last)
      last = now
      return elapsed
    },
    total: () => Math.round(performance.now() - start),
  }
}

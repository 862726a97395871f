import { mkdirSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { InputError } from '../../shared/src/index.js'
import { CurrentTable } from './current-table.js'
import { OutputLock } from './out-lock.js'
import { isSkipped, type LocalRun, readPublishedRun, type SkippedRun } from './published-run.js'

/**
 * `listings-current`: its arguments, its help, and the I/O around one merge
 * or rebuild of the local current table (current-table.ts) under the output
 * directory's lock: one JSON line on stdout, or one line on stderr.
 */

/** The command's help text. */
export const CURRENT_HELP = `Usage: listings-current [--out DIR] [--rebuild] RUN_DIR...

Merges published output sets (each the --out of one ingest run) into
DIR/current.parquet, one row per (date, item_id) at its newest source, with
the same MERGE statement Athena runs on the Iceberg table listings_current.

Source order: the source file's modification time, then its path. A row
replaces the current one only when its source is later and is not the same
version (same path and SHA-256). A breached run published no Parquet and
contributes nothing; merging a run again changes nothing.

  --out DIR    where current.parquet is kept (default: out)
  --rebuild    recompute the table from the given runs only, in source order
  -h, --help   this text

current.parquet is a directory, Hive-partitioned by listing_month (YYYY-MM):
read it with read_parquet('DIR/current.parquet/**/*.parquet', hive_partitioning = true).
Run it from the directory the ingest runs were started in (the reports name
their sources relative to it). Exit 0 on success, 2 for unusable arguments or
runs (one line on stderr), 1 for anything unexpected.`

/**
 * Runs the command and returns its exit code; every failure is one line on stderr.
 *
 * @param argv - the arguments after the script name
 */
export async function currentMain(argv: readonly string[]): Promise<number> {
  let values: { out: string; rebuild: boolean; help: boolean }
  let dirs: string[]
  try {
    const parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        out: { type: 'string', default: 'out' },
        rebuild: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    })
    values = parsed.values as typeof values
    dirs = parsed.positionals
    if (!values.help && dirs.length === 0) throw new Error('name at least one RUN_DIR')
    if (values.out === '') throw new Error('--out needs a directory')
  } catch (error) {
    process.stderr.write(`listings-current: ${(error as Error).message} (see --help)\n`)
    return 2
  }
  if (values.help) {
    process.stdout.write(`${CURRENT_HELP}\n`)
    return 0
  }
  const ingestedAt = new Date().toISOString()
  let lock: OutputLock | undefined
  let table: CurrentTable | undefined
  try {
    const runs: LocalRun[] = []
    const skipped: SkippedRun[] = []
    for (const dir of dirs) {
      const run = readPublishedRun(dir)
      if (isSkipped(run)) skipped.push(run)
      else runs.push(run)
    }
    mkdirSync(values.out, { recursive: true })
    lock = OutputLock.acquireSync(values.out, `current-${process.pid}`)
    const started = performance.now()
    table = await CurrentTable.open(values.out, { rebuild: values.rebuild })
    const merged = values.rebuild ? [] : await table.merge(runs, ingestedAt)
    if (values.rebuild) await table.rebuild(runs, ingestedAt)
    const written = await table.write(values.out)
    process.stdout.write(
      `${JSON.stringify({
        mode: values.rebuild ? 'rebuild' : 'merge',
        merged,
        skipped,
        rows: written.rows,
        months: written.months,
        path: written.path,
        duration_ms: Math.round(performance.now() - started),
      })}\n`,
    )
    return 0
  } catch (error) {
    if (error instanceof InputError) {
      process.stderr.write(`listings-current: ${error.message}\n`)
      return 2
    }
    process.stderr.write(`listings-current: unexpected error: ${(error as Error).message}\n`)
    return 1
  } finally {
    table?.close()
    lock?.releaseSync()
  }
}

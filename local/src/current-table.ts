import { randomBytes } from 'node:crypto'
import {
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api'
import {
  CURRENT_TABLE_COLUMNS,
  CURRENT_TABLE_NAME,
  DUCKDB_DIALECT,
  LISTING_COLUMNS_TYPED,
  mergeParameterValues,
  mergeStatement,
  partitionOf,
  RUN_RELATION,
  type RunSource,
  rebuildStatements,
  SOURCES_RELATION,
} from '../../shared/src/current-table-sql.js'
import { InputError } from '../../shared/src/index.js'
import { OutputLock } from './out-lock.js'

/*
 * The current table, locally: the same MERGE Athena runs (rendered for
 * DuckDB from shared/src/current-table-sql.ts), over published output sets.
 *
 *   <out>/current.parquet -> .current-table/<id>       one symlink, swapped atomically
 *   <out>/.current-table/<id>/listing_month=YYYY-MM/data_0.parquet
 *
 * `current.parquet` is a directory of Parquet files, Hive-partitioned by
 * listing month like the Iceberg table (month(date)): a reader filtering on
 * `listing_month` opens only that month's files. Read it with
 * `read_parquet('<out>/current.parquet/**\/*.parquet', hive_partitioning = true)`.
 */

/** The name of the table under the output directory. */
export const CURRENT_TABLE_PATH = 'current.parquet'

/** The Hive partition column of the local table: the Iceberg month(date) transform, as `YYYY-MM`. */
export const LISTING_MONTH = 'listing_month'

const TABLES_DIR = '.current-table'

/** One published output set to merge: its Parquet and its source's place in the source order. */
export interface LocalRun {
  /** The Parquet file. */
  parquet: string
  sourceKey: string
  sourceVersion: string
  /** The source's modification time, ISO-8601 UTC. */
  sourceModifiedAt: string
  /** '' locally (no S3 events). */
  sourceSequencer: string
}

/** An output set that contributes nothing, and why. */
export interface SkippedRun {
  dir: string
  reason: string
}

/** What one merge changed. */
export interface MergeOutcome {
  source: string
  version: string
  /** Rows inserted or updated. */
  changed: number
}

/** The report of {@link readPublishedRun}: only what the merge needs. */
interface RunReport {
  status?: unknown
  input?: { listings?: { name?: unknown; sha256?: unknown; bytes?: unknown } }
  output?: { parquet?: { published?: unknown } }
  started_at?: unknown
}

/**
 * Reads one output set published by the CLI (`--out <dir>`): its report names
 * the source and its SHA-256 (the version), and the source file's mtime gives
 * its place in the source order (the local Last-Modified).
 *
 * @returns the run, or why it contributes nothing (a breach publishes no Parquet)
 * @throws {InputError} when the set cannot be read, or its source is gone or changed since the run
 */
export function readPublishedRun(dir: string): LocalRun | SkippedRun {
  const reportPath = join(dir, 'dq_report.json')
  let report: RunReport
  try {
    report = JSON.parse(readFileSync(reportPath, 'utf8')) as RunReport
  } catch (error) {
    throw new InputError(reportPath, `not a published output set (${(error as Error).message})`)
  }
  if (report.status !== 'succeeded' || report.output?.parquet?.published !== true) {
    return { dir, reason: `status ${String(report.status)}: no Parquet was published` }
  }
  const { name, sha256, bytes } = report.input?.listings ?? {}
  if (typeof name !== 'string' || typeof sha256 !== 'string' || typeof report.started_at !== 'string') {
    throw new InputError(reportPath, 'the report does not name its source, its SHA-256 and its start time')
  }
  const source = resolve(name)
  let stat: ReturnType<typeof statSync>
  try {
    stat = statSync(source)
  } catch {
    throw new InputError(
      source,
      `the source of ${dir} is gone, so its modification time (its place in the order) is unknown`,
    )
  }
  if (stat.size !== bytes || stat.mtimeMs > Date.parse(report.started_at)) {
    throw new InputError(source, `the source changed after the run that published ${dir}; run it again`)
  }
  return {
    parquet: realpathSync(join(dir, 'processed', 'data.parquet')),
    sourceKey: name,
    sourceVersion: sha256,
    sourceModifiedAt: stat.mtime.toISOString(),
    sourceSequencer: '',
  }
}

/** Whether {@link readPublishedRun} found nothing to merge. */
export function isSkipped(run: LocalRun | SkippedRun): run is SkippedRun {
  return 'reason' in run
}

/** The run as the MERGE binds it. */
export function runSource(run: LocalRun, ingestedAt: string): RunSource {
  return {
    parquetPath: run.parquet,
    sourceKey: run.sourceKey,
    sourceVersion: run.sourceVersion,
    sourceModifiedAt: run.sourceModifiedAt,
    sourceSequencer: run.sourceSequencer,
    ingestedAt,
  }
}

/** A DuckDB session holding `listings_current` in memory, loaded from `<out>/current.parquet` if it exists. */
export class CurrentTable {
  private constructor(
    readonly connection: DuckDBConnection,
    private readonly instance: DuckDBInstance,
  ) {}

  /** Opens the table of `out` (empty when there is none yet), or a fresh empty one with `rebuild`. */
  static async open(out: string, options: { rebuild?: boolean } = {}): Promise<CurrentTable> {
    const instance = await DuckDBInstance.create(':memory:')
    const table = new CurrentTable(await instance.connect(), instance)
    const columns = CURRENT_TABLE_COLUMNS.map((c) => `${c.name} ${duckType(c.type)}`).join(', ')
    await table.run(`CREATE TABLE ${CURRENT_TABLE_NAME} (${columns})`)
    const existing = join(out, CURRENT_TABLE_PATH)
    if (!options.rebuild && (await table.hasFiles(existing))) {
      await table.run(
        `INSERT INTO ${CURRENT_TABLE_NAME} SELECT ${CURRENT_TABLE_COLUMNS.map((c) => c.name).join(', ')} FROM ${tableScan(existing)}`,
      )
    }
    return table
  }

  /** Merges each run in the order given (arrival order); the source order decides which rows win. */
  async merge(runs: readonly LocalRun[], ingestedAt: string): Promise<MergeOutcome[]> {
    const outcomes: MergeOutcome[] = []
    const statement = mergeStatement(DUCKDB_DIALECT)
    for (const run of runs) {
      await this.defineRuns([run])
      const values = mergeParameterValues(runSource(run, ingestedAt))
      const result = await this.connection.run(statement, values)
      outcomes.push({
        source: run.sourceKey,
        version: run.sourceVersion,
        changed: Number(result.rowsChanged),
      })
    }
    return outcomes
  }

  /** Replaces the table with the rebuild from all runs: each key at its newest source, whatever the order given. */
  async rebuild(runs: readonly LocalRun[], ingestedAt: string): Promise<void> {
    await this.defineRuns(runs)
    await this.run(`DROP TABLE IF EXISTS ${SOURCES_RELATION}`)
    await this.run(
      `CREATE TEMP TABLE ${SOURCES_RELATION} (parquet_path VARCHAR, source_key VARCHAR, source_version VARCHAR, source_modified_at TIMESTAMP, source_sequencer VARCHAR)`,
    )
    for (const run of runs) {
      const source = runSource(run, ingestedAt)
      await this.connection.run(`INSERT INTO ${SOURCES_RELATION} VALUES (?, ?, ?, CAST(? AS TIMESTAMP), ?)`, [
        source.parquetPath,
        source.sourceKey,
        source.sourceVersion,
        source.sourceModifiedAt,
        source.sourceSequencer,
      ])
    }
    const [clear, insert] = rebuildStatements(DUCKDB_DIALECT)
    await this.run(clear)
    await this.connection.run(insert, [Buffer.from(ingestedAt, 'utf8').toString('base64')])
  }

  /** The table's rows, ordered by the merge key (for tests and small tables). */
  async rows(): Promise<Record<string, unknown>[]> {
    const reader = await this.connection.runAndReadAll(
      `SELECT * FROM ${CURRENT_TABLE_NAME} ORDER BY date, item_id`,
    )
    return reader.getRowObjectsJS() as Record<string, unknown>[]
  }

  /**
   * Writes the table as `<out>/current.parquet`: a new directory, Hive-partitioned
   * by listing month, then one atomic symlink swap; the previous one is removed.
   *
   * @returns the number of rows and months written
   */
  async write(out: string): Promise<{ rows: number; months: number; path: string }> {
    const tables = join(out, TABLES_DIR)
    mkdirSync(tables, { recursive: true })
    const id = `${new Date().toISOString().replace(/[-:.]/g, '')}-${randomBytes(3).toString('hex')}`
    const target = join(tables, id)
    const columns = CURRENT_TABLE_COLUMNS.map((c) => c.name).join(', ')
    await this.run(
      `COPY (SELECT ${columns}, strftime(date, '%Y-%m') AS ${LISTING_MONTH} FROM ${CURRENT_TABLE_NAME} ORDER BY date, item_id) ` +
        `TO ${literal(target)} (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (${LISTING_MONTH}))`,
    )
    mkdirSync(target, { recursive: true }) // an empty table writes no partition
    const link = join(out, CURRENT_TABLE_PATH)
    const previous = existsSync(link) ? realpathSync(link) : undefined
    const draft = `${link}.${id}.tmp`
    symlinkSync(join(TABLES_DIR, id), draft)
    renameSync(draft, link)
    if (previous !== undefined && dirname(previous) === realpathSync(tables)) {
      rmSync(previous, { recursive: true, force: true })
    }
    const counts = await this.connection.runAndReadAll(
      `SELECT count(*)::INTEGER AS n, count(DISTINCT strftime(date, '%Y-%m'))::INTEGER AS m FROM ${CURRENT_TABLE_NAME}`,
    )
    const [row] = counts.getRowObjectsJS() as { n: number; m: number }[]
    return { rows: row?.n ?? 0, months: row?.m ?? 0, path: link }
  }

  close(): void {
    this.connection.closeSync()
    this.instance.closeSync()
  }

  private async hasFiles(path: string): Promise<boolean> {
    if (!existsSync(path)) return false
    const reader = await this.connection.runAndReadAll(
      `SELECT count(*)::INTEGER AS n FROM glob(${literal(join(path, '**', '*.parquet'))})`,
    )
    return ((reader.getRowObjectsJS()[0] as { n: number } | undefined)?.n ?? 0) > 0
  }

  private async run(sql: string): Promise<void> {
    await this.connection.run(sql)
  }

  /**
   * Runs a statement rendered for DuckDB with its parameters.
   *
   * @returns the number of rows it changed
   */
  async execute(sql: string, parameters: readonly string[] = []): Promise<number> {
    const result = await this.connection.run(sql, [...parameters])
    return Number(result.rowsChanged)
  }

  /**
   * Defines the run relation the statements read, the shape of Athena's
   * `listings`: each file's rows with `"$path"` (the path given, as Athena
   * shows an S3 URI) and `dt` (read from that path, as Athena's partition is).
   */
  async exposeFiles(files: readonly { file: string; path: string }[]): Promise<void> {
    const list = `[${files.map((f) => literal(f.file)).join(', ')}]`
    const paths = files.map((f) => `(${literal(f.file)}, ${literal(f.path)})`).join(', ')
    const values = LISTING_COLUMNS_TYPED.map((c) => `p.${c.name}`).join(', ')
    await this.run(
      `CREATE OR REPLACE TEMP VIEW ${RUN_RELATION} AS SELECT ${values}, f.path AS "$path", ${partitionOf('f.path')} AS dt ` +
        `FROM read_parquet(${list}, filename = true) AS p JOIN (VALUES ${paths}) AS f(file, path) ON p.filename = f.file`,
    )
  }

  private async defineRuns(runs: readonly LocalRun[]): Promise<void> {
    await this.exposeFiles(runs.map((run) => ({ file: run.parquet, path: run.parquet })))
  }
}

/** The local table as a DuckDB relation, partition column included. */
export function tableScan(path: string): string {
  return `read_parquet(${literal(join(path, '**', '*.parquet'))}, hive_partitioning = true)`
}

function duckType(type: (typeof CURRENT_TABLE_COLUMNS)[number]['type']): string {
  return { date: 'DATE', string: 'VARCHAR', double: 'DOUBLE', timestamp: 'TIMESTAMP' }[type]
}

/** A DuckDB string literal for a path the command itself chose or was given. */
function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`
}

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
    const skipped: { dir: string; reason: string }[] = []
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

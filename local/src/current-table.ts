import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, realpathSync, renameSync, rmSync, symlinkSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api'
import {
  CURRENT_TABLE_COLUMNS,
  CURRENT_TABLE_NAME,
  DUCKDB_DIALECT,
  mergeParameterValues,
  mergeStatement,
  partitionOf,
  RUN_RELATION,
  type RunSource,
  rebuildStatements,
  SOURCES_RELATION,
} from '../../shared/src/current-table-sql.js'
import { LISTING_COLUMNS_TYPED } from '../../shared/src/table-columns.js'
import type { LocalRun } from './published-run.js'

/**
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
 * The command around it is current-command.ts; its inputs, published-run.ts.
 */

/** The name of the table under the output directory. */
export const CURRENT_TABLE_PATH = 'current.parquet'

/** The Hive partition column of the local table: the Iceberg month(date) transform, as `YYYY-MM`. */
export const LISTING_MONTH = 'listing_month'

const TABLES_DIR = '.current-table'

/** What one merge changed. */
export interface MergeOutcome {
  source: string
  version: string
  /** Rows inserted or updated. */
  changed: number
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

/**
 * The current-listings table (`listings_current`): one row per `(date,
 * item_id)` across every processed file, each at the newest source that
 * mentioned it. Its statements are written here ONCE and rendered for two
 * engines: Athena (Trino, over the Iceberg table in the Glue catalog) and
 * DuckDB (the local command and the tests). The renderings differ only in the
 * {@link SqlDialect} hooks; a test checks that, so what the DuckDB tests prove
 * about the statement holds for the one Athena runs.
 *
 * Pure: no AWS, no I/O.
 *
 * Length: over 250 lines on purpose: the table's columns, its source order, the two
 * dialects and every statement rendered from them are one set of facts that
 * must agree (the MERGE, the rebuild and the DDL name the same columns in
 * the same order); apart, a reader would have to hold several modules to
 * check one statement. The local command, the stack and their tests import
 * these names from here.
 *
 * ## Source order
 *
 * Sources are ordered by the tuple, compared left to right:
 *
 * 1. `source_modified_at`: the source object's Last-Modified (UTC; S3 gives
 *    it to the second), the time the upload completed;
 * 2. `source_key`: the source object key, compared as text (code points), so
 *    two different files modified in the same second still have a fixed order;
 * 3. `source_sequencer`: the S3 event `sequencer` of the upload, upper-cased
 *    and left-padded with zeros to {@link SEQUENCER_WIDTH} hex digits (in
 *    SQL, by the template) so that text order is numeric order, as S3
 *    documents for comparing sequencers of one key; it orders two versions of
 *    the same key written in the same second. Unknown (a backfill has no
 *    event) is all zeros: it sorts first.
 *
 * A row replaces the current row of its `(date, item_id)` only when its source
 * is strictly later in this order and is not the same content (same key and
 * `source_version`: the ETag in S3, the SHA-256 locally; a version re-uploaded
 * with the same bytes is the same data). So a late or replayed older file never overwrites newer data, and
 * merging the same version again changes nothing. A `(date, item_id)` the
 * table does not hold yet is inserted whatever its source's age: the table is
 * the union of every key ever published. A merge never deletes: a row that a
 * newer version of the same file no longer contains stays until a rebuild
 * (which reads only the live outputs).
 */
import { LISTING_COLUMNS_TYPED, type TableColumn } from './table-columns.js'

/** The table's name, in the Glue database and in DuckDB. */
export const CURRENT_TABLE_NAME = 'listings_current'

/**
 * The relation the MERGE reads a run's rows from: the per-file `listings`
 * table (Glue, partition-projected on `dt`) in Athena, a view of the same
 * shape in DuckDB. Both expose the file each row came from as `"$path"`.
 */
export const RUN_RELATION = 'listings'

/**
 * The relation the rebuild reads source metadata from: one row per live
 * Parquet: `parquet_path` and the four source columns.
 */
export const SOURCES_RELATION = 'listing_sources'

/** Where each row came from, and when it was merged. */
export const LINEAGE_COLUMNS: readonly TableColumn[] = [
  { name: 'source_key', type: 'string', required: true, doc: 'Source object key (source order, 2nd)' },
  {
    name: 'source_version',
    type: 'string',
    required: true,
    doc: "Source content identity: the object's ETag (S3), the file's SHA-256 (local)",
  },
  {
    name: 'source_modified_at',
    type: 'timestamp',
    required: true,
    doc: "Source object's Last-Modified, UTC (source order, 1st)",
  },
  {
    name: 'source_sequencer',
    type: 'string',
    required: true,
    doc: 'S3 event sequencer, upper-case hex padded to 32 digits; zeros when unknown (source order, 3rd)',
  },
  {
    name: 'ingested_at',
    type: 'timestamp',
    required: true,
    doc: 'Start of the execution that merged the row, UTC',
  },
]

/** Every column of `listings_current`, in order. */
export const CURRENT_TABLE_COLUMNS: readonly TableColumn[] = [...LISTING_COLUMNS_TYPED, ...LINEAGE_COLUMNS]

/** One row per these columns. */
export const MERGE_KEY = ['date', 'item_id'] as const

/** The source order, most significant first (see the module comment). */
export const SOURCE_ORDER = ['source_modified_at', 'source_key', 'source_sequencer'] as const

/** Width the S3 sequencer is padded to (S3 sequencers are hex, at most 32 digits in practice). */
export const SEQUENCER_WIDTH = 32

/** The partition field of the Iceberg table: listing month. */
export const PARTITION = { name: 'date_month', sourceColumn: 'date', transform: 'month' } as const

/**
 * What differs between the engines, and nothing else.
 *
 * Every value that comes from a run (keys, versions, times, paths) reaches
 * the statement as base64 text, decoded in SQL: the state machine cannot
 * escape a quote in an S3 key, and base64 has none, so no key can break out
 * of its literal. DuckDB binds it as a `?` parameter. Athena cannot: its
 * execution parameters are allowed only in the WHERE clause of SELECT, INSERT
 * INTO, CTAS and UNLOAD, not in MERGE; so the Athena rendering has a `{}`
 * slot inside a string literal, which the state machine fills with
 * `States.Format` (see {@link STATES_FORMAT_SLOT}).
 */
export interface SqlDialect {
  name: 'athena' | 'duckdb'
  /** A text value from the run: base64 of its UTF-8 bytes, decoded. */
  textParameter: string
  /** An ISO-8601 UTC instant (`2026-11-28T10:00:00.000Z`) as the table's timestamp type. */
  timestamp(iso: string): string
  /**
   * The rebuild's source metadata: a relation with `parquet_path`,
   * `source_key`, `source_version`, `source_modified_at`, `source_sequencer`.
   */
  sourcesRelation: string
}

/** The slot `States.Format` fills, in the Athena rendering: the only `{}` in its statements. */
export const STATES_FORMAT_SLOT = '{}'

/**
 * Athena engine v3 (Trino): Iceberg timestamps are microseconds, without zone;
 * run values are `{}` slots for `States.Format`.
 */
export function athenaDialect(manifestsTable: string, processedBucketUri: string): SqlDialect {
  return {
    name: 'athena',
    textParameter: `from_utf8(from_base64('${STATES_FORMAT_SLOT}'))`,
    timestamp: (iso) => `CAST(from_iso8601_timestamp(${iso}) AS timestamp(6))`,
    // The manifests record, per source key, the live version and its Parquet key.
    sourcesRelation:
      '(SELECT ' +
      `concat(${quote(processedBucketUri)}, m.live.parquet) AS parquet_path, ` +
      'm.live.source.key AS source_key, ' +
      'm.live.source.etag AS source_version, ' +
      // Manifests written before they recorded Last-Modified fall back to the publish time.
      'CAST(from_iso8601_timestamp(coalesce(m.live.source.last_modified, m.live.published_at)) AS timestamp(6)) AS source_modified_at, ' +
      `'${'0'.repeat(SEQUENCER_WIDTH)}' AS source_sequencer ` +
      `FROM ${manifestsTable} AS m WHERE m.live IS NOT NULL)`,
  }
}

/** DuckDB: the local command loads the table, the runs' view and the sources table first. */
export const DUCKDB_DIALECT: SqlDialect = {
  name: 'duckdb',
  textParameter: 'decode(from_base64(?))',
  timestamp: (iso) => `CAST(${iso} AS TIMESTAMP)`,
  sourcesRelation: SOURCES_RELATION,
}

/** The facts about one run that the MERGE binds, as text. */
export interface RunSource {
  /** The run's Parquet as the run relation's `"$path"` shows it (`s3://bucket/listings/dt=.../x.parquet`). */
  parquetPath: string
  sourceKey: string
  sourceVersion: string
  /** ISO-8601 UTC. */
  sourceModifiedAt: string
  /** The event's sequencer as S3 sends it (hex), or '' when unknown; the statement pads it. */
  sourceSequencer: string
  /** ISO-8601 UTC. */
  ingestedAt: string
}

/**
 * The MERGE's parameters, in the order their slots appear: the state machine
 * fills them in this order (base64 of each value), and DuckDB binds them so.
 * The Parquet path is bound twice: once for `dt`, which the statement reads
 * from the path itself, and once for `"$path"`.
 */
export const MERGE_PARAMETERS = [
  'sourceKey',
  'sourceVersion',
  'sourceModifiedAt',
  'sourceSequencer',
  'ingestedAt',
  'parquetPath',
  'parquetPath',
] as const satisfies readonly (keyof RunSource)[]

/** The MERGE's parameter values for a run: base64 of each value's UTF-8, in {@link MERGE_PARAMETERS} order. */
export function mergeParameterValues(run: RunSource): string[] {
  return MERGE_PARAMETERS.map((name) => Buffer.from(run[name], 'utf8').toString('base64'))
}

const valueColumns = LISTING_COLUMNS_TYPED.map((c) => c.name)
const allColumns = CURRENT_TABLE_COLUMNS.map((c) => c.name)

/** `s` is strictly later than `t` in the source order: a lexicographic comparison, spelled out for both engines. */
function laterSource(s: string, t: string): string {
  const [first, ...rest] = [...SOURCE_ORDER].reverse()
  let condition = `${s}.${first} > ${t}.${first}`
  for (const column of rest) {
    condition = `${s}.${column} > ${t}.${column} OR (${s}.${column} = ${t}.${column} AND (${condition}))`
  }
  return `(${condition})`
}

/**
 * The `dt` partition of an output path (`.../dt=2026-11-28/x.parquet`), '' when it has none.
 * Both engines have `regexp_extract(text, pattern, group)` with these semantics.
 */
export function partitionOf(path: string): string {
  return `coalesce(regexp_extract(${path}, '/dt=([^/]+)/', 1), '')`
}

/**
 * The per-run MERGE: the run's rows (read from {@link RUN_RELATION} by the
 * run's `dt` and Parquet path, so Athena reads one partition and one file)
 * into `listings_current`. Matching on the key alone lets Iceberg prune the
 * target to the months (partitions) of the incoming dates.
 */
export function mergeStatement(dialect: SqlDialect): string {
  const p = dialect.textParameter
  return [
    `MERGE INTO ${CURRENT_TABLE_NAME} AS t`,
    'USING (',
    `  SELECT ${valueColumns.map((c) => `r.${c}`).join(', ')},`,
    `    ${p} AS source_key,`,
    `    ${p} AS source_version,`,
    `    ${dialect.timestamp(p)} AS source_modified_at,`,
    `    lpad(upper(${p}), ${SEQUENCER_WIDTH}, '0') AS source_sequencer,`,
    `    ${dialect.timestamp(p)} AS ingested_at`,
    `  FROM ${RUN_RELATION} AS r`,
    `  WHERE r.dt = ${partitionOf(p)} AND r."$path" = ${p}`,
    ') AS s',
    `ON ${MERGE_KEY.map((c) => `t.${c} = s.${c}`).join(' AND ')}`,
    `WHEN MATCHED AND ${laterSource('s', 't')}`,
    '  AND NOT (s.source_key = t.source_key AND s.source_version = t.source_version)',
    `  THEN UPDATE SET ${allColumns
      .filter((c) => !(MERGE_KEY as readonly string[]).includes(c))
      .map((c) => `${c} = s.${c}`)
      .join(', ')}`,
    `WHEN NOT MATCHED THEN INSERT (${allColumns.join(', ')})`,
    `  VALUES (${allColumns.map((c) => `s.${c}`).join(', ')})`,
  ].join('\n')
}

/**
 * The rebuild: the table recomputed from every live output, each key at its
 * newest source, independent of the order the files were merged in. Two
 * statements (Iceberg commits each): empty the table, then insert the
 * winners. `ingested_at` is the one parameter.
 */
export function rebuildStatements(dialect: SqlDialect): [string, string] {
  const p = dialect.textParameter
  const sequencer = `lpad(upper(src.source_sequencer), ${SEQUENCER_WIDTH}, '0')`
  const order = SOURCE_ORDER.map((c) => `${c === 'source_sequencer' ? sequencer : `src.${c}`} DESC`).join(
    ', ',
  )
  return [
    `DELETE FROM ${CURRENT_TABLE_NAME}`,
    [
      `INSERT INTO ${CURRENT_TABLE_NAME} (${allColumns.join(', ')})`,
      `SELECT ${allColumns.join(', ')}`,
      'FROM (',
      `  SELECT ${valueColumns.map((c) => `r.${c}`).join(', ')},`,
      `    src.source_key, src.source_version, src.source_modified_at, ${sequencer} AS source_sequencer,`,
      `    ${dialect.timestamp(p)} AS ingested_at,`,
      `    row_number() OVER (PARTITION BY ${MERGE_KEY.map((c) => `r.${c}`).join(', ')} ORDER BY ${order}) AS newest`,
      `  FROM ${RUN_RELATION} AS r`,
      `  JOIN ${dialect.sourcesRelation} AS src ON r."$path" = src.parquet_path`,
      ') AS ranked',
      'WHERE newest = 1',
    ].join('\n'),
  ]
}

/** Iceberg maintenance, Athena only: compact small files, then expire snapshots and remove orphans. */
export const MAINTENANCE_STATEMENTS = {
  optimize: `OPTIMIZE ${CURRENT_TABLE_NAME} REWRITE DATA USING BIN_PACK`,
  vacuum: `VACUUM ${CURRENT_TABLE_NAME}`,
} as const

/** Athena's DDL for the same table (the stack creates it through Glue; this is its reference and fallback). */
export function athenaCreateTable(location: string): string {
  return [
    `CREATE TABLE IF NOT EXISTS ${CURRENT_TABLE_NAME} (`,
    // Athena DDL is Hive's: `date` is a reserved word there, so every name is backquoted.
    CURRENT_TABLE_COLUMNS.map((c) => `  \`${c.name}\` ${c.type}`).join(',\n'),
    `) PARTITIONED BY (${PARTITION.transform}(\`${PARTITION.sourceColumn}\`))`,
    `LOCATION ${quote(location)}`,
    "TBLPROPERTIES ('table_type' = 'ICEBERG', 'format' = 'parquet', 'write_compression' = 'snappy')",
  ].join('\n')
}

/** A SQL string literal (quotes doubled); for values the stack itself knows, never for run input. */
export function quote(text: string): string {
  return `'${text.replaceAll("'", "''")}'`
}

/** The Glue table over the JSON reports (`reports/dt=.../*.json`), for DQ over time. */
export const REPORTS_TABLE_NAME = 'dq_reports'

/**
 * Saved queries for analysts (Athena named queries). The first two run on the
 * current table and are plain SQL both engines accept (a test runs them in
 * DuckDB); the third reads the reports table, Athena only.
 */
export const ANALYST_QUERIES = {
  currentListings: {
    name: 'current-listings-by-segment',
    description:
      'Current listings (one row per date and item, newest source) by segment for a listing-date range',
    sql: [
      'SELECT segment, count(*) AS listings, round(avg(price_gbp), 2) AS avg_price_gbp',
      `FROM ${CURRENT_TABLE_NAME}`,
      "WHERE date BETWEEN DATE '2026-01-01' AND DATE '2026-12-31'",
      'GROUP BY segment',
      'ORDER BY listings DESC, segment',
    ].join('\n'),
  },
  rowsByListingDate: {
    name: 'rows-by-listing-date',
    description: 'Rows per listing date in the current table, with how many source files they came from',
    sql: [
      'SELECT date, count(*) AS listings, count(DISTINCT source_key) AS source_files, max(source_modified_at) AS newest_source',
      `FROM ${CURRENT_TABLE_NAME}`,
      "WHERE date >= DATE '2026-01-01'",
      'GROUP BY date',
      'ORDER BY date',
    ].join('\n'),
  },
  dqHistory: {
    name: 'dq-history',
    description: 'Data quality per processed file over time (dt is the upload date)',
    sql: [
      'SELECT dt, input.listings.name AS source, status, source_rows, rows_after_dedup,',
      '  dropped_missing_required, dropped_non_positive_price, duplicates_removed,',
      '  round(ratios.rejected * 100, 2) AS rejected_pct, round(ratios.without_segment * 100, 2) AS without_segment_pct,',
      '  output.parquet.published AS published',
      `FROM ${REPORTS_TABLE_NAME}`,
      "WHERE dt >= '2026-01-01'",
      'ORDER BY dt, source',
    ].join('\n'),
  },
} as const

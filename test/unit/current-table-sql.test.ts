import { describe, expect, it } from 'vitest'
import { parquetTableColumns } from '../../infra/src/glue-columns.js'
import {
  athenaCreateTable,
  athenaDialect,
  CURRENT_TABLE_COLUMNS,
  DUCKDB_DIALECT,
  LINEAGE_COLUMNS,
  MERGE_PARAMETERS,
  mergeParameterValues,
  mergeStatement,
  type RunSource,
  rebuildStatements,
  SOURCE_ORDER,
  type SqlDialect,
  STATES_FORMAT_SLOT,
} from '../../shared/src/current-table-sql.js'
import { LISTINGS_PARQUET_SCHEMA } from '../../shared/src/parquet.js'
import { LISTING_COLUMNS_TYPED } from '../../shared/src/table-columns.js'

const ATHENA = athenaDialect('listing_manifests', 's3://processed-bucket/')

/** A dialect whose hooks render as visible markers, to see the template's own text. */
const MARKERS: SqlDialect = {
  name: 'duckdb',
  textParameter: '<TEXT ?>',
  timestamp: (iso) => `<TIMESTAMP ${iso}>`,
  sourcesRelation: '<SOURCES>',
}

/** The template rendered with the markers, each marker replaced by a dialect's hook. */
function throughHooks(template: string, dialect: SqlDialect): string {
  return template
    .replaceAll(/<TIMESTAMP <TEXT \?>>/g, dialect.timestamp(dialect.textParameter))
    .replaceAll('<TEXT ?>', () => dialect.textParameter)
    .replaceAll('<SOURCES>', dialect.sourcesRelation)
}

describe('one template, two renderings', () => {
  const statements = (dialect: SqlDialect) => [mergeStatement(dialect), ...rebuildStatements(dialect)]

  it('Athena and DuckDB statements are the template with only the dialect hooks filled in differently', () => {
    const template = statements(MARKERS)
    expect(statements(ATHENA)).toEqual(template.map((t) => throughHooks(t, ATHENA)))
    expect(statements(DUCKDB_DIALECT)).toEqual(template.map((t) => throughHooks(t, DUCKDB_DIALECT)))
  })

  it('the hooks are the only differences: how run values arrive and decode, timestamp parsing, where source metadata lives', () => {
    // Athena allows execution parameters only in WHERE clauses of SELECT/INSERT/CTAS/UNLOAD: a States.Format slot instead.
    expect(ATHENA.textParameter).toBe("from_utf8(from_base64('{}'))")
    expect(DUCKDB_DIALECT.textParameter).toBe('decode(from_base64(?))')
    expect(ATHENA.timestamp('x')).toBe('CAST(from_iso8601_timestamp(x) AS timestamp(6))')
    expect(DUCKDB_DIALECT.timestamp('x')).toBe('CAST(x AS TIMESTAMP)')
    const athena = mergeStatement(ATHENA).split('\n')
    const duckdb = mergeStatement(DUCKDB_DIALECT).split('\n')
    expect(athena).toHaveLength(duckdb.length)
    const differing = athena.filter((line, i) => line !== duckdb[i])
    expect(differing.length).toBeGreaterThan(0)
    for (const line of differing) expect(line).toMatch(/from_utf8\(from_base64\('\{\}'\)\)/)
    expect(mergeStatement(ATHENA).split(STATES_FORMAT_SLOT)).toHaveLength(MERGE_PARAMETERS.length + 1)
    expect(mergeStatement(ATHENA)).not.toContain('?')
  })

  it("the MERGE binds exactly MERGE_PARAMETERS, in the order its '?' appear", () => {
    const merge = mergeStatement(MARKERS)
    expect(merge.match(/\?/g)).toHaveLength(MERGE_PARAMETERS.length)
    const order = [
      ...merge.matchAll(/<TEXT \?>(?:\)|>|\), 32, '0'\))? AS (\w+)|r\.(dt|"\$path") = [^?]*<TEXT \?>/g),
    ].map((m) => m[1] ?? m[2])
    expect(order).toEqual([
      'source_key',
      'source_version',
      'source_modified_at',
      'source_sequencer',
      'ingested_at',
      'dt',
      '"$path"',
    ])
    // Each source parameter fills the column of its name; the Parquet path fills both dt and "$path".
    const columnOf = (parameter: string) => parameter.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)
    expect(MERGE_PARAMETERS.map(columnOf)).toEqual([...order.slice(0, 5), 'parquet_path', 'parquet_path'])
  })

  it('updates only when the source is strictly later in (modified_at, key, sequencer) and not the same version', () => {
    const merge = mergeStatement(MARKERS)
    expect(merge).toContain(
      'WHEN MATCHED AND (s.source_modified_at > t.source_modified_at OR (s.source_modified_at = t.source_modified_at AND ' +
        '(s.source_key > t.source_key OR (s.source_key = t.source_key AND (s.source_sequencer > t.source_sequencer)))))',
    )
    expect(merge).toContain('AND NOT (s.source_key = t.source_key AND s.source_version = t.source_version)')
    expect(merge).toContain('ON t.date = s.date AND t.item_id = s.item_id')
  })
})

describe('run values reach SQL as base64', () => {
  const run: RunSource = {
    parquetPath: "s3://b/listings/dt=2026-11-28/it's%2Fa.parquet",
    sourceKey: "incoming/it's/a.csv'; DROP TABLE listings_current; --",
    sourceVersion: 'v1',
    sourceModifiedAt: '2026-11-28T10:00:00.000Z',
    sourceSequencer: '',
    ingestedAt: '2026-11-28T10:01:00.000Z',
  }

  it('so no quote in a key can leave its literal, and decoding gives the value back', () => {
    const values = mergeParameterValues(run)
    for (const value of values) expect(value).toMatch(/^[A-Za-z0-9+/=]*$/)
    expect(values.map((v) => Buffer.from(v, 'base64').toString('utf8'))).toEqual(
      MERGE_PARAMETERS.map((name) => run[name]),
    )
  })
})

describe('the table', () => {
  it("starts with the contract's seven Parquet columns, as the per-file Glue table has them", () => {
    const parquetNames = LISTINGS_PARQUET_SCHEMA.slice(1).map((element) => element.name)
    expect(LISTING_COLUMNS_TYPED.map((c) => c.name)).toEqual(parquetNames)
    // Typed as the contract's schema says, and as the per-file Glue table types them.
    expect(LISTING_COLUMNS_TYPED.map((c) => c.type)).toEqual([
      'date',
      'string',
      'string',
      'string',
      'string',
      'double',
      'string',
    ])
    expect(LISTING_COLUMNS_TYPED.map(({ name, type }) => ({ name, type }))).toEqual(
      parquetTableColumns().map(({ name, type }) => ({ name, type })),
    )
    // Then the lineage columns, in this order, which hold every column of the source order.
    expect(CURRENT_TABLE_COLUMNS.map((c) => c.name)).toEqual([
      ...parquetNames,
      'source_key',
      'source_version',
      'source_modified_at',
      'source_sequencer',
      'ingested_at',
    ])
    expect(LINEAGE_COLUMNS.map((c) => c.name)).toEqual(expect.arrayContaining([...SOURCE_ORDER]))
  })

  it("Athena's DDL partitions by month(date) as an Iceberg table", () => {
    const ddl = athenaCreateTable('s3://processed-bucket/current/listings_current/')
    expect(ddl).toContain('PARTITIONED BY (month(`date`))')
    expect(ddl).toContain('  `date` date,\n')
    expect(ddl).toContain("'table_type' = 'ICEBERG'")
    expect(ddl).toContain("LOCATION 's3://processed-bucket/current/listings_current/'")
  })
})

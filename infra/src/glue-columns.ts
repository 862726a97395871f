/**
 * The Glue catalog's columns for the stack's tables: the per-file `listings`
 * table's derived from the Parquet schema the writer uses
 * (shared/src/parquet.ts), so a column added to the Parquet is added to the
 * table; and the fields of the JSON reports and manifests analysts query.
 */
import type * as glue from 'aws-cdk-lib/aws-glue'
import type { SchemaElement } from 'hyparquet-writer'
import { LISTING_COLUMNS_TYPED } from '../../shared/src/current-table-sql.js'
import { LISTINGS_PARQUET_SCHEMA } from '../../shared/src/parquet.js'

/**
 * The Glue (Hive DDL) type Athena reads a Parquet column as, from its
 * physical and logical types: the one mapping from the Parquet schema to the
 * catalog.
 *
 * @throws {Error} naming the column, for a type the mapping does not cover
 */
export function glueType(column: SchemaElement): string {
  const logical = column.logical_type?.type
  if (column.type === 'INT32' && logical === 'DATE') return 'date'
  if (column.type === 'BYTE_ARRAY' && logical === 'STRING') return 'string'
  if (column.type === 'DOUBLE' && logical === undefined) return 'double'
  throw new Error(
    `no Glue type for the Parquet column ${column.name}: ${column.type ?? 'no physical type'}, ${logical ?? 'no logical type'}`,
  )
}

/**
 * The columns of a Parquet schema in order (its first element is the root),
 * each with its Glue type and, where the current table documents it
 * (shared/src/current-table-sql.ts), that text as the comment.
 */
export function parquetTableColumns(
  schema: readonly SchemaElement[] = LISTINGS_PARQUET_SCHEMA,
): glue.CfnTable.ColumnProperty[] {
  return schema.slice(1).map((column) => {
    const doc = LISTING_COLUMNS_TYPED.find((documented) => documented.name === column.name)?.doc
    return { name: column.name, type: glueType(column), ...(doc === undefined ? {} : { comment: doc }) }
  })
}

/** The report fields analysts query over time (the rest stay in the JSON). */
export const REPORT_COLUMNS: readonly glue.CfnTable.ColumnProperty[] = [
  { name: 'schema_version', type: 'int' },
  { name: 'status', type: 'string' },
  { name: 'source_rows', type: 'bigint' },
  { name: 'valid_rows_after_clean', type: 'bigint' },
  { name: 'rows_after_dedup', type: 'bigint' },
  { name: 'dropped_missing_required', type: 'bigint' },
  { name: 'dropped_non_positive_price', type: 'bigint' },
  { name: 'duplicates_removed', type: 'bigint' },
  { name: 'rows_without_segment', type: 'bigint' },
  { name: 'rejected_rows', type: 'bigint' },
  { name: 'ratios', type: 'struct<rejected:double,without_segment:double>' },
  { name: 'unmatched_category_count', type: 'bigint' },
  { name: 'input', type: 'struct<listings:struct<name:string,bytes:bigint,sha256:string>>' },
  { name: 'output', type: 'struct<parquet:struct<published:boolean,rows:bigint,bytes:bigint>>' },
  { name: 'started_at', type: 'string' },
  { name: 'finished_at', type: 'string' },
]

/** The manifest fields the rebuild reads (see lambdas/ingest/src/live-version.ts). */
export const MANIFEST_COLUMNS: readonly glue.CfnTable.ColumnProperty[] = [
  { name: 'manifest_version', type: 'int' },
  {
    name: 'live',
    type: 'struct<source:struct<bucket:string,key:string,etag:string,versionid:string,last_modified:string>,parquet:string,rows:bigint,published_at:string>',
  },
]

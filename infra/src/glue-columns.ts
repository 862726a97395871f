/**
 * The Glue catalog's columns for the stack's tables: the per-file `listings`
 * table's derived from the Parquet schema (its one home,
 * shared/src/parquet.ts), so a column added to the Parquet is added to the
 * table; and the fields of the JSON reports and manifests analysts query.
 */
import type * as glue from 'aws-cdk-lib/aws-glue'
import type { SchemaElement } from 'hyparquet-writer'
import { LISTINGS_PARQUET_SCHEMA } from '../../shared/src/parquet.js'
import { tableColumns } from '../../shared/src/table-columns.js'

/**
 * The columns of a Parquet schema in order, each with its table type
 * (shared/src/table-columns.ts) and, where documented, its description as
 * the comment.
 */
export function parquetTableColumns(
  schema: readonly SchemaElement[] = LISTINGS_PARQUET_SCHEMA,
): glue.CfnTable.ColumnProperty[] {
  return tableColumns(schema).map(({ name, type, doc }) => ({
    name,
    type,
    ...(doc === undefined ? {} : { comment: doc }),
  }))
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

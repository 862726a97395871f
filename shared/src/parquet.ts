/**
 * The output Parquet file's shape: its schema, one row of it, and the
 * summary the report gives of it. The writer (parquet-writer.ts), the
 * encoders (row-group-encoder.ts) and the table definitions elsewhere
 * (current-table-sql.ts's test, the Glue columns) all read the schema from
 * here, so this module imports no writer.
 */
import type { SchemaElement } from 'hyparquet-writer'
import type { CleanListing } from './classify.js'

/** A cleaned listing with its segment: one output row. */
export interface EnrichedListing extends CleanListing {
  segment: string | null
}

const STRING = { type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } } as const

/**
 * The output schema, in the contract's column order. Every column but
 * `segment` is REQUIRED: cleaning guarantees a value.
 */
export const LISTINGS_PARQUET_SCHEMA: SchemaElement[] = [
  { name: 'schema', num_children: 7 },
  {
    name: 'date',
    type: 'INT32',
    converted_type: 'DATE',
    logical_type: { type: 'DATE' },
    repetition_type: 'REQUIRED',
  },
  { name: 'seller_id', ...STRING, repetition_type: 'REQUIRED' },
  { name: 'region', ...STRING, repetition_type: 'REQUIRED' },
  { name: 'category', ...STRING, repetition_type: 'REQUIRED' },
  { name: 'item_id', ...STRING, repetition_type: 'REQUIRED' },
  { name: 'price_gbp', type: 'DOUBLE', repetition_type: 'REQUIRED' },
  { name: 'segment', ...STRING, repetition_type: 'OPTIONAL' },
]

/** What was written, for the report. */
export interface ParquetSummary {
  rows: number
  row_groups: number
  compression: 'SNAPPY'
}

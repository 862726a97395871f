/**
 * The output's columns as a table sees them: name, type in Hive/Glue
 * spelling (what Athena DDL, the Glue catalog and the Iceberg schema use),
 * whether a value is guaranteed, and a description. Derived from the Parquet
 * schema (`parquet.ts`, which the writer also reads), so a column added to the Parquet is
 * a column of the per-file Glue table and of the current table, with no list
 * to keep in step by hand.
 *
 * Pure: no AWS, no I/O.
 */
import type { SchemaElement } from 'hyparquet-writer'
import { LISTINGS_PARQUET_SCHEMA } from './parquet.js'

/** A column type in Hive/Glue spelling. */
export type TableColumnType = 'date' | 'string' | 'double' | 'timestamp'

/** A column with its type in Hive/Glue spelling (what Athena DDL and Glue use). */
export interface TableColumn {
  readonly name: string
  readonly type: TableColumnType
  /** Iceberg `required`: the contract guarantees a value. */
  readonly required: boolean
  /** The column's description (Glue comment, Iceberg doc); absent for a column no one documented. */
  readonly doc?: string
}

/**
 * The type a table reads a Parquet column as, from its physical and logical
 * types: the one mapping from the Parquet schema to the catalog.
 *
 * @throws {Error} naming the column, for a type the mapping does not cover
 */
export function tableColumnType(column: SchemaElement): TableColumnType {
  const logical = column.logical_type?.type
  if (column.type === 'INT32' && logical === 'DATE') return 'date'
  if (column.type === 'BYTE_ARRAY' && logical === 'STRING') return 'string'
  if (column.type === 'DOUBLE' && logical === undefined) return 'double'
  throw new Error(
    `no table type for the Parquet column ${column.name}: ${column.type ?? 'no physical type'}, ${logical ?? 'no logical type'}`,
  )
}

/** What each output column holds, shown in the Glue catalog and the Iceberg schema. */
const LISTING_COLUMN_DOCS: Readonly<Record<string, string>> = {
  date: 'Listing date (the merge key, with item_id)',
  seller_id: 'Seller identifier, as text',
  region: 'Region',
  category: 'Category',
  item_id: 'Item identifier, as text (the merge key, with date)',
  price_gbp: 'Price in GBP, > 0',
  segment: 'Segment from the lookup; null when unmatched',
}

/**
 * The columns of a Parquet schema in order (its first element is the root),
 * typed by {@link tableColumnType}, required where the Parquet column is.
 */
export function tableColumns(
  schema: readonly SchemaElement[],
  docs: Readonly<Record<string, string>> = LISTING_COLUMN_DOCS,
): TableColumn[] {
  return schema.slice(1).map((column) => {
    const doc = Object.hasOwn(docs, column.name) ? docs[column.name] : undefined
    return {
      name: column.name,
      type: tableColumnType(column),
      required: column.repetition_type === 'REQUIRED',
      ...(doc === undefined ? {} : { doc }),
    }
  })
}

/** The contract's seven Parquet columns, in order, as tables type them. */
export const LISTING_COLUMNS_TYPED: readonly TableColumn[] = tableColumns(LISTINGS_PARQUET_SCHEMA)

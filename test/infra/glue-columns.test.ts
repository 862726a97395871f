/**
 * The Glue columns of the per-file `listings` table come from the Parquet
 * schema the writer uses (through shared/src/table-columns.ts), so a column
 * added to the Parquet appears in the table.
 */
import type { SchemaElement } from 'hyparquet-writer'
import { describe, expect, it } from 'vitest'
import { parquetTableColumns } from '../../infra/src/glue-columns.js'
import { LISTINGS_PARQUET_SCHEMA } from '../../shared/src/parquet.js'
import { LISTING_COLUMNS_TYPED } from '../../shared/src/table-columns.js'

describe("the listings table's columns", () => {
  it("are the Parquet schema's, in order, as the current table types them", () => {
    const columns = parquetTableColumns()
    expect(columns.map((c) => c.name)).toEqual(LISTINGS_PARQUET_SCHEMA.slice(1).map((e) => e.name))
    expect(columns.map(({ name, type }) => ({ name, type }))).toEqual(
      LISTING_COLUMNS_TYPED.map(({ name, type }) => ({ name, type })),
    )
    expect(columns.map((c) => c.comment)).toEqual(LISTING_COLUMNS_TYPED.map((c) => c.doc))
  })

  it('follow the schema: a column added to the Parquet is a column of the table', () => {
    const schema: SchemaElement[] = [
      { name: 'schema', num_children: 8 },
      ...LISTINGS_PARQUET_SCHEMA.slice(1),
      { name: 'listed_at_price', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
    ]
    expect(parquetTableColumns(schema).at(-1)).toEqual({ name: 'listed_at_price', type: 'double' })
  })
})

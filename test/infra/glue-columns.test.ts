/**
 * The Glue columns of the per-file `listings` table come from the Parquet
 * schema the writer uses: one mapping of Parquet types to Glue types, so a
 * column added to the Parquet appears in the table.
 */
import type { SchemaElement } from 'hyparquet-writer'
import { describe, expect, it } from 'vitest'
import { glueType, parquetTableColumns } from '../../infra/src/glue-columns.js'
import { LISTING_COLUMNS_TYPED } from '../../shared/src/current-table-sql.js'
import { LISTINGS_PARQUET_SCHEMA } from '../../shared/src/parquet.js'

describe('the Glue type of a Parquet column', () => {
  it('is date for an INT32 DATE, string for a UTF-8 BYTE_ARRAY, double for a DOUBLE', () => {
    expect(
      glueType({ name: 'd', type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' } }),
    ).toBe('date')
    expect(
      glueType({ name: 's', type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } }),
    ).toBe('string')
    expect(glueType({ name: 'p', type: 'DOUBLE' })).toBe('double')
  })

  it('is refused, naming the column, for a type the mapping does not cover', () => {
    expect(() => glueType({ name: 'raw', type: 'BYTE_ARRAY' })).toThrow(
      'no Glue type for the Parquet column raw: BYTE_ARRAY, no logical type',
    )
    expect(() => glueType({ name: 'n', type: 'INT64' })).toThrow(/the Parquet column n: INT64/)
  })
})

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

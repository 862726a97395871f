import type { SchemaElement } from 'hyparquet-writer'
import { describe, expect, it } from 'vitest'
import { LISTING_COLUMNS } from '../../shared/src/contract.js'
import { LISTINGS_PARQUET_SCHEMA } from '../../shared/src/parquet.js'
import { LISTING_COLUMNS_TYPED, tableColumns, tableColumnType } from '../../shared/src/table-columns.js'

describe('the table type of a Parquet column', () => {
  it('is date for an INT32 DATE, string for a UTF-8 BYTE_ARRAY, double for a DOUBLE', () => {
    expect(
      tableColumnType({ name: 'd', type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' } }),
    ).toBe('date')
    expect(
      tableColumnType({
        name: 's',
        type: 'BYTE_ARRAY',
        converted_type: 'UTF8',
        logical_type: { type: 'STRING' },
      }),
    ).toBe('string')
    expect(tableColumnType({ name: 'p', type: 'DOUBLE' })).toBe('double')
  })

  it('is refused, naming the column, for a type the mapping does not cover', () => {
    expect(() => tableColumnType({ name: 'raw', type: 'BYTE_ARRAY' })).toThrow(
      'no table type for the Parquet column raw: BYTE_ARRAY, no logical type',
    )
    expect(() => tableColumnType({ name: 'n', type: 'INT64' })).toThrow(/the Parquet column n: INT64/)
  })
})

describe("the listings' table columns", () => {
  it("are the contract's columns then segment, every one documented", () => {
    expect(LISTING_COLUMNS_TYPED.map((c) => c.name)).toEqual([...LISTING_COLUMNS, 'segment'])
    expect(LISTING_COLUMNS_TYPED.filter((c) => !c.doc)).toEqual([])
  })

  it('are required exactly where the Parquet column is REQUIRED: all but segment', () => {
    expect(LISTING_COLUMNS_TYPED.filter((c) => !c.required).map((c) => c.name)).toEqual(['segment'])
    expect(LISTING_COLUMNS_TYPED.map((c) => c.required)).toEqual(
      LISTINGS_PARQUET_SCHEMA.slice(1).map((e) => e.repetition_type === 'REQUIRED'),
    )
  })

  it('follow the schema: an added Parquet column is a table column, without a doc until given one', () => {
    const schema: SchemaElement[] = [
      ...LISTINGS_PARQUET_SCHEMA,
      { name: 'listed_at', type: 'INT32', logical_type: { type: 'DATE' }, repetition_type: 'OPTIONAL' },
    ]
    expect(tableColumns(schema).at(-1)).toEqual({ name: 'listed_at', type: 'date', required: false })
    expect(tableColumns(schema, { listed_at: 'When listed' }).at(-1)?.doc).toBe('When listed')
  })
})

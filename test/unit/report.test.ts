import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { MemorySink } from '../../shared/src/byte-streams.js'
import { InputError } from '../../shared/src/errors.js'
import { ingest } from '../../shared/src/ingest.js'
import {
  buildDqReport,
  findBreaches,
  type RunFacts,
  ratio,
  thresholdsFrom,
  topUnmatched,
} from '../../shared/src/report.js'
import { LISTINGS_HEADER, LOOKUP_CSV, runOnText, textSource } from '../helpers/sources.js'

const csv = [
  LISTINGS_HEADER,
  '2024-01-01,S1,London,Electronics,A,10',
  '2024-01-01,S1,London,Electronics,A,11',
  '2024-01-02,S1,London,Garden,B,5',
  '2024-01-02,,London,Garden,C,5',
  '2024-01-02,S1,London,Garden,D,0',
  '2024-01-02,S1,London,Toys,E,7',
].join('\n')

describe('the report of a run', () => {
  it('has the five mandated integer counts, consistent with each other', async () => {
    const { report } = await runOnText(csv)
    expect(report).toMatchObject({
      source_rows: 6,
      valid_rows_after_clean: 4,
      rows_after_dedup: 3,
      dropped_missing_required: 1,
      dropped_non_positive_price: 1,
    })
    expect(report.source_rows).toBe(
      report.valid_rows_after_clean + report.dropped_missing_required + report.dropped_non_positive_price,
    )
    for (const key of ['source_rows', 'valid_rows_after_clean', 'rows_after_dedup'] as const) {
      expect(Number.isInteger(report[key])).toBe(true)
    }
  })

  it('breaks the buckets down by reason and by missing column', async () => {
    const { report } = await runOnText(csv)
    expect(report.reasons).toEqual({
      missing_field: 1,
      too_many_fields: 0,
      invalid_encoding: 0,
      invalid_date: 0,
      non_numeric_price: 0,
      non_finite_price: 0,
      non_positive_price: 1,
    })
    expect(report.missing_fields.seller_id).toBe(1)
    expect(report.duplicates_removed).toBe(1)
    expect(report.rejected_rows).toBe(2)
  })

  it('records segment coverage: unmatched categories and empty segments', async () => {
    const { report } = await runOnText(csv)
    expect(report.rows_without_segment).toBe(2)
    expect(report.rows_with_empty_segment).toBe(1)
    expect(report.unmatched_categories).toEqual([{ category: 'Garden', rows: 1 }])
    expect(report.ratios).toEqual({ rejected: 2 / 6, without_segment: 2 / 3 })
  })

  it('records input and output sizes and SHA-256 digests', async () => {
    const { report, parquet, rejectedCsv } = await runOnText(csv)
    const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex')
    expect(report.input.listings).toMatchObject({ bytes: Buffer.byteLength(csv), sha256: sha(csv) })
    expect(report.input.lookup).toMatchObject({
      bytes: Buffer.byteLength(LOOKUP_CSV),
      sha256: sha(LOOKUP_CSV),
    })
    expect(report.output.parquet).toMatchObject({
      bytes: parquet.byteLength,
      sha256: sha(parquet),
      row_groups: 1,
    })
    expect(report.output.rejected).toMatchObject({ rows: 2, sha256: sha(rejectedCsv) })
  })

  it('records the schema version, columns, timings and status', async () => {
    const { report } = await runOnText(`${LISTINGS_HEADER},extra\n`)
    expect(report.schema_version).toBe(1)
    expect(report.status).toBe('succeeded')
    expect(report.input.listings.ignored_columns).toEqual(['extra'])
    expect(report.timings_ms.total).toBeGreaterThanOrEqual(0)
    expect(Date.parse(report.finished_at)).toBeGreaterThanOrEqual(Date.parse(report.started_at))
  })

  it('reports zero ratios, not NaN, for a header-only file', async () => {
    const { report } = await runOnText(`${LISTINGS_HEADER}\n`)
    expect(report.ratios).toEqual({ rejected: 0, without_segment: 0 })
    expect(report.output.parquet.rows).toBe(0)
  })

  it('marks a run over a threshold as breached and its Parquet as unpublished', async () => {
    const { report } = await runOnText(csv, LOOKUP_CSV, { thresholds: { maxRejectedRatio: 0.3 } })
    expect(report.status).toBe('threshold_breached')
    expect(report.output.parquet.published).toBe(false)
    expect(report.thresholds.breaches).toEqual([
      { threshold: 'max_rejected_ratio', limit: 0.3, actual: 2 / 6 },
    ])
  })

  it('fails with an InputError when the listings change between passes (a run over its memory budget)', async () => {
    let reads = 0
    const listings = {
      name: 'moving.csv',
      async *open() {
        reads++
        yield Buffer.from(reads === 1 ? csv : csv.replace('Toys', 'Tops'))
      },
    }
    const run = ingest({
      listings,
      lookup: textSource('lookup.csv', LOOKUP_CSV),
      parquet: new MemorySink(),
      rejected: new MemorySink(),
      memoryBudgetBytes: 0,
    })
    await expect(run).rejects.toBeInstanceOf(InputError)
    await expect(run).rejects.toThrow('moving.csv: file changed while it was being read')
  })
})

describe('findBreaches', () => {
  it('breaches only when a ratio is strictly above its limit', () => {
    expect(findBreaches({ rejected: 0.1, without_segment: 0.5 }, { maxRejectedRatio: 0.1 })).toEqual([])
    expect(findBreaches({ rejected: 0.1000001, without_segment: 0 }, { maxRejectedRatio: 0.1 })).toHaveLength(
      1,
    )
    expect(findBreaches({ rejected: 0, without_segment: 0.01 }, { maxUnmatchedSegmentRatio: 0 })).toEqual([
      { threshold: 'max_unmatched_segment_ratio', limit: 0, actual: 0.01 },
    ])
  })

  it('has no limits unless set', () => {
    expect(findBreaches({ rejected: 1, without_segment: 1 }, {})).toEqual([])
  })
})

describe('ratio and topUnmatched', () => {
  it('divides safely', () => {
    expect(ratio(1, 4)).toBe(0.25)
    expect(ratio(0, 0)).toBe(0)
  })

  it('orders by rows, then name, and caps the list', () => {
    const counts = new Map([
      ['b', 2],
      ['a', 2],
      ['c', 5],
      ['d', 1],
    ])
    expect(topUnmatched(counts, 3)).toEqual([
      { category: 'c', rows: 5 },
      { category: 'a', rows: 2 },
      { category: 'b', rows: 2 },
    ])
  })
})

describe('thresholdsFrom', () => {
  it('keeps the limits that are set and drops the undefined ones', () => {
    expect(thresholdsFrom({ maxRejectedRatio: 0.1, maxUnmatchedSegmentRatio: undefined })).toEqual({
      maxRejectedRatio: 0.1,
    })
    expect(thresholdsFrom({ maxUnmatchedSegmentRatio: 0 })).toEqual({ maxUnmatchedSegmentRatio: 0 })
    expect(thresholdsFrom({})).toEqual({})
  })
})

describe('buildDqReport', () => {
  const zeroPerColumn = { date: 0, seller_id: 0, region: 0, category: 0, item_id: 0, price_gbp: 0 }
  const digest = (bytes: number) => ({ bytes, sha256: 'ab'.repeat(32) })
  const facts: RunFacts = {
    counts: {
      sourceRows: 10,
      validRows: 6,
      rejectedRows: 4,
      reasons: {
        too_many_fields: 1,
        missing_field: 0,
        invalid_encoding: 0,
        invalid_date: 2,
        non_numeric_price: 0,
        non_finite_price: 0,
        non_positive_price: 1,
      },
      missingFields: zeroPerColumn,
      invalidEncodingFields: zeroPerColumn,
    },
    parquet: { rows: 5, row_groups: 1, compression: 'SNAPPY' },
    parquetDigest: digest(900),
    rowsWithoutSegment: 1,
    rowsWithEmptySegment: 0,
    unmatched: new Map([['Garden', 1]]),
    rejectedDigest: digest(120),
    thresholds: { maxRejectedRatio: 0.5 },
    nullMarkers: ['NA'],
    listings: { name: 'listings.csv', digest: digest(500), columns: ['date'], ignoredColumns: [] },
    lookup: {
      name: 'lookup.csv',
      stats: {
        ...digest(40),
        rows: 3,
        categories: 3,
        ignored_empty_category: 0,
        repeated_categories: 0,
        ignored_columns: [],
      },
    },
    timings: { lookup: 1, classify: 2, write: 3, total: 6 },
    startedAt: new Date('2024-05-01T10:00:00.000Z'),
    finishedAt: new Date('2024-05-01T10:00:01.000Z'),
  }

  it('derives the bucket totals from the per-reason counts and the rejected ratio from them', () => {
    const report = buildDqReport(facts)
    expect(report).toMatchObject({
      dropped_missing_required: 3,
      dropped_non_positive_price: 1,
      duplicates_removed: 1,
      ratios: { rejected: 0.4, without_segment: 0.2 },
    })
  })

  it('lays the report out in its documented key order', () => {
    expect(Object.keys(buildDqReport(facts))).toEqual([
      'schema_version',
      'status',
      'source_rows',
      'valid_rows_after_clean',
      'rows_after_dedup',
      'dropped_missing_required',
      'dropped_non_positive_price',
      'duplicates_removed',
      'rows_without_segment',
      'rejected_rows',
      'reasons',
      'missing_fields',
      'invalid_encoding_fields',
      'ratios',
      'unmatched_category_count',
      'unmatched_categories',
      'rows_with_empty_segment',
      'thresholds',
      'null_markers',
      'input',
      'output',
      'timings_ms',
      'started_at',
      'finished_at',
    ])
  })

  it('withholds the Parquet when a threshold is breached', () => {
    const report = buildDqReport({ ...facts, thresholds: { maxUnmatchedSegmentRatio: 0.1 } })
    expect(report.status).toBe('threshold_breached')
    expect(report.output.parquet).toMatchObject({ rows: 5, bytes: 900, published: false })
    expect(report.thresholds).toEqual({
      max_rejected_ratio: null,
      max_unmatched_segment_ratio: 0.1,
      breaches: [{ threshold: 'max_unmatched_segment_ratio', limit: 0.1, actual: 0.2 }],
    })
  })
})

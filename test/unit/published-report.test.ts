import { describe, expect, it } from 'vitest'
import { breachReasons, publishedReport, runCounts } from '../../shared/src/published-report.js'
import { passAndBreach } from '../helpers/pass-and-breach.js'
import { LISTINGS_HEADER } from '../helpers/sources.js'

const LISTINGS = [
  LISTINGS_HEADER,
  '2024-01-01,S1,London,Electronics,A,10',
  '2024-01-01,S1,London,Garden,B,5',
  '2024-01-02,S2,Leeds,Fashion,C,0',
  '',
].join('\n')
const AT = { parquet: 'out/processed/data.parquet', rejected: 'out/rejected/rejected_rows.csv', live: null }
const PARQUET_FACTS = ['rows', 'row_groups', 'compression', 'bytes', 'sha256']

const runs = passAndBreach(LISTINGS)

describe('the published report', () => {
  it('names the Parquet a passed run published: published and path first, then its facts', () => {
    const { parquet } = publishedReport(runs.passed, AT).output
    expect(Object.keys(parquet)).toEqual(['published', 'path', ...PARQUET_FACTS])
    const { published: _, ...facts } = runs.passed.output.parquet
    expect(parquet).toEqual({ published: true, path: AT.parquet, ...facts })
  })

  it('after a breach names none of the withheld file, only the Parquet still live', () => {
    const live = 'out/.runs/earlier/processed/data.parquet'
    expect(publishedReport(runs.breached, { ...AT, live }).output.parquet).toEqual({ published: false, live })
    expect(publishedReport(runs.breached, AT).output.parquet).toEqual({ published: false, live: null })
  })

  it('states the live Parquet’s source version only when the adapter knows it', () => {
    const live = 's3://processed/listings/dt=2026-11-01/shop.parquet'
    const liveSourceVersion = { etag: 'e1', versionId: 'v1' }
    expect(publishedReport(runs.breached, { ...AT, live, liveSourceVersion }).output.parquet).toEqual({
      published: false,
      live,
      live_source_version: liveSourceVersion,
    })
    const none = publishedReport(runs.breached, { ...AT, liveSourceVersion: null }).output.parquet
    expect(none).toEqual({ published: false, live: null, live_source_version: null })
  })

  it('ignores where the live Parquet is when the run passed: its own Parquet is live', () => {
    const report = publishedReport(runs.passed, { ...AT, live: 'elsewhere.parquet', liveSourceVersion: null })
    expect(report.output.parquet).toMatchObject({ published: true, path: AT.parquet })
    expect(report.output.parquet).not.toHaveProperty('live')
  })

  it('names the run first when there is one, and carries no run_id when there is none', () => {
    expect(Object.keys(publishedReport(runs.passed, { ...AT, runId: 'r1' }).output)).toEqual([
      'run_id',
      'parquet',
      'rejected',
    ])
    expect(publishedReport(runs.passed, { ...AT, runId: 'r1' }).output.run_id).toBe('r1')
    expect(Object.keys(publishedReport(runs.passed, AT).output)).toEqual(['parquet', 'rejected'])
  })

  it('adds the rejects path to their facts', () => {
    expect(publishedReport(runs.breached, AT).output.rejected).toEqual({
      ...runs.breached.output.rejected,
      path: AT.rejected,
    })
  })

  it('keeps every other field of the report, in the same order', () => {
    const report = publishedReport(runs.breached, AT)
    expect(Object.keys(report)).toEqual(Object.keys(runs.breached))
    const { output: _, ...rest } = report
    const { output: __, ...original } = runs.breached
    expect(rest).toEqual(original)
  })
})

describe('runCounts', () => {
  it('picks the seven row counts a summary carries', () => {
    expect(runCounts(runs.passed)).toEqual({
      source_rows: 3,
      valid_rows_after_clean: 2,
      rows_after_dedup: 2,
      dropped_missing_required: 0,
      dropped_non_positive_price: 1,
      duplicates_removed: 0,
      rows_without_segment: 1,
    })
  })
})

describe('breachReasons', () => {
  it('writes each breach as threshold, actual to four decimals, > limit, joined by "; "', () => {
    expect(breachReasons(runs.breached.thresholds.breaches)).toBe('max_rejected_ratio 0.3333 > 0.1')
    expect(
      breachReasons([
        { threshold: 'max_rejected_ratio', actual: 0.0975, limit: 0.01 },
        { threshold: 'max_unmatched_segment_ratio', actual: 0.5, limit: 0 },
      ]),
    ).toBe('max_rejected_ratio 0.0975 > 0.01; max_unmatched_segment_ratio 0.5000 > 0')
  })

  it('is empty when nothing breached', () => {
    expect(breachReasons([])).toBe('')
  })
})

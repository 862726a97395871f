import { describe, expect, it } from 'vitest'
import { batchLine, type FileOutcome, summaryLines, worstExitCode, wrap } from '../../local/src/summary.js'
import type { PublishedReport } from '../../shared/src/published-report.js'
import { LISTINGS_HEADER, runOnText } from '../helpers/sources.js'

/**
 * Eight rows: two kept (one of them after a duplicate), one rejected for a
 * missing seller, one for a date, one for a price, and categories Garden (x2)
 * and Toys (empty segment in the lookup) without a segment.
 */
const LISTINGS = `${LISTINGS_HEADER}
2024-01-01,S1,London,Electronics,A,5
2024-01-01,,London,Electronics,B,5
2024-13-01,S1,London,Electronics,C,5
2024-01-01,S1,London,Electronics,D,-1
2024-01-01,S1,London,Garden,E,5
2024-01-01,S1,London,Garden,E,6
2024-01-01,S1,London,Garden,F,6
2024-01-01,S1,London,Toys,G,6
`

async function published(thresholds = {}): Promise<PublishedReport> {
  const { report } = await runOnText(LISTINGS, undefined, { thresholds })
  const breached = report.status === 'threshold_breached'
  return {
    ...report,
    timings_ms: { ...report.timings_ms, total: 1234 },
    output: {
      run_id: 'run',
      parquet: breached
        ? { published: false, live: null }
        : { ...report.output.parquet, published: true, path: 'out/processed/data.parquet' },
      rejected: { ...report.output.rejected, path: 'out/rejected/rejected_rows.csv' },
    },
  }
}

function outcome(report: PublishedReport): FileOutcome & { report: PublishedReport } {
  return { listings: 'in.csv', out: 'out', exitCode: 0, reportPath: 'out/dq_report.json', report }
}

describe('summaryLines: what a person at a terminal reads after a run', () => {
  it('rows read, written, rejected by bucket and reason, duplicates, segments, and where the files are', async () => {
    expect(summaryLines(outcome(await published()))).toEqual([
      'listings-ingest: in.csv: done in 1.2 s',
      '  8 rows read',
      '  4 written to out/processed/data.parquet',
      '  3 rejected, listed in out/rejected/rejected_rows.csv',
      '     2 dropped_missing_required: missing_field 1, invalid_date 1',
      '     1 dropped_non_positive_price: non_positive_price 1',
      '  1 duplicates removed (same date and item_id; the last is kept)',
      '  3 without a segment',
      '     2 in 1 category not in the lookup: "Garden" 2',
      '     1 with an empty segment in the lookup',
      '  report: out/dq_report.json',
    ])
  })

  it('after a breach: says so, and that the Parquet was not published', async () => {
    const lines = summaryLines(outcome(await published({ maxRejectedRatio: 0 })))
    expect(lines[0]).toBe('listings-ingest: in.csv: data-quality threshold breached (1.2 s)')
    expect(lines[2]).toBe('  4 kept, but not published: no Parquet is published')
  })

  it('says how long it took in milliseconds under a second', async () => {
    const report = await published()
    const quick = { ...report, timings_ms: { ...report.timings_ms, total: 85 } }
    expect(summaryLines(outcome(quick))[0]).toBe('listings-ingest: in.csv: done in 85 ms')
  })

  it('wraps to the terminal width, continuing under the line it belongs to', async () => {
    const lines = summaryLines(outcome(await published()), 40)
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(39)
    expect(lines).toContain('  3 rejected, listed in')
    expect(lines).toContain('      out/rejected/rejected_rows.csv')
  })
})

describe('wrap', () => {
  it('breaks at spaces; a word longer than the room stands alone', () => {
    expect(wrap('  one two three', 9)).toEqual(['  one two', '      three'])
    expect(wrap('short', 9)).toEqual(['short'])
    expect(wrap('  averyveryverylongword x', 9)).toEqual(['  averyveryverylongword', '      x'])
  })
})

describe('several files: the exit code is the worst of theirs', () => {
  it.each([
    [[0, 0], 0],
    [[0, 3], 3],
    [[3, 2, 0], 2],
    [[2, 1, 3], 1],
    [[1, 0], 1],
    [[], 0],
  ])('%j -> %d', (codes, worst) => {
    expect(worstExitCode(codes)).toBe(worst)
  })

  it('the closing line counts each way a file ended', () => {
    const ended = (exitCode: number): FileOutcome => ({ listings: 'x.csv', out: 'out/x', exitCode })
    expect(batchLine([ended(0), ended(3), ended(2), ended(1), ended(0)], 2, 1)).toBe(
      'listings-ingest: 7 files: 2 succeeded, 1 breached a data-quality threshold, 2 failed, 2 not attempted; exit code 1',
    )
    expect(batchLine([ended(0), ended(0)], 0, 0)).toBe('listings-ingest: 2 files: 2 succeeded; exit code 0')
  })
})

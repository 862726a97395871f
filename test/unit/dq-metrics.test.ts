import { describe, expect, it } from 'vitest'
import { DQ_METRICS, recordMetrics, rejectReasonMetric } from '../../lambdas/ingest/src/dq-metrics.js'
import { REJECT_REASONS } from '../../shared/src/contract.js'
import type { DqReport } from '../../shared/src/report.js'
import { passAndBreach } from '../helpers/pass-and-breach.js'
import { LISTINGS_HEADER } from '../helpers/sources.js'

const LISTINGS = [
  LISTINGS_HEADER,
  '2024-01-01,S1,London,Electronics,A,10',
  '2024-01-01,S1,London,Electronics,A,12',
  '2024-01-01,S1,London,Garden,B,5',
  '2024-01-02,S2,Leeds,Fashion,C,0',
  '2024-13-02,S2,Leeds,Fashion,D,3',
  '',
].join('\n')

/** Runs recordMetrics into a plain collector: metric name to [unit, value]. */
function recorded(report: DqReport): Map<string, [string, number]> {
  const metrics = new Map<string, [string, number]>()
  recordMetrics({ addMetric: (name, unit, value) => metrics.set(name, [unit, value]) }, report)
  return metrics
}

const runs = passAndBreach(LISTINGS)

describe('recordMetrics', () => {
  it('records every DQ metric in its unit, from the report', () => {
    const metrics = recorded(runs.passed)
    expect(Object.fromEntries([...metrics].filter(([name]) => !name.startsWith('Rejected_')))).toEqual({
      [DQ_METRICS.sourceRows.name]: ['Count', 5],
      [DQ_METRICS.validRows.name]: ['Count', 3],
      [DQ_METRICS.rowsWritten.name]: ['Count', 2],
      [DQ_METRICS.duplicatesRemoved.name]: ['Count', 1],
      [DQ_METRICS.droppedMissingRequired.name]: ['Count', 1],
      [DQ_METRICS.droppedNonPositivePrice.name]: ['Count', 1],
      [DQ_METRICS.rowsWithoutSegment.name]: ['Count', 1],
      [DQ_METRICS.rejectedPercent.name]: ['Percent', 40],
      [DQ_METRICS.withoutSegmentPercent.name]: ['Percent', 50],
      [DQ_METRICS.thresholdBreaches.name]: ['Count', 0],
      [DQ_METRICS.durationMs.name]: ['Milliseconds', runs.passed.timings_ms.total],
    })
  })

  it('records one count per rejection reason, zeros included', () => {
    const metrics = recorded(runs.passed)
    for (const reason of REJECT_REASONS) {
      expect(metrics.get(rejectReasonMetric(reason)), reason).toEqual(['Count', runs.passed.reasons[reason]])
    }
    expect(metrics.get('Rejected_invalid_date')).toEqual(['Count', 1])
  })

  it('records no rows written after a breach, which withholds the Parquet', () => {
    const metrics = recorded(runs.breached)
    expect(metrics.get(DQ_METRICS.rowsWritten.name)).toEqual(['Count', 0])
    expect(metrics.get(DQ_METRICS.thresholdBreaches.name)).toEqual(['Count', 1])
  })
})

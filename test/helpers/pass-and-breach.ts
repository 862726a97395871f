import { beforeAll } from 'vitest'
import type { DqReport } from '../../shared/src/report.js'
import { runOnText } from './sources.js'

/** The rejected share above which {@link passAndBreach}'s second run breaches. */
const BREACH_LIMIT = 0.1

/**
 * Two in-memory runs of the same listings (with the small lookup), made
 * before the calling file's tests: one with no limits, which passes, and one
 * whose rejected share must stay at or below {@link BREACH_LIMIT}, which
 * breaches when more rows than that were rejected. Call at a file's top level.
 */
export function passAndBreach(listingsCsv: string): { passed: DqReport; breached: DqReport } {
  const reports = {} as { passed: DqReport; breached: DqReport }
  beforeAll(async () => {
    reports.passed = (await runOnText(listingsCsv)).report
    const limited = { thresholds: { maxRejectedRatio: BREACH_LIMIT } }
    reports.breached = (await runOnText(listingsCsv, undefined, limited)).report
  })
  return reports
}

import { describe, expect, it } from 'vitest'
import {
  type Manifest,
  nextManifest,
  parseManifest,
  referencedKeys,
  reportLocations,
  staleKeys,
  wasProcessed,
} from '../../lambdas/ingest/src/live-version.js'
import { type OutputKeys, outputKeysFor, reportHtmlKey } from '../../lambdas/ingest/src/output-keys.js'
import { publishedReport } from '../../shared/src/published-report.js'
import type { DqReport } from '../../shared/src/report.js'

const KEY = 'incoming/shop.csv'
const keysOn = (day: string) => outputKeysFor(KEY, 'incoming/', new Date(`${day}T12:00:00Z`))
const version = (etag: string) => ({ bucket: 'raw', key: KEY, etag })
/** The report's HTML page on that day. */
const pageOn = (day: string) => reportHtmlKey(keysOn(day).report)
/** The report's `output` as the Lambda writes it (publish-outputs.ts). */
const reportOutput = (run: DqReport, keys: OutputKeys, bucket: string, manifest: Manifest) =>
  publishedReport(run, reportLocations(keys, bucket, manifest)).output

/** The parts of a report the manifest and the S3 report read. */
function report(status: DqReport['status'], rows: number, day: string): DqReport {
  return {
    status,
    finished_at: `${day}T12:00:05.000Z`,
    output: {
      parquet: {
        rows,
        row_groups: 1,
        compression: 'SNAPPY',
        bytes: 100 + rows,
        sha256: `hash-${rows}`,
        published: status === 'succeeded',
      },
      rejected: { bytes: 10, sha256: 'rejects-hash', rows: 0 },
    },
  } as DqReport
}

/** Runs a sequence of (version, day, outcome) through the manifest, collecting each step's stale keys. */
function history(steps: [etag: string, day: string, status: DqReport['status']][]) {
  let manifest: Manifest | undefined
  const deleted: string[][] = []
  for (const [etag, day, status] of steps) {
    const next = nextManifest(manifest, {
      source: version(etag),
      keys: keysOn(day),
      report: report(status, 2, day),
    })
    deleted.push(staleKeys(manifest, next))
    manifest = next
  }
  return { manifest: manifest as Manifest, deleted }
}

describe('the live-version rule', () => {
  it('keeps the last good version live across a breach on another day, and deletes nothing of it', () => {
    const { manifest, deleted } = history([
      ['v1', '2026-11-01', 'succeeded'],
      ['v2', '2026-11-02', 'threshold_breached'],
    ])
    const day1 = keysOn('2026-11-01')
    const day2 = keysOn('2026-11-02')
    expect(manifest.live).toMatchObject({
      source: { etag: 'v1' },
      parquet: day1.parquet,
      rejected: day1.rejected,
      report: day1.report,
      report_html: pageOn('2026-11-01'),
    })
    expect(manifest.last_attempt).toMatchObject({
      source: { etag: 'v2' },
      status: 'threshold_breached',
      report: day2.report,
      report_html: pageOn('2026-11-02'),
    })
    expect(deleted).toEqual([[], []])
  })

  it('marks the live rejects, report and page gone when a breach on the same day wrote over them', () => {
    const { manifest } = history([
      ['v1', '2026-11-01', 'succeeded'],
      ['v2', '2026-11-01', 'threshold_breached'],
    ])
    expect(manifest.live).toMatchObject({
      parquet: keysOn('2026-11-01').parquet,
      rejected: null,
      report: null,
      report_html: null,
    })
  })

  it('deletes the old live outputs and the breach’s once a good version replaces them', () => {
    const { manifest, deleted } = history([
      ['v1', '2026-11-01', 'succeeded'],
      ['v2', '2026-11-02', 'threshold_breached'],
      ['v3', '2026-11-03', 'succeeded'],
    ])
    const [day1, day2] = [keysOn('2026-11-01'), keysOn('2026-11-02')]
    expect(deleted[2]?.sort()).toEqual(
      [
        day1.parquet,
        day1.rejected,
        day1.report,
        pageOn('2026-11-01'),
        day2.rejected,
        day2.report,
        pageOn('2026-11-02'),
      ].sort(),
    )
    const day3 = keysOn('2026-11-03')
    expect(referencedKeys(manifest)).toEqual(
      new Set([day3.parquet, day3.rejected, day3.report, pageOn('2026-11-03')]),
    )
  })

  it('deletes an earlier breach’s outputs when another breach follows, keeping the live data', () => {
    const { manifest, deleted } = history([
      ['v1', '2026-11-01', 'succeeded'],
      ['v2', '2026-11-02', 'threshold_breached'],
      ['v3', '2026-11-03', 'threshold_breached'],
    ])
    const day2 = keysOn('2026-11-02')
    expect(deleted[2]?.sort()).toEqual([day2.rejected, day2.report, pageOn('2026-11-02')].sort())
    expect(manifest.live?.source.etag).toBe('v1')
  })

  it('reads a version-1 manifest as a live, succeeded version', () => {
    const keys = keysOn('2026-11-01')
    const v1 = { source: version('v1'), outputs: keys, processed_at: '2026-11-01T12:00:00.000Z' }
    expect(parseManifest(JSON.stringify(v1))).toMatchObject({
      live: { source: { etag: 'v1' }, parquet: keys.parquet, rows: null, sha256: null },
      last_attempt: { source: { etag: 'v1' }, status: 'succeeded' },
    })
    expect(parseManifest(JSON.stringify(v1))).toMatchObject({
      live: { report_html: null },
      last_attempt: { report_html: null },
    })
    expect(parseManifest('not json')).toBeUndefined()
    expect(parseManifest('{"hello":1}')).toBeUndefined()
  })

  it('reads a version-2 manifest from before report pages as having none, so none is deleted', () => {
    const { manifest } = history([['v1', '2026-11-01', 'succeeded']])
    const { report_html: _live, ...live } = manifest.live ?? {}
    const { report_html: _last, ...last_attempt } = manifest.last_attempt
    const older = parseManifest(JSON.stringify({ ...manifest, live, last_attempt })) as Manifest
    expect(older.live?.report_html).toBeNull()
    expect(older.last_attempt.report_html).toBeNull()
    const next = nextManifest(older, {
      source: version('v2'),
      keys: keysOn('2026-11-02'),
      report: report('succeeded', 2, '2026-11-02'),
    })
    const day1 = keysOn('2026-11-01')
    expect(staleKeys(older, next).sort()).toEqual([day1.parquet, day1.rejected, day1.report].sort())
  })
})

describe('the report’s output.parquet', () => {
  const keys = keysOn('2026-11-02')

  it('names the published Parquet with its path, size and hash', () => {
    const run = report('succeeded', 3, '2026-11-02')
    const manifest = nextManifest(undefined, { source: version('v2'), keys, report: run })
    expect(reportOutput(run, keys, 'processed', manifest).parquet).toEqual({
      published: true,
      path: `s3://processed/${keys.parquet}`,
      rows: 3,
      row_groups: 1,
      compression: 'SNAPPY',
      bytes: 103,
      sha256: 'hash-3',
    })
  })

  it('after a breach names no path, size or hash of the withheld file, only what is live', () => {
    const { manifest: before } = history([['v1', '2026-11-01', 'succeeded']])
    const run = report('threshold_breached', 3, '2026-11-02')
    const manifest = nextManifest(before, { source: version('v2'), keys, report: run })
    expect(reportOutput(run, keys, 'processed', manifest).parquet).toEqual({
      published: false,
      live: `s3://processed/${keysOn('2026-11-01').parquet}`,
      live_source_version: { etag: 'v1' },
    })
    const first = nextManifest(undefined, { source: version('v2'), keys, report: run })
    expect(reportOutput(run, keys, 'processed', first).parquet).toEqual({
      published: false,
      live: null,
      live_source_version: null,
    })
  })
})

describe('reportLocations', () => {
  it('gives the S3 URIs of this run’s outputs, and the live Parquet with its source version', () => {
    const { manifest: before } = history([['v1', '2026-11-01', 'succeeded']])
    const keys = keysOn('2026-11-02')
    const run = report('threshold_breached', 3, '2026-11-02')
    const manifest = nextManifest(before, {
      source: { ...version('v2'), versionId: 'x2' },
      keys,
      report: run,
    })
    expect(reportLocations(keys, 'processed', manifest)).toEqual({
      parquet: `s3://processed/${keys.parquet}`,
      rejected: `s3://processed/${keys.rejected}`,
      live: `s3://processed/${keysOn('2026-11-01').parquet}`,
      liveSourceVersion: { etag: 'v1' },
    })
  })
})

describe('wasProcessed', () => {
  it('is true only for the version whose last attempt succeeded', () => {
    const { manifest } = history([['v1', '2026-11-01', 'succeeded']])
    expect(wasProcessed(manifest, version('v1'))).toBe(true)
    expect(wasProcessed(manifest, version('v2'))).toBe(false)
    expect(wasProcessed(manifest, { ...version('v1'), versionId: 'other' })).toBe(false)
    expect(wasProcessed(undefined, version('v1'))).toBe(false)
  })

  it('is false after a breach, so a repeated event for it runs again', () => {
    const { manifest } = history([
      ['v1', '2026-11-01', 'succeeded'],
      ['v2', '2026-11-02', 'threshold_breached'],
    ])
    expect(wasProcessed(manifest, version('v2'))).toBe(false)
    expect(wasProcessed(manifest, version('v1'))).toBe(false)
  })
})

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { type PublishedReport, runCounts } from '../../shared/src/published-report.js'
import type { DqReport } from '../../shared/src/report.js'
import { cli, removeWorkspaces } from './run-cli.js'

afterAll(removeWorkspaces)

/*
 * One file's run through the built CLI (local/src/run-file.ts): its report
 * is assembled as the Lambda's is (shared/src/published-report.ts), key for
 * key, and its log line carries the counts of the Lambda's summary.
 */

describe('a CLI run on the sample', () => {
  const run = cli(['--json'])
  const printed = JSON.parse(run.stdout) as PublishedReport

  it('names the published Parquet in the documented key order, the Lambda’s', () => {
    expect(run.status, run.stderr).toBe(0)
    expect(JSON.parse(readFileSync(join(run.cwd, 'out/dq_report.json'), 'utf8'))).toEqual(printed)
    expect(Object.keys(printed.output)).toEqual(['run_id', 'parquet', 'rejected'])
    // docs/contract.md: `{ "published": true, "path": ..., "rows": ..., "bytes": ..., "sha256": ..., ... }`
    expect(Object.keys(printed.output.parquet)).toEqual([
      'published',
      'path',
      'rows',
      'row_groups',
      'compression',
      'bytes',
      'sha256',
    ])
  })

  it('logs the seven run counts the Lambda’s summary carries', () => {
    const last = JSON.parse(run.stderr.trim().split('\n').at(-1) as string)
    expect(last).toMatchObject({ message: 'ingest succeeded', ...runCounts(printed as unknown as DqReport) })
  })
})

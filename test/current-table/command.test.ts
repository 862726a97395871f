import { existsSync, readlinkSync, utimesSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { currentMain } from '../../local/src/current-command.js'
import { CURRENT_TABLE_PATH } from '../../local/src/current-table.js'
import { duckdb } from '../helpers/parquet-readers.js'
import { publish, removeScratch, scratchDir } from './helpers.js'

afterAll(removeScratch)
afterEach(() => {
  vi.restoreAllMocks()
})

/** Runs the command in-process, capturing what it prints. */
async function current(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk)
    return true
  })
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk)
    return true
  })
  const code = await currentMain(args)
  vi.restoreAllMocks()
  return { code, stdout, stderr }
}

describe('listings-current', () => {
  it('merges published runs into <out>/current.parquet, skipping a breach with its reason', async () => {
    const dir = scratchDir()
    const a = publish(dir, 'a', '2026-01-10T08:00:00.000Z', [
      ['2025-12-01', 'k1', 10],
      ['2026-01-02', 'k2', 20],
    ])
    const breach = publish(dir, 'b', '2026-01-11T08:00:00.000Z', [['2025-12-01', 'k1', 99]], {
      extra: ['2025-12-05,s,UK,Electronics,bad,-1'],
      args: ['--max-rejected-ratio', '0'],
      expectStatus: 3,
    })
    const out = join(dir, 'out')
    const result = await current(['--out', out, a, breach])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const summary = JSON.parse(result.stdout)
    expect(summary).toMatchObject({
      mode: 'merge',
      rows: 2,
      months: 2,
      merged: [{ changed: 2 }],
      skipped: [{ dir: breach, reason: expect.stringMatching(/no Parquet/) }],
    })
    expect(readlinkSync(join(out, CURRENT_TABLE_PATH))).toMatch(/^\.current-table\//)
    const rows = await duckdb(
      `SELECT item_id, price_gbp, listing_month FROM read_parquet('${join(out, CURRENT_TABLE_PATH)}/**/*.parquet', hive_partitioning = true) ORDER BY item_id`,
    )
    expect(rows).toEqual([
      { item_id: 'k1', price_gbp: 10, listing_month: '2025-12' },
      { item_id: 'k2', price_gbp: 20, listing_month: '2026-01' },
    ])
    expect(existsSync(join(out, '.lock'))).toBe(false)

    const again = await current(['--out', out, a])
    expect(JSON.parse(again.stdout)).toMatchObject({ merged: [{ changed: 0 }], rows: 2 })

    // --rebuild recomputes from the runs given only: a newer run given first still wins.
    const newer = publish(dir, 'c', '2026-01-12T08:00:00.000Z', [['2025-12-01', 'k1', 12]])
    const rebuilt = await current(['--out', out, '--rebuild', newer, a])
    expect(JSON.parse(rebuilt.stdout)).toMatchObject({ mode: 'rebuild', merged: [], rows: 2 })
    const prices = await duckdb(
      `SELECT item_id, price_gbp FROM read_parquet('${join(out, CURRENT_TABLE_PATH)}/**/*.parquet', hive_partitioning = true) ORDER BY item_id`,
    )
    expect(prices).toEqual([
      { item_id: 'k1', price_gbp: 12 },
      { item_id: 'k2', price_gbp: 20 },
    ])
  })

  it('bad arguments and unusable runs end with one line and exit 2', async () => {
    expect(await current([])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/RUN_DIR.*--help\)\n$/),
    })
    const missing = await current(['/nonexistent/run'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(
      /^listings-current: \/nonexistent\/run\/dq_report\.json: not a published output set/,
    )
    expect(missing.stderr.trimEnd().split('\n')).toHaveLength(1)

    const dir = scratchDir()
    const run = publish(dir, 'late', '2026-01-10T08:00:00.000Z', [['2025-12-01', 'k1', 10]])
    const later = new Date()
    utimesSync(join(dir, 'late.csv'), later, later)
    const changed = await current(['--out', join(dir, 'out'), run])
    expect(changed.code).toBe(2)
    expect(changed.stderr).toMatch(/late\.csv: the source changed after the run/)
  })

  it('--help explains the source order', async () => {
    const help = await current(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/Source order: the source file's modification time, then its path/)
  })
})

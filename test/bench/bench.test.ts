import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'

describe('npm run bench', () => {
  it('runs both tools in interleaved pairs on generated data and finds the same counts, rows and order (no timing asserted)', () => {
    const result = spawnSync(
      process.execPath,
      ['dist/bench.mjs', '--rows', '5000', '--seed', '11', '--repeat', '2'],
      {
        encoding: 'utf8',
        timeout: 120_000,
      },
    )
    expect(result.status, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/^\| 1 \| \d+\.\d\d \| \d+\.\d\d \| \d+\.\d\dx \|/m)
    expect(result.stdout).toMatch(/^\| 2 \| \d+\.\d\d \| \d+\.\d\d \| \d+\.\d\dx \|/m)
    expect(result.stdout).toMatch(/^\| ours \(CLI\) \|/m)
    expect(result.stdout).toMatch(/^\| DuckDB \(SQL\) \|/m)
    expect(result.stdout).toMatch(/^ratio ours\/DuckDB: wall \d+\.\d\dx \(median of 2 interleaved pair/m)
    expect(result.stdout).toMatch(/^load average \(1 min, \d+ cores\): \d+\.\d before/m)
    expect(result.stdout).toContain('counts equal: {"source_rows":5000,')
    expect(result.stdout).toContain('rows: 0 in only one output, 0 at different positions')
  })

  it('generates and checks the second data shape (longer ids, more distinct keys, fewer duplicates)', () => {
    const result = spawnSync(
      process.execPath,
      ['dist/bench.mjs', '--rows', '3000', '--seed', '11', '--shape', 'long-ids'],
      { encoding: 'utf8', timeout: 120_000 },
    )
    expect(result.status, result.stderr).toBe(0)
    expect(result.stderr).toContain('3,000 rows (long-ids)')
    expect(result.stdout).toContain('counts equal: {"source_rows":3000,')
    expect(result.stdout).toContain('rows: 0 in only one output, 0 at different positions')
  })

  it('refuses an unknown shape in one line', () => {
    const result = spawnSync(process.execPath, ['dist/bench.mjs', '--shape', 'wide'], { encoding: 'utf8' })
    expect(result.status).toBe(2)
    expect(result.stderr).toBe('bench: --shape must be one of sample, long-ids (see --help)\n')
  })
})

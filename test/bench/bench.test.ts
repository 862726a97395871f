import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'

describe('npm run bench', () => {
  it('runs both tools on generated data and finds the same counts, rows and order (no timing asserted)', () => {
    const result = spawnSync(process.execPath, ['dist/bench.mjs', '--rows', '5000', '--seed', '11'], {
      encoding: 'utf8',
      timeout: 120_000,
    })
    expect(result.status, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/^\| ours \(CLI\) \|/m)
    expect(result.stdout).toMatch(/^\| DuckDB \(SQL\) \|/m)
    expect(result.stdout).toMatch(/^ratio ours\/DuckDB: wall \d+\.\d\dx/m)
    expect(result.stdout).toContain('counts equal: {"source_rows":5000,')
    expect(result.stdout).toContain('rows: 0 in only one output, 0 at different positions')
  })
})

import { spawnSync } from 'node:child_process'
import { copyFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI, generatedListings, removeWorkspaces, workspace } from './run-cli.js'

afterAll(removeWorkspaces)

/** util-linux's script(1) runs a command under a pseudo-terminal, as a person at a terminal would. */
const hasScript = spawnSync('script', ['--version']).status === 0

/** What a terminal of `columns` columns shows for the CLI run with `args` in `dir`. */
function onTerminal(args: string[], dir: string, columns: number): { status: number | null; screen: string } {
  const quoted = [process.execPath, CLI, ...args].map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(' ')
  const result = spawnSync('script', ['-qfec', `stty cols ${columns} rows 40; ${quoted}`, '/dev/null'], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, TERM: 'xterm' },
  })
  return { status: result.status, screen: result.stdout }
}

/** Every line and every in-place redraw, without the erase-line sequence. */
function frames(screen: string): string[] {
  return screen
    .replaceAll('\x1b[2K', '')
    .split(/\r\n|\r|\n/)
    .filter((frame) => frame !== '')
}

let generated: string

beforeAll(() => {
  generated = generatedListings(60_000)
})

/**
 * A workspace holding large.csv (60,000 rows): long enough for several
 * progress redraws. Named by a short relative path: the summary wraps at
 * spaces and keeps a path whole, so only a path longer than the terminal is
 * wider than it.
 */
function largeWorkspace(): string {
  const dir = workspace()
  copyFileSync(generated, join(dir, 'large.csv'))
  return dir
}

describe.skipIf(!hasScript)('on a terminal (a pseudo-terminal under script(1))', () => {
  it('ends with a plain summary instead of a JSON line; no line is wider than the terminal', () => {
    const { status, screen } = onTerminal(['--listings', 'large.csv', '--out', 'o'], largeWorkspace(), 50)
    expect(status, screen).toBe(0)
    const shown = frames(screen)
    expect(shown.some((frame) => frame.startsWith('{'))).toBe(false)
    expect(shown.some((frame) => /^reading {2}\d+%/.test(frame))).toBe(true)
    expect(shown.some((frame) => /^writing Parquet {2}[\d,]+ rows written/.test(frame))).toBe(true)
    for (const frame of shown) expect(frame.length, frame).toBeLessThanOrEqual(49)
    const summary = shown.slice(shown.findIndex((frame) => frame.startsWith('listings-ingest: ')))
    expect(summary[0]).toMatch(/^listings-ingest: large\.csv: done in (\d+ ms|\d+\.\d s)$/)
    expect(summary[1]).toMatch(/^ {2}[\d,]+ rows read$/)
    expect(summary.join('\n')).toMatch(/written to o\/processed\/data\.parquet/)
    expect(summary.join('\n')).toMatch(/rejected, listed in\s+o\/rejected\/rejected_rows\.csv/)
    expect(summary.join('\n')).toMatch(/duplicates removed/)
    expect(summary.join('\n')).toMatch(/without a segment/)
    expect(summary.at(-1)).toBe('  report: o/dq_report.json')
  })

  it('a breach: the summary and the one breach line, no JSON', () => {
    const { status, screen } = onTerminal(['--max-rejected-ratio', '0', '--out', 'o'], workspace(), 80)
    expect(status).toBe(3)
    const shown = frames(screen)
    expect(shown.some((frame) => frame.startsWith('{'))).toBe(false)
    expect(
      shown.some((frame) =>
        /^listings-ingest: data\/listings\.csv: data-quality threshold breached \(/.test(frame),
      ),
    ).toBe(true)
    expect(shown.at(-1)).toMatch(
      /^listings-ingest: data-quality threshold breached \(max_rejected_ratio 0\.\d+ > 0\); this run's Parquet not published \(no Parquet is published\), see o\/dq_report\.json$/,
    )
  })

  it('--quiet shows nothing at all', () => {
    const { status, screen } = onTerminal(['--quiet', '--out', 'o'], workspace(), 80)
    expect(status).toBe(0)
    expect(screen).toBe('')
  })

  it('a bad input shows its one line and nothing else', () => {
    const { status, screen } = onTerminal(['--listings', 'missing.csv'], workspace(), 80)
    expect(status).toBe(2)
    expect(frames(screen)).toEqual(['listings-ingest: error: missing.csv: no such file or directory'])
  })

  it('several files: each its summary, then one closing line', () => {
    const { status, screen } = onTerminal(
      ['--listings', 'data/listings.csv', '--listings', 'large.csv', '--out', 'o'],
      largeWorkspace(),
      60,
    )
    expect(status, screen).toBe(0)
    const shown = frames(screen)
    for (const frame of shown) expect(frame.length, frame).toBeLessThanOrEqual(59)
    expect(shown.filter((frame) => /^listings-ingest: .*: done in/.test(frame))).toHaveLength(2)
    expect(shown.at(-1)).toBe('listings-ingest: 2 files: 2 succeeded; exit code 0')
    expect(shown.some((frame) => frame.startsWith('[2/2] large.csv reading'))).toBe(true)
  })
})

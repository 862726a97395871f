import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, describe, expect, it } from 'vitest'
import {
  cli,
  expectConsistent,
  leftovers,
  publishedSet,
  removeWorkspaces,
  startCli,
  workspace,
} from './run-cli.js'

afterAll(removeWorkspaces)

/**
 * A workspace with exports/ holding three daily files: the sample, the
 * sample gzipped, and its first 100 lines; plus notes.txt, which a folder
 * run ignores.
 */
function exportsWorkspace(): string {
  const dir = workspace()
  const sample = readFileSync(join(dir, 'data/listings.csv'))
  mkdirSync(join(dir, 'exports'))
  writeFileSync(join(dir, 'exports/day1.csv'), sample)
  writeFileSync(join(dir, 'exports/day2.csv.gz'), gzipSync(sample))
  writeFileSync(
    join(dir, 'exports/day3.csv'),
    `${sample.toString('utf8').split('\n').slice(0, 100).join('\n')}\n`,
  )
  writeFileSync(join(dir, 'exports/notes.txt'), 'not listings')
  return dir
}

function logLines(stderr: string): Record<string, unknown>[] {
  return stderr
    .trim()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line))
}

describe('several listings files in one run (issue 13 item 3)', () => {
  it('a folder: each .csv and .csv.gz file into out/<name>/, published like a single run', () => {
    const dir = exportsWorkspace()
    const run = cli(['--listings', 'exports'], dir)
    expect(run.status, run.stderr).toBe(0)
    expect(readdirSync(join(dir, 'out')).sort()).toEqual(['day1', 'day2', 'day3'])
    for (const name of ['day1', 'day2', 'day3']) {
      const out = join(dir, 'out', name)
      expectConsistent(publishedSet(out))
      expect(leftovers(out)).toEqual([])
    }
    // The gzipped copy gives the same Parquet as the plain file.
    expect(publishedSet(join(dir, 'out/day2')).parquetSha).toBe(
      publishedSet(join(dir, 'out/day1')).parquetSha,
    )
    const reports = ['day1', 'day3'].map((name) =>
      JSON.parse(readFileSync(join(dir, 'out', name, 'dq_report.json'), 'utf8')),
    )
    expect(reports[1].source_rows).toBeGreaterThan(0)
    expect(reports[0].source_rows).toBeGreaterThan(reports[1].source_rows)
    expect(reports[0].output.parquet.path).toBe('out/day1/processed/data.parquet')
  })

  it('one JSON line per file, then one for the whole run, when stderr is not a terminal', () => {
    const dir = exportsWorkspace()
    const run = cli(['--listings', 'exports'], dir)
    const lines = logLines(run.stderr)
    expect(lines.map((line) => [line.message, line.listings])).toEqual([
      ['ingest succeeded', 'exports/day1.csv'],
      ['ingest succeeded', 'exports/day2.csv.gz'],
      ['ingest succeeded', 'exports/day3.csv'],
      ['ingest of several files finished', undefined],
    ])
    expect(lines[3]).toMatchObject({
      files: 3,
      exit_code: 0,
      runs: [
        { listings: 'exports/day1.csv', out: 'out/day1', exit_code: 0 },
        { listings: 'exports/day2.csv.gz', out: 'out/day2', exit_code: 0 },
        { listings: 'exports/day3.csv', out: 'out/day3', exit_code: 0 },
      ],
    })
  })

  it('a quoted pattern, and --listings repeated, in the order given', () => {
    const dir = exportsWorkspace()
    const globbed = cli(['--quiet', '--listings', 'exports/day?.csv', '--out', 'globbed'], dir)
    expect(globbed.status, globbed.stderr).toBe(0)
    expect(readdirSync(join(dir, 'globbed')).sort()).toEqual(['day1', 'day3'])
    const repeated = cli(
      [
        '--listings',
        'exports/day3.csv',
        '--listings',
        'exports/day1.csv',
        '--out',
        'repeated',
        '--json',
        '--quiet',
      ],
      dir,
    )
    expect(repeated.status, repeated.stderr).toBe(0)
    const printed = JSON.parse(repeated.stdout)
    expect(
      printed.map((run: { listings: string; out: string; exit_code: number }) => [
        run.listings,
        run.out,
        run.exit_code,
      ]),
    ).toEqual([
      ['exports/day3.csv', 'repeated/day3', 0],
      ['exports/day1.csv', 'repeated/day1', 0],
    ])
    expect(printed[0].report.source_rows).toBeLessThan(printed[1].report.source_rows)
  })

  it('a failing file does not lose the others: theirs are published, the exit code is the worst', () => {
    const dir = exportsWorkspace()
    writeFileSync(join(dir, 'exports/day0.csv'), 'date;seller_id\n')
    const run = cli(['--listings', 'exports'], dir)
    expect(run.status).toBe(2)
    expect(run.stderr.split('\n').filter((line) => !line.startsWith('{'))).toEqual([
      'listings-ingest: error: exports/day0.csv: looks semicolon-separated (header: "date;seller_id"); the contract needs commas: export it again as comma-separated CSV',
      '',
    ])
    expect(existsSync(join(dir, 'out/day0'))).toBe(false)
    for (const name of ['day1', 'day2', 'day3']) expectConsistent(publishedSet(join(dir, 'out', name)))
    expect(logLines(run.stderr).at(-1)).toMatchObject({ exit_code: 2, files: 4 })
  })

  it('an unexpected failure in one file (1) outranks a breach in another (3)', () => {
    const dir = exportsWorkspace()
    // The injected fault fires once per process: in the first file's first pass.
    const run = cli(['--quiet', '--listings', 'exports', '--max-rejected-ratio', '0.05'], dir, {
      LISTINGS_INGEST_FAULT: 'classify:error',
    })
    expect(run.status).toBe(1)
    expect(run.stderr).toMatch(/^listings-ingest: unexpected error: injected fault at classify\n/)
    expect(run.stderr.match(/data-quality threshold breached/g)).toHaveLength(2)
    expect(existsSync(join(dir, 'out/day1/dq_report.json'))).toBe(false)
    expect(publishedSet(join(dir, 'out/day2')).report?.status).toBe('threshold_breached')
    expect(leftovers(join(dir, 'out/day1'))).toEqual([])
  })

  it('a lookup that cannot be used stops the run after the first file, with one line', () => {
    const dir = exportsWorkspace()
    writeFileSync(join(dir, 'lookup.csv'), 'category,segment\nToys,A\nToys,B\n')
    const run = cli(['--listings', 'exports', '--lookup', 'lookup.csv'], dir)
    expect(run.status).toBe(2)
    const plain = run.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('{'))
    expect(plain).toEqual([
      'listings-ingest: error: lookup.csv: category "Toys" has two different segments: "A" on line 2 and "B" on line 3',
    ])
    expect(logLines(run.stderr).at(-1)).toMatchObject({
      exit_code: 2,
      not_attempted: ['exports/day2.csv.gz', 'exports/day3.csv'],
    })
  })

  it('each output folder has its own lock: a run busy with one file does not block another folder', async () => {
    const dir = exportsWorkspace()
    const busy = startCli(['--quiet', '--listings', 'exports/day1.csv', '--out', 'out/day1'], dir, {
      LISTINGS_INGEST_FAULT: 'report:pause',
    })
    const deadline = Date.now() + 10_000
    while (!existsSync(join(dir, 'out/day1/.lock')) && Date.now() < deadline)
      await new Promise((wake) => setTimeout(wake, 20))
    const run = cli(['--quiet', '--listings', 'exports'], dir)
    expect(run.status).toBe(2)
    expect(run.stderr).toMatch(/^listings-ingest: error: out\/day1: another ingest run is writing here/)
    expectConsistent(publishedSet(join(dir, 'out/day2')))
    expect((await busy.done).status).toBe(0)
  })

  it('an interrupt after a file was published: that file stays published, no further file is started', () => {
    const dir = exportsWorkspace()
    // SIGTERM arrives in the first file's last step, after its commit: too late to undo that file.
    const run = cli(['--quiet', '--listings', 'exports'], dir, { LISTINGS_INGEST_FAULT: 'unlock:SIGTERM' })
    expect(run.status).toBe(143)
    expect(run.stderr).toBe('listings-ingest: interrupted\n')
    expectConsistent(publishedSet(join(dir, 'out/day1')))
    expect(leftovers(join(dir, 'out/day1'))).toEqual([])
    expect(readdirSync(join(dir, 'out'))).toEqual(['day1'])
  })
})

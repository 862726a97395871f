import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { contractCounts, modelIngest } from '../helpers/model.js'
import { duckdb, readWithDuckdb } from '../helpers/parquet-readers.js'
import {
  cli,
  expectOneLineError,
  HEADER,
  leftovers,
  ROOT,
  removeWorkspaces,
  workspace,
  write,
} from './run-cli.js'

afterAll(removeWorkspaces)

describe('npm run ingest with no flags', () => {
  it('processes the shipped sample into the three outputs under out/', () => {
    const run = cli([])
    expect(run.status, run.stderr).toBe(0)
    expect(run.stdout).toBe('')
    for (const path of [
      'out/processed/data.parquet',
      'out/dq_report.json',
      'out/rejected/rejected_rows.csv',
    ]) {
      expect(existsSync(join(run.cwd, path)), path).toBe(true)
    }
    expect(leftovers(join(run.cwd, 'out'))).toEqual([])
  })

  it('matches the independent model on the sample, read back with DuckDB', async () => {
    const run = cli([])
    const expected = modelIngest(
      readFileSync(join(ROOT, 'data/listings.csv'), 'utf8'),
      readFileSync(join(ROOT, 'data/category_lookup.csv'), 'utf8'),
    )
    const report = JSON.parse(readFileSync(join(run.cwd, 'out/dq_report.json'), 'utf8'))
    expect(report).toMatchObject(contractCounts(expected))
    const parquet = join(run.cwd, 'out/processed/data.parquet')
    expect(await readWithDuckdb(parquet)).toEqual(expected.rows)
    const codecs = await duckdb(`SELECT DISTINCT compression FROM parquet_metadata('${parquet}')`)
    expect(codecs).toEqual([{ compression: 'SNAPPY' }])
  })

  it('logs structured JSON lines on stderr', () => {
    const run = cli([])
    const lines = run.stderr.trim().split('\n')
    const last = JSON.parse(lines.at(-1) as string)
    expect(last).toMatchObject({ level: 'INFO', service: 'listings-ingest', message: 'ingest succeeded' })
    expect(last.source_rows).toBeGreaterThan(0)
  })

  it('runs through the documented npm script', () => {
    const out = join(workspace(), 'npm-out')
    const result = spawnSync('npm', ['run', '--silent', 'ingest', '--', '--out', out, '--quiet'], {
      cwd: ROOT,
      encoding: 'utf8',
    })
    expect(result.status, result.stderr).toBe(0)
    expect(existsSync(join(out, 'processed/data.parquet'))).toBe(true)
  })
})

describe('flags', () => {
  it('--help explains every flag and exits 0', () => {
    const run = cli(['--help'])
    expect(run.status).toBe(0)
    for (const flag of [
      '--listings',
      '--lookup',
      '--out',
      '--null-values',
      '--max-rejected-ratio',
      '--max-unmatched-segment-ratio',
      '--row-group-size',
      '--json',
      '--quiet',
      '--no-progress',
      '--version',
      '--help',
    ]) {
      expect(run.stdout).toContain(flag)
    }
  })

  it('--json prints the report on stdout', () => {
    const run = cli(['--json', '--quiet'])
    expect(run.status).toBe(0)
    const printed = JSON.parse(run.stdout)
    expect(printed).toEqual(JSON.parse(readFileSync(join(run.cwd, 'out/dq_report.json'), 'utf8')))
    expect(run.stderr).toBe('')
  })

  it('--null-values turns markers into missing values', () => {
    const dir = workspace()
    const listings = write(
      dir,
      'l.csv',
      `${HEADER}\n2024-01-01,S1,NA,Toys,A,5\n2024-01-01,S1,null,Toys,B,5\n`,
    )
    const plain = cli(['--listings', listings, '--json', '--quiet', '--out', join(dir, 'a')], dir)
    expect(JSON.parse(plain.stdout).dropped_missing_required).toBe(0)
    const marked = cli(
      ['--listings', listings, '--null-values', 'NA,null', '--json', '--quiet', '--out', join(dir, 'b')],
      dir,
    )
    expect(JSON.parse(marked.stdout)).toMatchObject({
      dropped_missing_required: 2,
      null_markers: ['NA', 'null'],
    })
  })

  it('--row-group-size sets the Parquet row groups', async () => {
    const run = cli(['--row-group-size', '100', '--quiet'])
    const report = JSON.parse(readFileSync(join(run.cwd, 'out/dq_report.json'), 'utf8'))
    expect(report.output.parquet.row_groups).toBe(Math.ceil(report.rows_after_dedup / 100))
  })

  it('--memory-budget 0 reads the file twice and publishes the same bytes as one pass', () => {
    const onePass = cli(['--quiet'])
    const twoPasses = cli(['--quiet', '--memory-budget', '0'])
    expect(twoPasses.status, twoPasses.stderr).toBe(0)
    for (const output of ['out/processed/data.parquet', 'out/rejected/rejected_rows.csv']) {
      expect(readFileSync(join(twoPasses.cwd, output)), output).toEqual(
        readFileSync(join(onePass.cwd, output)),
      )
    }
  })
})

describe('exit code 2: unusable input or arguments', () => {
  const cases: [string, (dir: string) => string[], RegExp][] = [
    [
      'a missing listings file',
      () => ['--listings', 'nope.csv'],
      /^listings-ingest: error: nope\.csv: no such file or directory$/,
    ],
    [
      'a folder with no CSV files as listings',
      (dir) => {
        mkdirSync(join(dir, 'empty'))
        return ['--listings', 'empty']
      },
      /^listings-ingest: error: empty: folder has no \.csv or \.csv\.gz files$/,
    ],
    [
      'a missing required column',
      (dir) => ['--listings', write(dir, 'l.csv', 'date,seller_id,region,category,item_id\n')],
      /l\.csv: missing required column price_gbp/,
    ],
    ['an empty listings file', (dir) => ['--listings', write(dir, 'e.csv', '')], /e\.csv: file is empty/],
    [
      'a conflicting lookup',
      (dir) => ['--lookup', write(dir, 'k.csv', 'category,segment\nToys,A\nToys,B\n')],
      /k\.csv: category "Toys" has two different segments/,
    ],
    [
      'malformed CSV',
      (dir) => ['--listings', write(dir, 'm.csv', `${HEADER}\n2024-01-01,"S1,x,y,z,1\n`)],
      /m\.csv: malformed CSV \(unclosed_quote\)/,
    ],
    ['an unknown flag', () => ['--colour'], /^listings-ingest: Unknown option '--colour'.*\(see --help\)$/],
    [
      'a ratio out of range',
      () => ['--max-rejected-ratio', '1.5'],
      /--max-rejected-ratio must be a number from 0 to 1/,
    ],
    ['a non-numeric ratio', () => ['--max-unmatched-segment-ratio', 'lots'], /must be a number from 0 to 1/],
    [
      'a bad row group size',
      () => ['--row-group-size', '0'],
      /--row-group-size must be a whole number from 1 to 1048576, got "0" \(see --help\)$/,
    ],
    [
      'a stray positional argument',
      () => ['data/listings.csv'],
      /^listings-ingest: unexpected argument 'data\/listings\.csv': to ingest several files repeat --listings, name a folder, or quote a pattern/,
    ],
  ]

  for (const [name, args, message] of cases) {
    it(`refuses ${name} with one clear line and no outputs`, () => {
      const dir = workspace()
      const run = cli(args(dir), dir)
      expect(run.status).toBe(2)
      expectOneLineError(run, message)
      expect(run.stdout).toBe('')
      expect(existsSync(join(dir, 'out/processed/data.parquet'))).toBe(false)
      expect(leftovers(join(dir, 'out'))).toEqual([])
    })
  }

  it('leaves an earlier published Parquet untouched', () => {
    const dir = workspace()
    mkdirSync(join(dir, 'out/processed'), { recursive: true })
    const earlier = write(dir, 'out/processed/data.parquet', 'earlier run')
    const run = cli(['--listings', write(dir, 'l.csv', 'date\n')], dir)
    expect(run.status).toBe(2)
    expect(readFileSync(earlier, 'utf8')).toBe('earlier run')
  })
})

describe('exit code 3: a data-quality threshold breached', () => {
  it('writes the report and rejects but withholds the Parquet', () => {
    const dir = workspace()
    mkdirSync(join(dir, 'out/processed'), { recursive: true })
    const earlier = write(dir, 'out/processed/data.parquet', 'earlier run')
    const run = cli(['--max-rejected-ratio', '0.01'], dir)
    expect(run.status).toBe(3)
    expect(run.stderr).toMatch(/data-quality threshold breached \(max_rejected_ratio 0\.\d+ > 0\.01\)/)
    expect(readFileSync(earlier, 'utf8')).toBe('earlier run')
    const report = JSON.parse(readFileSync(join(dir, 'out/dq_report.json'), 'utf8'))
    expect(report).toMatchObject({ status: 'threshold_breached' })
    // Nothing of this run's Parquet is described: only which Parquet readers still find.
    expect(report.output.parquet).toEqual({ published: false, live: 'out/processed/data.parquet' })
    const rejected = readFileSync(join(dir, 'out/rejected/rejected_rows.csv'), 'utf8').trim().split('\n')
    expect(rejected.length).toBeGreaterThan(report.rejected_rows)
    expect(leftovers(join(dir, 'out'))).toEqual([])
  })

  it('fails on the unmatched-segment ratio too', () => {
    const run = cli(['--max-unmatched-segment-ratio', '0'])
    expect(run.status).toBe(3)
    expect(existsSync(join(run.cwd, 'out/processed/data.parquet'))).toBe(false)
  })

  it('passes when the ratios are within the limits', () => {
    const run = cli(['--max-rejected-ratio', '0.5', '--max-unmatched-segment-ratio', '0.5'])
    expect(run.status).toBe(0)
  })
})

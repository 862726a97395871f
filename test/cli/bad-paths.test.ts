import { execFileSync } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  cli,
  expectOneLineError,
  leftovers,
  publishedSet,
  type Run,
  removeWorkspaces,
  workspace,
  write,
} from './run-cli.js'

afterAll(removeWorkspaces)

/** Exit 2, one line naming the path and the problem, nothing published, nothing left behind. */
function expectRefused(run: Run, message: RegExp, out = join(run.cwd, 'out')): void {
  expect(run.signal, 'the run ended by itself (no hang)').toBeNull()
  expect(run.status, run.stderr).toBe(2)
  expectOneLineError(run, message)
  expect(existsSync(join(out, 'processed/data.parquet'))).toBe(false)
  expect(leftovers(out)).toEqual([])
}

const LONG_NAME = 'n'.repeat(300)

describe('paths the output cannot be written to: exit 2 with one line, never a hang', () => {
  it('--out under /proc (where mkdir says ENOENT although the parent exists) ends at once', () => {
    const run = cli(['--out', '/proc/nope', '--quiet'])
    expectRefused(
      run,
      /^listings-ingest: error: \/proc\/nope: cannot create this directory \(.*\)$/,
      '/proc/nope',
    )
  })

  it('--out through a symlink loop', () => {
    const dir = workspace()
    symlinkSync('loop', join(dir, 'loop'))
    const run = cli(['--out', 'loop/out', '--quiet'], dir)
    expectRefused(
      run,
      /^listings-ingest: error: loop\/out: too many levels of symbolic links \(a symlink loop\?\)$/,
    )
  })

  it('--out with a 300-character name', () => {
    const run = cli(['--out', LONG_NAME, '--quiet'])
    expectRefused(run, new RegExp(`^listings-ingest: error: ${LONG_NAME}: file name too long$`))
  })

  it('--out longer than the system allows a path to be', () => {
    const long = Array.from({ length: 500 }, () => 'abcdefghij').join('/')
    const run = cli(['--out', long, '--quiet'])
    expectRefused(run, /^listings-ingest: error: abcdefghij\/.*: file name too long$/)
  })

  it('--out whose processed/ is a regular file', () => {
    const dir = workspace()
    mkdirSync(join(dir, 'out'))
    write(dir, 'out/processed', 'not a directory')
    const run = cli(['--quiet'], dir)
    expectRefused(run, /^listings-ingest: error: out\/processed: exists and is not a directory$/)
  })

  it('--out whose rejected_rows.csv is a directory: the earlier outputs stay as they were', () => {
    const dir = workspace()
    expect(cli(['--quiet'], dir).status).toBe(0)
    const before = publishedSet(join(dir, 'out'))
    mkdirSync(join(dir, 'blocker'))
    execFileSync('sh', ['-c', 'rm out/rejected/rejected_rows.csv && mkdir out/rejected/rejected_rows.csv'], {
      cwd: dir,
    })
    const run = cli(
      [
        '--quiet',
        '--listings',
        write(dir, 'l.csv', 'date,seller_id,region,category,item_id,price_gbp\n2024-01-01,S,R,Toys,I,5\n'),
      ],
      dir,
    )
    expect(run.status, run.stderr).toBe(2)
    expectOneLineError(
      run,
      /^listings-ingest: error: out\/rejected\/rejected_rows\.csv: is a directory; move it away so the run can publish here$/,
    )
    const after = publishedSet(join(dir, 'out'))
    expect(after.parquetSha).toBe(before.parquetSha)
    expect(after.report).toEqual(before.report)
    expect(leftovers(join(dir, 'out'))).toEqual([])
  })
})

describe('inputs that are not readable regular files: exit 2 with one line', () => {
  it('--listings through a symlink loop', () => {
    const dir = workspace()
    symlinkSync('loop.csv', join(dir, 'loop.csv'))
    expectRefused(
      cli(['--listings', 'loop.csv', '--quiet'], dir),
      /^listings-ingest: error: loop\.csv: too many levels of symbolic links \(a symlink loop\?\)$/,
    )
  })

  it('--listings with a 300-character name', () => {
    expectRefused(
      cli(['--listings', LONG_NAME, '--quiet']),
      new RegExp(`^listings-ingest: error: ${LONG_NAME}: file name too long$`),
    )
  })

  it('--lookup naming a directory', () => {
    expectRefused(
      cli(['--lookup', 'data', '--quiet']),
      /^listings-ingest: error: data: is a directory, not a file$/,
    )
  })

  it('--listings naming a FIFO ends at once, saying why (read twice) and what to do (save it to a file)', () => {
    const dir = workspace()
    execFileSync('mkfifo', [join(dir, 'pipe.csv')])
    expectRefused(
      cli(['--listings', 'pipe.csv', '--quiet'], dir),
      /^listings-ingest: error: pipe\.csv: is a pipe, which can be read only once, but the listings are read twice \(to check, then to write\): save the data to a file first and give its path$/,
    )
  })

  it('--lookup naming a FIFO: the lookup is read once per listings file', () => {
    const dir = workspace()
    execFileSync('mkfifo', [join(dir, 'lookup.csv')])
    expectRefused(
      cli(['--lookup', 'lookup.csv', '--quiet'], dir),
      /^listings-ingest: error: lookup\.csv: is a pipe, which can be read only once, but the lookup is read once for every listings file: save the data to a file first and give its path$/,
    )
  })

  it('--listings /dev/stdin works when stdin is a regular file and is refused when it is a pipe', async () => {
    const { spawnSync } = await import('node:child_process')
    const dir = workspace()
    const { CLI } = await import('./run-cli.js')
    const fromFile = openSync(join(dir, 'data/listings.csv'), 'r')
    try {
      const redirected = spawnSync(process.execPath, [CLI, '--listings', '/dev/stdin', '--quiet'], {
        cwd: dir,
        stdio: [fromFile, 'pipe', 'pipe'],
        encoding: 'utf8',
      })
      expect(redirected.status, redirected.stderr).toBe(0)
    } finally {
      closeSync(fromFile)
    }
    const piped = spawnSync(
      process.execPath,
      [CLI, '--listings', '/dev/stdin', '--quiet', '--out', 'piped'],
      {
        cwd: dir,
        input: readFileSync(join(dir, 'data/listings.csv')),
        encoding: 'utf8',
        timeout: 20_000,
      },
    )
    expectRefused(
      { status: piped.status, signal: piped.signal, stdout: piped.stdout, stderr: piped.stderr, cwd: dir },
      /^listings-ingest: error: \/dev\/stdin: is a (pipe|socket), which can be read only once, but the listings are read twice \(to check, then to write\): save the data to a file first and give its path$/,
      join(dir, 'piped'),
    )
  })

  it.skipIf(process.getuid?.() === 0)('--listings that cannot be read (not testable as root)', () => {
    const dir = workspace()
    const path = write(dir, 'secret.csv', 'date\n')
    execFileSync('chmod', ['000', path])
    expectRefused(
      cli(['--listings', 'secret.csv', '--quiet'], dir),
      /^listings-ingest: error: secret\.csv: permission denied$/,
    )
  })
})

describe('flag values that would exhaust memory or confuse the parser: exit 2 with one line', () => {
  it('--row-group-size beyond 1,048,576 rows, before any output is started', () => {
    expectRefused(
      cli(['--row-group-size', '2147483648']),
      /^listings-ingest: --row-group-size must be a whole number from 1 to 1048576, got "2147483648" \(see --help\)$/,
    )
  })

  it('--listings with no value', () => {
    expectRefused(cli(['--listings']), /^listings-ingest: --listings needs a value \(see --help\)$/)
    expectRefused(
      cli(['--listings', '--quiet']),
      /^listings-ingest: --listings needs a value \(see --help\)$/,
    )
  })
})

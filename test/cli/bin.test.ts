import { type SpawnSyncReturns, spawn, spawnSync } from 'node:child_process'
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs'
import { join, relative } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { leftovers, publishedSet, ROOT, removeWorkspaces, workspace } from './run-cli.js'

afterAll(removeWorkspaces)

const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string
const BIN = join(ROOT, 'bin/listings-ingest.mjs')

/** The environment without what an enclosing `npm test` sets, so each npm below starts afresh. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name) && name !== 'INIT_CWD'),
  )
}

function run(command: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, encoding: 'utf8', env: cleanEnv(), timeout: 60_000 })
}

/** `npx` or `npm` typed in `cwd`, a folder outside the clone, reaching the clone with `--prefix <clone>`. */
function againstClone(command: 'npx' | 'npm', args: string[], cwd: string): SpawnSyncReturns<string> {
  return run(command, ['--prefix', ROOT, ...args], cwd)
}

describe('the listings-ingest command (issue 13 item 1)', () => {
  it('npx listings-ingest --version works from a subfolder of the clone', () => {
    const result = run('npx', ['listings-ingest', '--version'], join(ROOT, 'docs'))
    expect(result.status, result.stderr).toBe(0)
    expect(result.stdout).toBe(`listings-ingest ${VERSION}\n`)
  })

  it('from a folder outside the clone (npx --prefix <clone>), paths are relative to that folder', () => {
    const dir = workspace()
    mkdirSync(join(dir, 'mine'))
    cpSync(join(dir, 'data/listings.csv'), join(dir, 'mine/listings.csv'))
    const result = againstClone(
      'npx',
      ['listings-ingest', '--listings', 'listings.csv', '--lookup', '../data/category_lookup.csv', '--quiet'],
      join(dir, 'mine'),
    )
    expect(result.status, result.stderr).toBe(0)
    const set = publishedSet(join(dir, 'mine/out'))
    expect(set.report?.output.parquet.path).toBe('out/processed/data.parquet')
    expect(existsSync(join(ROOT, 'mine'))).toBe(false)
  })

  it('npm run ingest from another folder: typed paths are relative to that folder, the defaults stay the sample', () => {
    const dir = workspace()
    cpSync(join(dir, 'data/listings.csv'), join(dir, 'mine.csv'))
    const typed = againstClone(
      'npm',
      ['run', '--silent', 'ingest', '--', '--listings', 'mine.csv', '--out', 'o', '--quiet'],
      dir,
    )
    expect(typed.status, typed.stderr).toBe(0)
    expect(publishedSet(join(dir, 'o')).report?.output.parquet.published).toBe(true)

    const defaults = againstClone(
      'npm',
      ['run', '--silent', 'ingest', '--', '--out', 'sample-out', '--json', '--quiet'],
      dir,
    )
    expect(defaults.status, defaults.stderr).toBe(0)
    const report = JSON.parse(defaults.stdout)
    // The repository's sample, named as seen from where the command was typed.
    expect(report.input.listings.name).toBe(relative(dir, join(ROOT, 'data/listings.csv')))
    expect(existsSync(join(dir, 'sample-out/dq_report.json'))).toBe(true)
  })

  it('with no --listings and no sample where it runs: exit 2, one line saying what to give', () => {
    const dir = workspace()
    const result = run(process.execPath, [BIN, '--out', 'o'], join(dir, 'data'))
    expect(result.status).toBe(2)
    expect(result.stderr).toBe(
      'listings-ingest: no --listings given, and no sample data/listings.csv here: name a file, a folder or a quoted pattern (see --help)\n',
    )
    const noLookup = run(process.execPath, [BIN, '--listings', 'listings.csv'], join(dir, 'data'))
    expect(noLookup.status).toBe(2)
    expect(noLookup.stderr).toBe(
      'listings-ingest: no --lookup given, and no sample data/category_lookup.csv here: name the category lookup CSV (see --help)\n',
    )
  })

  it('passes a signal on to the CLI and ends as it did: 143, one line, nothing left behind', async () => {
    const dir = workspace()
    const child = spawn(process.execPath, [BIN, '--quiet'], {
      cwd: dir,
      env: { ...cleanEnv(), LISTINGS_INGEST_FAULT: 'report:pause' },
    })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text
    })
    const ended = new Promise<number | null>((settle) => child.on('close', (code) => settle(code)))
    const deadline = Date.now() + 15_000
    while (!existsSync(join(dir, 'out/.lock')) && Date.now() < deadline)
      await new Promise((wake) => setTimeout(wake, 20))
    child.kill('SIGTERM')
    expect(await ended).toBe(143)
    expect(stderr).toBe('listings-ingest: interrupted\n')
    expect(leftovers(join(dir, 'out'))).toEqual([])
  })
})

describe('the launcher builds the CLI bundle only when it is missing or stale (issue 11)', () => {
  it('builds on first use, skips when the sources are unchanged, rebuilds when one changes', () => {
    // A copy of what the launcher needs, so the test can change a source without touching the clone.
    const copy = workspace()
    for (const path of [
      'bin',
      'local',
      'lambdas', // the CLI reads and writes s3:// through the Lambda's S3 module
      'shared',
      'scripts/build.mjs',
      'scripts/build-stamp.mjs',
      'package.json',
    ])
      cpSync(join(ROOT, path), join(copy, path), { recursive: true })
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'))
    const bundle = join(copy, 'dist/ingest.mjs')
    const version = () => run(process.execPath, [join(copy, 'bin/listings-ingest.mjs'), '--version'], copy)

    expect(existsSync(bundle)).toBe(false)
    expect(version().stdout).toBe(`listings-ingest ${VERSION}\n`)
    const built = statSync(bundle).mtimeMs
    const stamp = JSON.parse(readFileSync(join(copy, 'dist/.stamps/ingest.json'), 'utf8'))
    expect(Object.keys(stamp.inputs)).toEqual(
      expect.arrayContaining(['local/src/cli.ts', 'shared/src/input-format.ts', 'scripts/build.mjs']),
    )

    expect(version().status).toBe(0)
    expect(statSync(bundle).mtimeMs, 'unchanged sources: not rebuilt').toBe(built)

    appendFileSync(join(copy, 'local/src/cli.ts'), '\n// changed\n')
    expect(version().status).toBe(0)
    expect(statSync(bundle).mtimeMs, 'a changed source: rebuilt').toBeGreaterThan(built)

    // A source that does not compile: the existing build runs, with one line saying so...
    appendFileSync(join(copy, 'local/src/cli.ts'), '\nconst = broken\n')
    const stale = version()
    expect(stale.status).toBe(0)
    expect(stale.stdout).toBe(`listings-ingest ${VERSION}\n`)
    expect(stale.stderr).toMatch(
      /^listings-ingest: warning: the sources changed but rebuilding dist\/ingest\.mjs failed \(Build failed with 1 error.*\); running the existing build$/m,
    )
    // ...and without one, exit 1 and one line.
    rmSync(bundle)
    const none = version()
    expect(none.status).toBe(1)
    expect(none.stderr).toMatch(
      /^listings-ingest: cannot build dist\/ingest\.mjs: Build failed with 1 error/m,
    )
    expect(none.stderr).not.toMatch(/\n\s+at /)
  })
})

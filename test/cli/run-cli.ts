import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { expect } from 'vitest'

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '../..')
/** The built command, as `npm run ingest` runs it (INGEST_CLI_UNDER_TEST: another build, to show a test failing on an older one). */
export const CLI = process.env.INGEST_CLI_UNDER_TEST ?? join(ROOT, 'dist', 'ingest.mjs')
export const HEADER = 'date,seller_id,region,category,item_id,price_gbp'

/** How one finished run of the CLI ended. */
export interface Run {
  status: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  cwd: string
}

const scratch: string[] = []

/** A scratch directory holding a copy of the shipped sample data; removed by {@link removeWorkspaces}. */
export function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ingest-cli-'))
  scratch.push(dir)
  cpSync(join(ROOT, 'data'), join(dir, 'data'), { recursive: true })
  return dir
}

/** Removes every directory {@link workspace} made (call from afterAll). */
export function removeWorkspaces(): void {
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true })
}

/** A listings file of `rows` generated rows (scripts/generate-listings.mjs), `large.csv` in a new workspace. */
export function generatedListings(rows: number): string {
  const path = join(workspace(), 'large.csv')
  execFileSync(process.execPath, [
    join(ROOT, 'scripts/generate-listings.mjs'),
    '--rows',
    String(rows),
    '--out',
    path,
  ])
  return path
}

let template: string | undefined

/**
 * A workspace whose `out/` holds one published run of the sample. The run is
 * made once per test file and copied (symlinks as they are), which is faster
 * than running the CLI again for every test.
 */
export function publishedWorkspace(): string {
  if (template === undefined) {
    template = workspace()
    const run = cli(['--quiet'], template)
    if (run.status !== 0) throw new Error(`the first run failed: ${run.stderr}`)
  }
  const dir = mkdtempSync(join(tmpdir(), 'ingest-cli-'))
  scratch.push(dir)
  cpSync(template, dir, { recursive: true, verbatimSymlinks: true })
  return dir
}

/** Runs the CLI to completion. */
export function cli(args: string[], cwd = workspace(), env: Record<string, string> = {}): Run {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 20_000,
  })
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr, cwd }
}

/** Starts the CLI and resolves when it ends. */
export function startCli(
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): { child: ChildProcess; done: Promise<Run>; stderrSoFar: () => string } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, ...env } })
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (text: string) => {
    stdout += text
  })
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    stderr += text
  })
  const done = new Promise<Run>((settle) => {
    child.on('close', (status, signal) => settle({ status, signal, stdout, stderr, cwd }))
  })
  return { child, done, stderrSoFar: () => stderr }
}

export function write(dir: string, name: string, text: string | Buffer): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

/** Asserts the contract's error shape: exactly one line, no stack trace. */
export function expectOneLineError(run: Run, pattern: RegExp): void {
  const lines = run.stderr.trimEnd().split('\n')
  expect(lines, run.stderr).toHaveLength(1)
  expect(lines[0]).toMatch(pattern)
  expect(run.stderr).not.toMatch(/\n\s+at /)
}

/**
 * Anything a run leaves behind that is not a published output: temporary
 * files, run directories other than the published one, the lock.
 */
export function leftovers(out: string): string[] {
  if (!existsSync(out)) return []
  const names = readdirSync(out, { recursive: true, encoding: 'utf8' })
  const current = currentRun(out)
  return names.filter(
    (name) =>
      name.endsWith('.tmp') ||
      name.includes('.stale') ||
      name === '.lock' ||
      (/^\.runs\/[^/]+$/.test(name) && name !== current),
  )
}

/** Where `out/.current` points (`.runs/<id>`), if anywhere. */
export function currentRun(out: string): string | undefined {
  try {
    return readlinkSync(join(out, '.current'))
  } catch {
    return undefined
  }
}

/** The parts of dq_report.json these tests read. */
export interface PublishedReport {
  status: string
  input: { listings: { sha256: string } }
  output: {
    run_id: string
    parquet: { published: boolean; path?: string; sha256?: string; live?: string | null }
    rejected: { sha256: string; path: string }
  }
}

/** The three published outputs of `out`, as a reader sees them through their contract paths. */
export interface PublishedSet {
  /** The listings file's sha256 as the report records it: which run's report this is. */
  run: string | undefined
  report: PublishedReport | undefined
  parquetSha: string | undefined
  rejectedSha: string | undefined
}

function sha256(path: string): string | undefined {
  if (!existsSync(path)) return undefined
  if (statSync(path).isDirectory()) return 'a directory'
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}

/** Reads the published set under `out`. */
export function publishedSet(out: string): PublishedSet {
  const reportPath = join(out, 'dq_report.json')
  const report = existsSync(reportPath) ? JSON.parse(readFileSync(reportPath, 'utf8')) : undefined
  return {
    run: report?.input?.listings?.sha256,
    report,
    parquetSha: sha256(join(out, 'processed', 'data.parquet')),
    rejectedSha: sha256(join(out, 'rejected', 'rejected_rows.csv')),
  }
}

/**
 * Asserts that the published set is whole and from one run: the report's
 * checksums match the rejects and (when it says the Parquet was published)
 * the Parquet a reader finds.
 */
export function expectConsistent(set: PublishedSet): void {
  expect(set.report, 'a report is published').toBeDefined()
  expect(set.rejectedSha).toBe(set.report?.output.rejected.sha256)
  if (set.report?.output.parquet.published) expect(set.parquetSha).toBe(set.report.output.parquet.sha256)
}

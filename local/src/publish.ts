import { randomBytes } from 'node:crypto'
import {
  closeSync,
  copyFileSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
} from 'node:fs'
import { basename, dirname, join, relative } from 'node:path'
import { InputError } from '../../shared/src/index.js'
import { makeDirectories } from './directories.js'
import { OutputFile } from './files.js'
import { asInputError, errorCode } from './fs-errors.js'
import { isProcessAlive, LOCK_NAME, OutputLock } from './out-lock.js'

/*
 * How one run's three outputs are published as one unit.
 *
 *   out/.runs/<id>/processed/data.parquet    the run writes here, privately
 *   out/.runs/<id>/rejected/rejected_rows.csv
 *   out/.runs/<id>/dq_report.json
 *   out/.current -> .runs/<id>                the published run: one symlink
 *   out/processed/data.parquet -> ../.current/processed/data.parquet
 *   out/rejected/rejected_rows.csv -> ../.current/rejected/rejected_rows.csv
 *   out/dq_report.json -> .current/dq_report.json
 *
 * The contract's three paths are fixed symlinks through `.current`, so which
 * run they show changes in one step: a new `.current` symlink is made under a
 * temporary name and renamed over the old one, and rename(2) replaces a name
 * atomically. Before that rename every path shows the previous run, after it
 * every path shows the new one; a run killed at any point leaves one or the
 * other, never a mix. (Directories cannot be swapped this way: rename(2) will
 * not replace a non-empty directory, and `dq_report.json` sits beside them.)
 *
 * A reader that already opened a file keeps reading the run it opened, even
 * after the next run deletes that run directory (the data lives until the
 * file is closed). A reader that opens the three paths one after another
 * while a run commits can still get two runs; to read one run for certain,
 * resolve `out/.current` once and open the files under that directory, or
 * compare the report's sha256 with the files.
 *
 * A breach (exit 3) publishes its report and rejects with the Parquet that
 * was live before (hard-linked into the new run directory), so the Parquet
 * path keeps showing the last good data and the report says so.
 *
 * Earlier versions wrote the three paths as plain files. The first run here
 * adopts them into a run directory of their own (hard links, so readers see
 * the same bytes throughout) before turning the paths into symlinks.
 */

/** Where each output is published, relative to `--out` (the contract's names). */
export const PUBLISHED = {
  parquet: join('processed', 'data.parquet'),
  rejected: join('rejected', 'rejected_rows.csv'),
  report: 'dq_report.json',
  /** The same report as a page for people (shared/src/report-html.ts). */
  page: 'dq_report.html',
} as const

/** One of the three outputs. */
export type OutputName = keyof typeof PUBLISHED

const OUTPUT_NAMES = Object.keys(PUBLISHED) as OutputName[]
const RUNS = '.runs'
const CURRENT = '.current'

/** The published paths under `out`. */
export function publishedPaths(out: string): Record<OutputName, string> {
  return {
    parquet: join(out, PUBLISHED.parquet),
    rejected: join(out, PUBLISHED.rejected),
    report: join(out, PUBLISHED.report),
    page: join(out, PUBLISHED.page),
  }
}

/**
 * The points at which a test can inject a fault, in the order a run reaches
 * them: the two passes, then each publish step (the fault fires before the step).
 */
export const FAULT_POINTS = [
  'classify',
  'write',
  'report',
  'adopt',
  'carry',
  'sync',
  'link',
  'commit',
  'cleanup',
  'unlock',
] as const
export type FaultPoint = (typeof FAULT_POINTS)[number]

const FAULT_ACTIONS = ['error', 'crash', 'pause', 'SIGINT', 'SIGTERM', 'SIGHUP'] as const

/**
 * Test-only: `LISTINGS_INGEST_FAULT=<point>:<action>` makes the run fail at
 * that point. `error` throws, `crash` kills the process with SIGKILL, a signal
 * name sends that signal to the process, `pause` waits two seconds (holding
 * the lock). Read here and nowhere else; unset in normal use, and then every
 * fault point is a no-op.
 */
const injected = parseFault(process.env.LISTINGS_INGEST_FAULT)
const fired = new Set<FaultPoint>()

function parseFault(text: string | undefined) {
  if (text === undefined || text === '') return undefined
  const [point, action] = text.split(':') as [FaultPoint, (typeof FAULT_ACTIONS)[number]]
  if (!FAULT_POINTS.includes(point) || !FAULT_ACTIONS.includes(action)) {
    throw new Error(`LISTINGS_INGEST_FAULT must be <point>:<action>, got ${JSON.stringify(text)}`)
  }
  return { point, action }
}

/**
 * Fires the injected fault if it is set for `point` (once per run). Returns
 * a promise to await when the fault needs time to take effect (a signal's
 * handler runs on a later turn of the event loop), else undefined.
 */
export function faultAt(point: FaultPoint): Promise<void> | undefined {
  if (injected?.point !== point || fired.has(point)) return undefined
  fired.add(point)
  switch (injected.action) {
    case 'error':
      throw new Error(`injected fault at ${point}`)
    case 'crash':
      process.kill(process.pid, 'SIGKILL')
      return sleep(10_000)
    case 'pause':
      return sleep(2_000)
    default:
      // The handler runs on the next turn of the event loop, well within this wait.
      process.kill(process.pid, injected.action)
      return sleep(1_000)
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((wake) => setTimeout(wake, ms))
}

/** A new run's id: sortable by start time (UTC, to the second), then pid and a random suffix. */
export function newRunId(): string {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
  return `${stamp}-${process.pid}-${randomBytes(3).toString('hex')}`
}

/**
 * The outputs of one run: its lock on `--out`, its private run directory
 * and the three files in it, and the publish that makes them visible.
 *
 * Everything that changes what a reader of `--out` sees is synchronous, so a
 * signal handler (which runs between turns of the event loop) always finds
 * the run in a known state and {@link RunOutputs.abandonSync} can undo it.
 */
export class RunOutputs {
  readonly out: string
  readonly runId: string
  readonly files: Record<OutputName, OutputFile>
  readonly #lock: OutputLock
  readonly #runDir: string
  #committed = false
  #finished = false

  private constructor(out: string, runId: string, lock: OutputLock) {
    this.out = out
    this.runId = runId
    this.#lock = lock
    this.#runDir = join(out, RUNS, runId)
    try {
      mkdirSync(join(this.#runDir, 'processed'), { recursive: true })
      mkdirSync(join(this.#runDir, 'rejected'), { recursive: true })
      const files = {} as Record<OutputName, OutputFile>
      for (const name of OUTPUT_NAMES)
        files[name] = OutputFile.createSync(join(this.#runDir, PUBLISHED[name]))
      this.files = files
    } catch (error) {
      this.abandonSync()
      throw asInputError(this.#runDir, error)
    }
  }

  /**
   * Prepares `out` for a run: creates it, checks that nothing stands where
   * an output is published, takes the lock, clears what killed runs left
   * behind, and creates this run's directory and files.
   *
   * @param out - `--out` as the user gave it
   * @param onCreated - called as soon as there is something to clean up, so a signal handler can
   * @throws {InputError} when `out` is unusable or another run holds it
   */
  static openSync(out: string, onCreated: (outputs: RunOutputs) => void): RunOutputs {
    // --out first, so that a problem with it is reported against the path the user gave.
    makeDirectories(out)
    for (const name of OUTPUT_NAMES) makeDirectories(dirname(join(out, PUBLISHED[name])))
    checkPublishable(out)
    const runId = newRunId()
    const lock = OutputLock.acquireSync(out, runId)
    try {
      removeStale(out)
    } catch (error) {
      lock.releaseSync()
      throw asInputError(out, error)
    }
    const outputs = new RunOutputs(out, runId, lock)
    onCreated(outputs)
    return outputs
  }

  /** Whether this run's outputs are published (the commit's rename is done). */
  get committed(): boolean {
    return this.#committed
  }

  /** The published Parquet a reader finds now (from an earlier run), or null. */
  livePath(): string | null {
    const path = join(this.out, PUBLISHED.parquet)
    try {
      return statSync(path).isFile() ? path : null
    } catch {
      return null
    }
  }

  /**
   * Publishes the run: writes the report, then makes all three outputs
   * visible at once. Without `withParquet` (a breach) the Parquet that was
   * live stays live.
   *
   * @param report - the report's bytes
   * @param page - the report as an HTML page
   * @param withParquet - whether this run's Parquet is published
   * @returns undefined, or what went wrong tidying up after the outputs were published
   */
  async publish(report: Uint8Array, page: Uint8Array, withParquet: boolean): Promise<string | undefined> {
    await faultAt('report')
    await this.files.report.write(report)
    await this.files.page.write(page)
    for (const name of OUTPUT_NAMES) await this.files[name].finish()
    const runParquet = join(this.#runDir, PUBLISHED.parquet)
    if (!withParquet) unlinkSync(runParquet)

    await faultAt('adopt')
    adoptPlainOutputs(this.out)
    await faultAt('carry')
    if (!withParquet) carryLiveParquet(this.out, runParquet)
    await faultAt('sync')
    for (const dir of ['processed', 'rejected', '.', '..']) syncDirectory(join(this.#runDir, dir))
    await faultAt('link')
    linkPublishedPaths(this.out, this.runId)
    await faultAt('commit')
    pointSymlink(join(this.out, CURRENT), join(RUNS, this.runId), this.runId)
    this.#committed = true
    // Published: from here a failure must not fail the run (its outputs are live). What it
    // leaves (an older run directory, the lock of this dead process) the next run removes.
    let problem: unknown
    try {
      syncDirectory(this.out)
      await faultAt('cleanup')
      removeOtherRuns(this.out, this.runId)
    } catch (error) {
      problem = error
    }
    try {
      await faultAt('unlock')
      this.#lock.releaseSync()
    } catch (error) {
      problem ??= error
    }
    this.#finished = true
    return problem === undefined ? undefined : `${problem instanceof Error ? problem.message : problem}`
  }

  /**
   * Undoes an unfinished run: removes its run directory unless it was
   * published, and releases the lock. Safe to call at any point and more than once.
   */
  abandonSync(): void {
    if (this.#finished) return
    this.#finished = true
    for (const name of OUTPUT_NAMES) this.files?.[name]?.closeSync()
    if (!this.#committed)
      bestEffort(() => rmSync(this.#runDir, { recursive: true, force: true, maxRetries: 3 }))
    bestEffort(() => removeTemporaryLinks(this.out, this.runId))
    // Still under the lock: whatever is not published goes (an adoption cut short, older runs).
    bestEffort(() => removeStale(this.out))
    bestEffort(() => this.#lock.releaseSync())
  }
}

function bestEffort(step: () => void): void {
  try {
    step()
  } catch {
    // Cleaning up after a failure: what is left is removed by the next run.
  }
}

/** Refuses to start when a directory or special file stands where an output is published. */
function checkPublishable(out: string): void {
  for (const name of OUTPUT_NAMES) {
    const path = join(out, PUBLISHED[name])
    let info: ReturnType<typeof lstatSync>
    try {
      info = lstatSync(path)
    } catch (error) {
      if (errorCode(error) === 'ENOENT') continue
      throw asInputError(path, error)
    }
    if (info.isDirectory())
      throw new InputError(path, 'is a directory; move it away so the run can publish here')
    if (!info.isFile() && !info.isSymbolicLink())
      throw new InputError(path, 'is a special file; move it away so the run can publish here')
  }
}

/**
 * Removes what killed or failed runs left: run directories other than the
 * published one, temporary links, lock files moved aside, lock drafts of
 * processes that are gone, and the temporary files of earlier versions
 * (`.<name>.<pid>.<hex>.tmp`). Runs only under the lock: every temporary
 * name but a lock draft is made by the lock's holder, which is this run.
 */
function removeStale(out: string): void {
  const current = readCurrent(out)
  for (const entry of listDirectory(join(out, RUNS))) {
    if (entry !== current) rmSync(join(out, RUNS, entry), { recursive: true, force: true })
  }
  for (const dir of [out, join(out, 'processed'), join(out, 'rejected')]) {
    for (const entry of listDirectory(dir)) {
      const temporary = /^\..*[.-](\d+)[.-][0-9a-f]+\.(?:tmp|stale)$/.exec(entry)
      if (temporary === null) continue
      // A lock draft or a lock moved aside may belong to a run trying to take the lock right now.
      const isLockFile = entry.startsWith(`${LOCK_NAME}.`)
      if (isLockFile && isProcessAlive(Number(temporary[1]))) continue
      rmSync(join(dir, entry), { force: true })
    }
  }
}

/** The run directory name `.current` points to, if any. */
function readCurrent(out: string): string | undefined {
  try {
    return relative(RUNS, readlinkSync(join(out, CURRENT)))
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'EINVAL') return undefined
    throw error
  }
}

function listDirectory(dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return []
    throw error
  }
}

/**
 * Adopts outputs that an earlier version wrote as plain files: hard-links
 * them into a run directory of their own and makes it `.current`, so that
 * turning the paths into symlinks (next step) shows readers the same bytes.
 */
function adoptPlainOutputs(out: string): void {
  if (readCurrent(out) !== undefined) return
  const plain = OUTPUT_NAMES.filter((name) => {
    try {
      return lstatSync(join(out, PUBLISHED[name])).isFile()
    } catch {
      return false
    }
  })
  if (plain.length === 0) return
  const runId = `${newRunId()}-adopted`
  const runDir = join(out, RUNS, runId)
  mkdirSync(join(runDir, 'processed'), { recursive: true })
  mkdirSync(join(runDir, 'rejected'), { recursive: true })
  for (const name of plain) linkOrCopy(join(out, PUBLISHED[name]), join(runDir, PUBLISHED[name]))
  for (const dir of ['processed', 'rejected', '.', '..']) syncDirectory(join(runDir, dir))
  pointSymlink(join(out, CURRENT), join(RUNS, runId), runId)
  syncDirectory(out)
}

/** After a breach: the Parquet that was live goes into the new run directory too. */
function carryLiveParquet(out: string, runParquet: string): void {
  let live: string
  try {
    live = realpathSync(join(out, PUBLISHED.parquet))
  } catch {
    return // nothing was live
  }
  linkOrCopy(live, runParquet)
}

/** Hard-links `from` to `to` (no copy, same bytes); copies where links are not allowed. */
function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to)
  } catch (error) {
    if (!['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP'].includes(errorCode(error) ?? '')) throw error
    copyFileSync(from, to)
    const fd = openSync(to, 'r')
    try {
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  }
}

/** Flushes a directory's entries to disk, so a rename in it survives a power cut. */
function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r')
  try {
    fsyncSync(fd)
  } catch (error) {
    // Some file systems cannot fsync a directory; the rename is still atomic.
    if (errorCode(error) !== 'EINVAL' && errorCode(error) !== 'EISDIR') throw error
  } finally {
    closeSync(fd)
  }
}

/** Makes the three contract paths the fixed symlinks through `.current`, where they are not yet. */
function linkPublishedPaths(out: string, runId: string): void {
  for (const name of OUTPUT_NAMES) {
    const path = join(out, PUBLISHED[name])
    const target = relative(dirname(path), join(out, CURRENT, PUBLISHED[name]))
    let existing: string | undefined
    try {
      existing = readlinkSync(path)
    } catch {
      existing = undefined
    }
    if (existing !== target) pointSymlink(path, target, runId)
  }
}

/** Points the symlink `path` at `target`: made under a temporary name, then renamed over `path` (atomic). */
function pointSymlink(path: string, target: string, runId: string): void {
  const temporary = temporaryLink(path, runId)
  symlinkSync(target, temporary)
  try {
    renameSync(temporary, path)
  } catch (error) {
    rmSync(temporary, { force: true })
    throw asInputError(path, error)
  }
}

function temporaryLink(path: string, runId: string): string {
  return join(dirname(path), `.${basename(path)}.${runId}.tmp`)
}

function removeTemporaryLinks(out: string, runId: string): void {
  for (const path of [join(out, CURRENT), ...Object.values(publishedPaths(out))]) {
    rmSync(temporaryLink(path, runId), { force: true })
  }
}

/** Removes every run directory but the published one. */
function removeOtherRuns(out: string, runId: string): void {
  for (const entry of listDirectory(join(out, RUNS))) {
    if (entry !== runId) rmSync(join(out, RUNS, entry), { recursive: true, force: true })
  }
}

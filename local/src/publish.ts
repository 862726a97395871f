import { lstatSync, rmSync, statSync, unlinkSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { InputError } from '../../shared/src/index.js'
import { makeDirectories } from './directories.js'
import { faultAt } from './fault-injection.js'
import { OutputFile } from './files.js'
import { asInputError, errorCode } from './fs-errors.js'
import { OutputLock } from './out-lock.js'
import { OUTPUT_NAMES, type OutputName, PUBLISHED } from './published-paths.js'
import {
  adoptPlainOutputs,
  carryLiveParquet,
  linkPublishedPaths,
  makeRunDirectory,
  pointCurrentAt,
  removeTemporaryLinks,
  runDirectory,
  syncDirectory,
  syncRunDirectory,
} from './run-directories.js'
import { newRunId } from './run-id.js'
import { removeOtherRuns, removeStale } from './stale-runs.js'

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
    this.#runDir = runDirectory(out, runId)
    try {
      makeRunDirectory(this.#runDir)
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
    syncRunDirectory(this.#runDir)
    await faultAt('link')
    linkPublishedPaths(this.out, this.runId)
    await faultAt('commit')
    pointCurrentAt(this.out, this.runId)
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

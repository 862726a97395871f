import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { isProcessAlive, LOCK_NAME } from './out-lock.js'
import { listDirectory, RUNS, readCurrent } from './run-directories.js'

/**
 * Cleaning up `--out` after runs that were killed or failed, and after a
 * publish: what is not published goes. Runs only under the lock.
 */

/** A temporary name some run made (`.<name>.<pid or run id>.<hex>.tmp|stale`); group 1 is the pid. */
const TEMPORARY = /^\..*[.-](\d+)[.-][0-9a-f]+\.(?:tmp|stale)$/

/**
 * Removes what killed or failed runs left: run directories other than the
 * published one, temporary links, lock files moved aside, lock drafts of
 * processes that are gone, and the temporary files of earlier versions
 * (`.<name>.<pid>.<hex>.tmp`). Runs only under the lock: every temporary
 * name but a lock draft is made by the lock's holder, which is this run.
 */
export function removeStale(out: string): void {
  const current = readCurrent(out)
  for (const entry of listDirectory(join(out, RUNS))) {
    if (entry !== current) rmSync(join(out, RUNS, entry), { recursive: true, force: true })
  }
  for (const dir of [out, join(out, 'processed'), join(out, 'rejected')]) {
    for (const entry of listDirectory(dir)) {
      const temporary = TEMPORARY.exec(entry)
      if (temporary === null) continue
      // A lock draft or a lock moved aside may belong to a run trying to take the lock right now.
      const isLockFile = entry.startsWith(`${LOCK_NAME}.`)
      if (isLockFile && isProcessAlive(Number(temporary[1]))) continue
      rmSync(join(dir, entry), { force: true })
    }
  }
}

/** Removes every run directory but the published one, `runId`. */
export function removeOtherRuns(out: string, runId: string): void {
  for (const entry of listDirectory(join(out, RUNS))) {
    if (entry !== runId) rmSync(join(out, RUNS, entry), { recursive: true, force: true })
  }
}

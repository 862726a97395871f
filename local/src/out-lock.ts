import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { InputError } from '../../shared/src/index.js'
import { asInputError, errorCode } from './fs-errors.js'
import { type LockOwner, lockHeldError, lockOwnerOf, lockText, parseLockOwner } from './lock-owner.js'

/** The lock file's name inside `--out`. */
export const LOCK_NAME = '.lock'

/**
 * Lets one run at a time write to an output directory.
 *
 * The lock is the file `<out>/.lock` holding the owner's pid, host, start time
 * and run id. It is made complete under a temporary name and then hard-linked
 * to `.lock`: link(2) fails with EEXIST when the name is taken, exactly like
 * an O_EXCL create, and the lock never exists half written.
 *
 * A lock whose owner is gone is taken over: same host and `kill(pid, 0)`
 * answers ESRCH. The taker renames `.lock` to a name of its own (atomic, so
 * of two takers only one gets it), checks that what it moved is the stale lock
 * it judged, deletes it and tries again. A lock from another host, or from a
 * live pid, is respected: the run exits 2 and says who holds it (if the pid was
 * reused after a crash, delete the file by hand, as the message says).
 */
export class OutputLock {
  readonly path: string
  readonly owner: LockOwner
  #held = true

  private constructor(path: string, owner: LockOwner) {
    this.path = path
    this.owner = owner
  }

  /**
   * Takes the lock of `out`, or throws.
   *
   * @param out - the output directory, which exists
   * @param run - this run's id
   * @throws {InputError} when another live run holds the lock
   */
  static acquireSync(out: string, run: string): OutputLock {
    const path = join(out, LOCK_NAME)
    const owner = lockOwnerOf(run)
    const draft = join(out, `${LOCK_NAME}.${run}.tmp`)
    try {
      writeFileSync(draft, lockText(owner), { flag: 'wx' })
    } catch (error) {
      throw asInputError(draft, error)
    }
    try {
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          linkSync(draft, path)
          return new OutputLock(path, owner)
        } catch (error) {
          if (errorCode(error) !== 'EEXIST') throw asInputError(path, error)
        }
        const holder = readOwner(path)
        if (holder === 'gone') continue
        if (holder === 'unreadable' || isAlive(holder)) throw lockHeldError(out, path, holder)
        takeOverStale(path, holder, run)
      }
      throw new InputError(out, `could not take ${path}: other runs keep taking it`)
    } finally {
      unlinkSync(draft)
    }
  }

  /** Removes the lock, if this run still holds it. */
  releaseSync(): void {
    if (!this.#held) return
    this.#held = false
    const holder = readOwner(this.path)
    if (typeof holder === 'object' && holder.run === this.owner.run) unlinkSync(this.path)
  }
}

/** Whether a lock owner's process may still be running. */
export function isAlive(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return true // cannot tell: respect it
  return isProcessAlive(owner.pid)
}

/** Whether a process with this pid exists on this host (EPERM: it does, owned by someone else). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return errorCode(error) !== 'ESRCH'
  }
}

function readOwner(path: string): LockOwner | 'gone' | 'unreadable' {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return 'gone'
    throw asInputError(path, error)
  }
  return parseLockOwner(text) ?? 'unreadable'
}

/** Moves a stale lock aside and deletes it, unless someone replaced it meanwhile. */
function takeOverStale(path: string, stale: LockOwner, run: string): void {
  const aside = `${path}.${run}.stale`
  try {
    renameSync(path, aside)
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return // another run took it over first: try again
    throw asInputError(path, error)
  }
  const moved = readOwner(aside)
  if (typeof moved === 'object' && moved.run !== stale.run) {
    // A live run's fresh lock was moved: put it back (link fails if yet another run got in).
    try {
      linkSync(aside, path)
    } catch {
      // That run keeps its claim through the newer lock.
    }
    unlinkSync(aside)
    throw lockHeldError(dirnameOf(path), path, moved)
  }
  unlinkSync(aside)
}

function dirnameOf(lockPath: string): string {
  return lockPath.slice(0, -LOCK_NAME.length - 1) || '.'
}

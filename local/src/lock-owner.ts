import { hostname } from 'node:os'
import { InputError } from '../../shared/src/index.js'

/**
 * Who holds an output lock, for both layouts: the local `<out>/.lock` file
 * (out-lock.ts) and the S3 `<prefix>.lock` object (s3-lock.ts) hold the same
 * JSON document, and a run refused by either names the holder in the same words.
 */

/** The contents of a lock: the holder's pid, host, start time and run id. */
export interface LockOwner {
  pid: number
  host: string
  started_at: string
  run: string
}

/** The lock document for this process, taking the lock for run `run`. */
export function lockOwnerOf(run: string): LockOwner {
  return { pid: process.pid, host: hostname(), started_at: new Date().toISOString(), run }
}

/** The lock document as written: one JSON line. */
export function lockText(owner: LockOwner): string {
  return `${JSON.stringify(owner)}\n`
}

/**
 * Reads a lock document.
 *
 * @returns the owner, or undefined when the text is not a lock this version writes
 *   (not JSON, or without a safe-integer pid, a host and a run id)
 */
export function parseLockOwner(text: string): LockOwner | undefined {
  let value: Partial<LockOwner> | null
  try {
    value = JSON.parse(text) as Partial<LockOwner> | null
  } catch {
    return undefined
  }
  if (
    typeof value === 'object' &&
    value !== null &&
    Number.isSafeInteger(value.pid) &&
    typeof value.host === 'string' &&
    typeof value.run === 'string'
  )
    return value as LockOwner
  return undefined
}

/**
 * The error a run gets when another run holds the lock.
 *
 * @param where - the `--out` the user gave (a directory or an s3:// prefix)
 * @param lock - the lock's path or URI, which the user may delete if its run is gone
 * @param holder - the owner read from the lock; 'unreadable' when it exists but is not a lock
 *   document; undefined when it was not read (another run took it at the same moment)
 */
export function lockHeldError(
  where: string,
  lock: string,
  holder: LockOwner | 'unreadable' | undefined,
): InputError {
  const who =
    holder === undefined
      ? ''
      : holder === 'unreadable'
        ? ' (its lock file cannot be read)'
        : ` (pid ${holder.pid} on ${holder.host}, started ${holder.started_at})`
  return new InputError(
    where,
    `another ingest run is writing here${who}; wait for it to finish, or delete ${lock} if that run is gone`,
  )
}

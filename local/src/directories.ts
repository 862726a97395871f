import { mkdirSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { InputError } from '../../shared/src/index.js'
import { asInputError, errorCode } from './fs-errors.js'

/**
 * Creates `path` and any missing parents, like `mkdir -p`, with an error that
 * names the path for every way it can fail.
 *
 * Node's `mkdir(path, { recursive: true })` is not used because it never
 * returns on some paths (Node 20, 22 and 24): it reads ENOENT as "the parent is
 * missing", creates the parent (which exists, so that succeeds), and retries
 * the child for ever. procfs answers ENOENT for any new name (`/proc/nope`), and
 * so does a parent that is a dangling symlink. Here each directory is created
 * once, from the deepest existing ancestor down, so ENOENT after the parent is
 * known to exist is final.
 *
 * Synchronous on purpose: it runs before any work starts, and a signal handler
 * then never sees a directory half made.
 *
 * @param path - the directory, as the user gave it (errors name it so)
 * @throws {InputError} when a path component is not a directory, cannot be created, or is unusable
 */
export function makeDirectories(path: string): void {
  const missing: string[] = []
  for (let current = path; ; current = dirname(current)) {
    if (existingDirectory(current)) break
    missing.unshift(current)
    if (dirname(current) === current) break
  }
  for (const directory of missing) makeOne(directory)
}

/** Whether `path` is a directory; false when nothing is there yet. */
function existingDirectory(path: string): boolean {
  try {
    if (statSync(path).isDirectory()) return true
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false
    throw asInputError(path, error)
  }
  throw new InputError(path, 'exists and is not a directory')
}

function makeOne(directory: string): void {
  try {
    mkdirSync(directory)
  } catch (error) {
    const code = errorCode(error)
    if (code === 'EEXIST') {
      // Made by someone else meanwhile, or a name that is not a directory.
      let isDirectory: boolean
      try {
        isDirectory = statSync(directory).isDirectory()
      } catch {
        throw new InputError(directory, 'is a symlink to nothing')
      }
      if (isDirectory) return
      throw new InputError(directory, 'exists and is not a directory')
    }
    if (code === 'ENOENT') {
      throw new InputError(
        directory,
        'cannot create this directory (its parent exists but refuses new entries, as /proc does)',
      )
    }
    throw asInputError(directory, error)
  }
}

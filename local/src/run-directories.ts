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
  symlinkSync,
} from 'node:fs'
import { basename, dirname, join, relative } from 'node:path'
import { asInputError, errorCode } from './fs-errors.js'
import { OUTPUT_NAMES, PUBLISHED, publishedPaths } from './published-paths.js'
import { newRunId } from './run-id.js'

/**
 * The file-system steps of a local publish (the order and the reasons are in
 * publish.ts): each run's private directory `out/.runs/<id>`, the symlink
 * `out/.current` that makes one of them the published run, and the fixed
 * symlinks at the contract's paths through it. Every step that changes what
 * a reader sees is one rename(2) of a symlink made under a temporary name.
 */

/** The folder under `--out` holding one directory per run. */
export const RUNS = '.runs'
/** The symlink under `--out` naming the published run directory. */
const CURRENT = '.current'

/** The directory of run `runId` under `out`. */
export function runDirectory(out: string, runId: string): string {
  return join(out, RUNS, runId)
}

/** Creates a run directory with the folders its outputs go in. */
export function makeRunDirectory(runDir: string): void {
  mkdirSync(join(runDir, 'processed'), { recursive: true })
  mkdirSync(join(runDir, 'rejected'), { recursive: true })
}

/** Flushes a run directory's entries and its own entry in `.runs` to disk. */
export function syncRunDirectory(runDir: string): void {
  for (const dir of ['processed', 'rejected', '.', '..']) syncDirectory(join(runDir, dir))
}

/** The run directory name `.current` points to, if any. */
export function readCurrent(out: string): string | undefined {
  try {
    return relative(RUNS, readlinkSync(join(out, CURRENT)))
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'EINVAL') return undefined
    throw error
  }
}

/** The entries of `dir`, or none when it does not exist. */
export function listDirectory(dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return []
    throw error
  }
}

/** Makes run `runId` the published one: `.current` swapped to it in one rename (the commit). */
export function pointCurrentAt(out: string, runId: string): void {
  pointSymlink(join(out, CURRENT), join(RUNS, runId), runId)
}

/**
 * Adopts outputs that an earlier version wrote as plain files: hard-links
 * them into a run directory of their own and makes it `.current`, so that
 * turning the paths into symlinks (next step) shows readers the same bytes.
 */
export function adoptPlainOutputs(out: string): void {
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
  const runDir = runDirectory(out, runId)
  makeRunDirectory(runDir)
  for (const name of plain) linkOrCopy(join(out, PUBLISHED[name]), join(runDir, PUBLISHED[name]))
  syncRunDirectory(runDir)
  pointCurrentAt(out, runId)
  syncDirectory(out)
}

/** After a breach: the Parquet that was live goes into the new run directory too. */
export function carryLiveParquet(out: string, runParquet: string): void {
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
export function syncDirectory(dir: string): void {
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

/** Makes the contract paths the fixed symlinks through `.current`, where they are not yet. */
export function linkPublishedPaths(out: string, runId: string): void {
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

/** Removes the temporary links run `runId` may have left (killed between symlink and rename). */
export function removeTemporaryLinks(out: string, runId: string): void {
  for (const path of [join(out, CURRENT), ...Object.values(publishedPaths(out))]) {
    rmSync(temporaryLink(path, runId), { force: true })
  }
}

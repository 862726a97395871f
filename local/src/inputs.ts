import { readdirSync, realpathSync, statSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { isS3Uri } from '../../lambdas/ingest/src/s3-uri.js'
import { InputError } from '../../shared/src/index.js'
import { UsageError } from './args.js'
import { asInputError, errorCode } from './fs-errors.js'
import { parseS3Uri } from './s3-uri.js'

/** One listings file of a run, and where its outputs go. */
export interface ListingsInput {
  /** The file, as the user would recognise it (relative paths stay relative). */
  path: string
  /**
   * The folder under `--out` that receives this file's outputs, or undefined
   * when a run has one file given by name: its outputs are `--out` itself, as
   * the contract's paths say.
   */
  outputName: string | undefined
}

/** What a listings file's name may end with in a folder. */
const LISTINGS_FILE = /\.csv(?:\.gz)?$/i
/** Names an output folder must not take: the single-file layout's own entries. */
const RESERVED = new Set(['processed', 'rejected', 'dq_report.json'])
/** Longest output folder name (well within every file system's 255 bytes, with a suffix). */
const MAX_NAME = 80
const WILDCARD = /[*?]/

/**
 * Expands `--listings` values into the files to ingest.
 *
 * - A file is itself; a single file keeps the contract's layout (outputs in `--out`).
 * - A folder stands for its `*.csv` and `*.csv.gz` files (any case), in name order.
 * - `s3://bucket/key` is one object, like a file. A prefix or pattern on S3
 *   would need a bucket listing, which the CLI does not do: it is refused.
 * - A value with `*` or `?` in its last segment is a pattern (quote it so the
 *   shell leaves it alone): `*` matches any run of characters, `?` one
 *   character, within the file name only; hidden files match only a pattern
 *   that starts with a dot. Node 20 has no `fs.glob`, and this much needs none.
 *
 * The same file named twice (by two paths, or by a folder and a pattern) is
 * ingested once. With more than one file, or a folder or pattern, every file
 * gets its own folder under `--out`, named after the file (see {@link outputNames}).
 *
 * @param specs - the `--listings` values, as given
 * @throws {UsageError} for a wildcard outside the file name, or an `s3://` value that is not one object
 * @throws {InputError} for a folder or pattern that names no file
 */
export function expandListings(specs: readonly string[]): ListingsInput[] {
  const found: { path: string; single: boolean }[] = []
  for (const spec of specs) {
    const kind = kindOf(spec)
    if (kind === 'folder') found.push(...filesInFolder(spec).map((path) => ({ path, single: false })))
    else if (kind === 'pattern') found.push(...filesMatching(spec).map((path) => ({ path, single: false })))
    else found.push({ path: spec, single: true })
  }
  const seen = new Set<string>()
  const unique = found.filter(({ path }) => {
    const identity = realPath(path)
    if (seen.has(identity)) return false
    seen.add(identity)
    return true
  })
  if (unique.length === 1 && unique[0]?.single === true && specs.length === 1)
    return [{ path: unique[0].path, outputName: undefined }]
  const names = outputNames(unique.map(({ path }) => path))
  return unique.map(({ path }, i) => ({ path, outputName: names[i] }))
}

function kindOf(spec: string): 'file' | 'folder' | 'pattern' {
  if (isS3Uri(spec)) {
    parseS3Uri(spec, '--listings', 'object')
    return 'file'
  }
  try {
    return statSync(spec).isDirectory() ? 'folder' : 'file'
  } catch (error) {
    // A name that exists is taken literally, even with a * in it; any other problem is reported when read.
    if (errorCode(error) !== 'ENOENT') return 'file'
  }
  if (WILDCARD.test(dirname(spec)))
    throw new UsageError(
      `--listings ${spec}: wildcards (* ?) may only appear in the file name, not in folder names`,
    )
  return WILDCARD.test(basename(spec)) ? 'pattern' : 'file'
}

function filesInFolder(folder: string): string[] {
  const files = listFiles(folder, (name) => LISTINGS_FILE.test(name) && !name.startsWith('.'))
  if (files.length === 0) throw new InputError(folder, 'folder has no .csv or .csv.gz files')
  return files
}

function filesMatching(pattern: string): string[] {
  const matcher = patternMatcher(basename(pattern))
  const files = listFiles(dirname(pattern), matcher)
  if (files.length === 0) throw new InputError(pattern, 'no file matches this pattern')
  return files
}

/**
 * The entries of `folder` whose names pass `accept` and that are not folders,
 * sorted by name (code point order, the same on every machine and locale).
 * The folder's own path is kept as given (`.` adds no `./` prefix).
 */
function listFiles(folder: string, accept: (name: string) => boolean): string[] {
  let names: string[]
  try {
    names = readdirSync(folder)
  } catch (error) {
    throw asInputError(folder, error)
  }
  return names
    .filter(accept)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((name) => (folder === '.' ? name : join(folder, name)))
    .filter((path) => !isFolder(path))
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false // dangling or unreadable: kept, so reading it reports why
  }
}

/**
 * A test of file names against a pattern of literal text, `*` (any run of
 * characters) and `?` (one character). A leading dot must be matched by a
 * leading dot, as in the shell.
 */
export function patternMatcher(pattern: string): (name: string) => boolean {
  const source = [...pattern]
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[\\^$.|+(){}[\]]/g, '\\$&')))
    .join('')
  const regex = new RegExp(`^${source}$`, 'su')
  const hiddenAllowed = pattern.startsWith('.')
  return (name) => (hiddenAllowed || !name.startsWith('.')) && regex.test(name)
}

function realPath(path: string): string {
  try {
    return realpathSync(path)
  } catch {
    return path
  }
}

/**
 * A folder name under `--out` for each listings file: its file name without
 * `.csv`, `.csv.gz` or `.gz`; characters other than letters, digits, `.`,
 * `_` and `-` become `_`; no leading dot (a hidden folder, or `.runs`); at
 * most 80 characters; `listings` when nothing is left. Names are made unique
 * (ignoring case, for case-insensitive file systems) with `-2`, `-3`, ...,
 * and never take `processed`, `rejected` or `dq_report.json`, which a
 * single-file run publishes in the same `--out`.
 *
 * @param paths - the files, in run order
 */
export function outputNames(paths: readonly string[]): string[] {
  const taken = new Set([...RESERVED])
  return paths.map((path) => {
    const stem =
      basename(path)
        .replace(/\.csv\.gz$|\.csv$|\.gz$/i, '')
        .replace(/[^\p{L}\p{N}._-]+/gu, '_')
        .replace(/^[.]+/, '')
        .slice(0, MAX_NAME) || 'listings'
    let name = stem
    for (let n = 2; taken.has(name.toLowerCase()); n++) name = `${stem}-${n}`
    taken.add(name.toLowerCase())
    return name
  })
}

import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The package's name, as its package.json gives it; the command's name too. */
export const PACKAGE_NAME = 'listings-ingest'

/** The sample inputs and the output folder used when their flags are not given. */
export const DEFAULTS = {
  listings: join('data', 'listings.csv'),
  lookup: join('data', 'category_lookup.csv'),
  out: 'out',
} as const

/**
 * Where a run was started from, which decides what relative paths mean.
 *
 * `npm run ingest` runs the command in the repository root, whatever folder
 * the user typed it in; npm passes that folder as `INIT_CWD`. The paths a user
 * types are relative to the folder they stand in, so under `npm run ingest`
 * they are read against `INIT_CWD`, while the defaults (the sample in
 * `data/` and `out/`) stay the repository's, as the contract documents.
 * `npx listings-ingest` and a direct `node dist/ingest.mjs` already run in
 * the user's folder, and so do their defaults.
 */
export interface Invocation {
  /** The folder the user's relative paths are relative to. */
  callerDir: string
  /** The folder the default paths are relative to. */
  defaultsDir: string
}

/**
 * @param env - the process environment
 * @param cwd - the process's working folder
 */
export function invocationOf(env: NodeJS.ProcessEnv, cwd: string): Invocation {
  // Only the ingest script itself: INIT_CWD is inherited by everything npm starts (npm test too).
  const underNpmRunIngest = env.npm_lifecycle_event === 'ingest' && (env.INIT_CWD ?? '') !== ''
  return underNpmRunIngest
    ? { callerDir: env.INIT_CWD as string, defaultsDir: cwd }
    : { callerDir: cwd, defaultsDir: cwd }
}

/**
 * A default path as seen from the caller's folder (`../data/listings.csv`
 * from a subfolder of the repository under `npm run ingest`).
 */
export function defaultPath(invocation: Invocation, path: string): string {
  return relative(invocation.callerDir, join(invocation.defaultsDir, path)) || '.'
}

/** Whether a default input exists, so a missing one can be explained instead of "no such file". */
export function defaultExists(invocation: Invocation, path: string): boolean {
  return existsSync(join(invocation.defaultsDir, path))
}

/**
 * The version in the package's package.json, found by walking up from this
 * module (dist/ingest.mjs or local/src/invocation.ts).
 */
export function packageVersion(from: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(from))
  for (;;) {
    const path = join(dir, 'package.json')
    if (existsSync(path)) {
      const manifest = JSON.parse(readFileSync(path, 'utf8')) as { name?: string; version?: string }
      if (manifest.name === PACKAGE_NAME && typeof manifest.version === 'string') return manifest.version
    }
    const parent = dirname(dir)
    if (parent === dir) return 'unknown'
    dir = parent
  }
}

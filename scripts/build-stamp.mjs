// Knows whether a bundle in dist/ is up to date, without loading esbuild: each bundle has a
// stamp, dist/.stamps/<entry>.json, listing the SHA-256 of every source file esbuild read for
// it (from its metafile) and of the build's own configuration. A bundle is fresh when its
// output exists and every one of those files still has the hash the stamp records. Content
// hashes, not times: a checkout or a copy changes times but not what the bundle would be.
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')

/** Every bundle: its name in dist/ (<name>.mjs) and its entry point. */
export const ENTRIES = {
  ingest: 'local/src/ingest.ts',
  'local-e2e': 'local/src/s3/e2e.ts',
  'local-s3': 'local/src/s3/serve.ts',
  current: 'local/src/current.ts',
  'infra-app': 'infra/bin/app.ts',
  deck: 'scripts/deck/main.ts',
  bench: 'scripts/bench/bench.ts',
  'bench-ours': 'scripts/bench/run-ours.ts',
  'bench-duckdb': 'scripts/bench/run-duckdb.ts',
}

/** Files every bundle depends on besides its sources: how it is built, and by which esbuild. */
const BUILD_INPUTS = [
  'scripts/build.mjs',
  'scripts/build-stamp.mjs',
  'node_modules/esbuild/package.json',
  // esbuild reads compiler options from here, and the module type from package.json.
  'tsconfig.json',
  'package.json',
]

function stampPath(name) {
  return join(ROOT, 'dist', '.stamps', `${name}.json`)
}

function hashOf(relativePath) {
  try {
    return createHash('sha256')
      .update(readFileSync(join(ROOT, relativePath)))
      .digest('hex')
  } catch {
    return 'missing'
  }
}

/**
 * Whether dist/<name>.mjs exists and was built from the sources as they are now.
 *
 * @param {string} name - a key of ENTRIES
 */
export function isFresh(name) {
  if (!existsSync(join(ROOT, 'dist', `${name}.mjs`))) return false
  let stamp
  try {
    stamp = JSON.parse(readFileSync(stampPath(name), 'utf8'))
  } catch {
    return false
  }
  const inputs = Object.entries(stamp.inputs ?? {})
  return inputs.length > 0 && inputs.every(([path, hash]) => hashOf(path) === hash)
}

/**
 * Records what a bundle was built from (after it is written).
 *
 * @param {string} name - a key of ENTRIES
 * @param {string[]} sources - the source files esbuild read, relative to the root
 */
export function writeStamp(name, sources) {
  const inputs = Object.fromEntries([...sources, ...BUILD_INPUTS].map((path) => [path, hashOf(path)]))
  const path = stampPath(name)
  mkdirSync(dirname(path), { recursive: true })
  const temporary = `${path}.${process.pid}.tmp`
  writeFileSync(temporary, `${JSON.stringify({ inputs }, null, 1)}\n`)
  renameSync(temporary, path)
}

// Bundles the TypeScript entry points into dist/ so commands start compiled JavaScript.
// Dependencies stay external: they are installed, and Node resolves them fast.
//
//   node scripts/build.mjs                 build the bundles whose sources changed (see build-stamp.mjs)
//   node scripts/build.mjs --force         build every bundle
//   node scripts/build.mjs ingest deck     only these bundles (when their sources changed)
//
// A bundle whose sources are unchanged is not rebuilt, so `npm run ingest` and the other
// scripts that build first start in milliseconds (issue 11). Each output is written under a
// temporary name and renamed into place, so a command starting during a build never loads
// half a file.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ENTRIES, isFresh, ROOT, writeStamp } from './build-stamp.mjs'

/**
 * Builds the named bundles, or only those of them that are stale.
 *
 * @param {string[]} names - keys of ENTRIES
 * @param {{ force?: boolean }} [options]
 * @returns {Promise<string[]>} the bundles built
 */
export async function buildBundles(names = Object.keys(ENTRIES), { force = false } = {}) {
  const stale = names.filter((name) => force || !isFresh(name))
  if (stale.length === 0) return []
  // Loaded only when something is to be built: a fresh check then costs no esbuild start-up.
  const { build } = await import('esbuild')
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: Object.fromEntries(stale.map((name) => [name, ENTRIES[name]])),
    outdir: 'dist',
    outExtension: { '.js': '.mjs' },
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
    metafile: true,
    write: false,
  })
  for (const file of result.outputFiles) {
    mkdirSync(dirname(file.path), { recursive: true })
    const temporary = `${file.path}.${process.pid}.tmp`
    writeFileSync(temporary, file.contents)
    renameSync(temporary, file.path)
  }
  for (const [output, meta] of Object.entries(result.metafile.outputs)) {
    const name = Object.keys(ENTRIES).find((key) => output === `dist/${key}.mjs`)
    if (name === undefined || !stale.includes(name)) continue
    const sources = Object.keys(meta.inputs).map((path) => relative(ROOT, join(ROOT, path)))
    writeStamp(name, sources)
  }
  return stale
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2)
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(
      `Usage: node scripts/build.mjs [--force] [bundle...]\nBundles: ${Object.keys(ENTRIES).join(', ')}\n`,
    )
  } else {
    const names = args.filter((arg) => !arg.startsWith('--'))
    const unknown = names.filter((name) => !(name in ENTRIES))
    if (unknown.length > 0) {
      process.stderr.write(
        `build: unknown bundle ${unknown.join(', ')}; bundles: ${Object.keys(ENTRIES).join(', ')}\n`,
      )
      process.exitCode = 2
    } else {
      await buildBundles(names.length > 0 ? names : undefined, { force: args.includes('--force') })
    }
  }
}

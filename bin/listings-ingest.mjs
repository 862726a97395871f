#!/usr/bin/env node
// The `listings-ingest` command (package.json "bin"; `npx listings-ingest` in a clone).
//
// Runs the bundled CLI, dist/ingest.mjs. dist/ is built, not committed: `npm ci` builds it
// (the "prepare" script), and this launcher rebuilds the CLI bundle when it is missing or its
// sources changed since (a content-hash check of a few dozen files, milliseconds; see
// scripts/build-stamp.mjs), so a fresh clone or a `git pull` never runs stale code.
//
// The CLI runs in a child Node with the flags `npm run ingest` gives it (source-mapped stack
// traces; V8 reads such flags only at start-up); signals are passed on and its exit code is
// this command's. (The 64 MB young generation it once set is gone: the one-pass transform
// keeps rows in typed arrays, and the larger young generation only added 30-40 MB of peak
// memory for no speed.)
//
// Paths on the command line are relative to the folder the command is run from: npx keeps
// that folder as the working directory, and the child inherits it.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { isFresh } from '../scripts/build-stamp.mjs'

const NODE_FLAGS = ['--enable-source-maps']
const CLI = new URL('../dist/ingest.mjs', import.meta.url)

if (!isFresh('ingest')) {
  try {
    const { buildBundles } = await import('../scripts/build.mjs')
    await buildBundles(['ingest'])
  } catch (error) {
    // esbuild has printed the details (a syntax error, say); this says what it means for the run.
    const problem = String(error instanceof Error ? error.message : error).split('\n')[0]
    if (!existsSync(CLI)) {
      process.stderr.write(`listings-ingest: cannot build dist/ingest.mjs: ${problem}\n`)
      process.exit(1)
    }
    process.stderr.write(
      `listings-ingest: warning: the sources changed but rebuilding dist/ingest.mjs failed (${problem}); running the existing build\n`,
    )
  }
}

if (NODE_FLAGS.every((flag) => process.execArgv.includes(flag))) {
  await import(CLI.href)
} else {
  const child = spawn(process.execPath, [...NODE_FLAGS, fileURLToPath(CLI), ...process.argv.slice(2)], {
    stdio: 'inherit',
  })
  // A terminal's Ctrl-C reaches both processes; a signal sent to this one alone is passed on.
  // Either way the child decides how the run ends, and this process ends as it did.
  const forward = (signal) => child.kill(signal)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, forward)
  child.on('exit', (code, signal) => {
    if (signal === null) process.exit(code ?? 1)
    for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.off(name, forward)
    process.kill(process.pid, signal)
  })
}

import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The repository root, found by walking up from this module to the folder
 * holding package-lock.json; works from the TypeScript source and from the
 * bundles in dist/ alike. Node APIs only, no CDK: the local runner imports it
 * too (local/src/s3/cdk-synth.ts).
 *
 * @throws {Error} when no folder above this module holds package-lock.json
 */
export function repositoryRoot(): string {
  const start = dirname(fileURLToPath(import.meta.url))
  let dir = start
  while (!existsSync(join(dir, 'package-lock.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`package-lock.json not found in ${start} or any folder above it`)
    dir = parent
  }
  return dir
}

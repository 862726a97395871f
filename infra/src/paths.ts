import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The repository root, found by walking up from this module to the folder
 * holding package-lock.json; works from the TypeScript source and from the
 * bundled app in dist/ alike.
 */
export function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package-lock.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error('package-lock.json not found above the infra module')
    dir = parent
  }
  return dir
}

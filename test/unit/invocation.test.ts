import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { defaultPath, invocationOf, packageVersion } from '../../local/src/invocation.js'

const ROOT = join(import.meta.dirname, '../..')

describe('invocationOf: what relative paths are relative to', () => {
  it('run directly or by npx: the working folder, for typed paths and defaults alike', () => {
    expect(invocationOf({ INIT_CWD: '/home/me', npm_lifecycle_event: 'npx' }, '/home/me/sub')).toEqual({
      callerDir: '/home/me/sub',
      defaultsDir: '/home/me/sub',
    })
  })

  it('under npm run ingest: typed paths from where it was typed (INIT_CWD), defaults from the repository', () => {
    const invocation = invocationOf({ INIT_CWD: '/repo/docs', npm_lifecycle_event: 'ingest' }, '/repo')
    expect(invocation).toEqual({ callerDir: '/repo/docs', defaultsDir: '/repo' })
    expect(defaultPath(invocation, 'data/listings.csv')).toBe('../data/listings.csv')
    expect(defaultPath(invocationOf({}, '/repo'), 'out')).toBe('out')
  })

  it('ignores INIT_CWD inherited from another npm script (npm test starting the CLI)', () => {
    expect(invocationOf({ INIT_CWD: '/repo', npm_lifecycle_event: 'test' }, '/tmp/work').callerDir).toBe(
      '/tmp/work',
    )
  })
})

describe('packageVersion', () => {
  it("is package.json's version, found from the module's own folder", () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
    expect(packageVersion()).toBe(version)
    expect(packageVersion(pathToFileURL(join(ROOT, 'dist/ingest.mjs')).href)).toBe(version)
    expect(packageVersion(pathToFileURL('/nowhere/at/all.mjs').href)).toBe('unknown')
  })
})

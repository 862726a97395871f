import { spawnSync } from 'node:child_process'
import { readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { makeRunDirectory, pointCurrentAt, runDirectory } from '../../local/src/run-directories.js'
import { removeOtherRuns, removeStale } from '../../local/src/stale-runs.js'
import { removeScratchOuts, scratchOut } from './scratch-out.js'

afterAll(removeScratchOuts)

/** A pid that is certainly gone: a child that has exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid ?? 0
}

describe('cleaning up after killed runs (under the lock)', () => {
  it('removes unpublished run directories, temporary names and dead runs’ lock drafts; keeps the published run and live drafts', () => {
    const out = scratchOut()
    for (const id of ['published', 'killed']) makeRunDirectory(runDirectory(out, id))
    pointCurrentAt(out, 'published')
    const dead = deadPid()
    writeFileSync(join(out, `.lock.20260101T000000Z-${dead}-abcdef.tmp`), '')
    writeFileSync(join(out, `.lock.20260101T000000Z-${process.pid}-abcdef.tmp`), '')
    writeFileSync(join(out, `.lock.20260101T000000Z-${dead}-abcdef.stale`), '')
    writeFileSync(join(out, 'processed', '.data.parquet.123.abcdef.tmp'), '')
    writeFileSync(join(out, 'notes.txt'), '')
    removeStale(out)
    expect(readdirSync(join(out, '.runs'))).toEqual(['published'])
    expect(readdirSync(out).sort()).toEqual(
      [
        '.current',
        `.lock.20260101T000000Z-${process.pid}-abcdef.tmp`,
        '.runs',
        'notes.txt',
        'processed',
        'rejected',
      ].sort(),
    )
    expect(readdirSync(join(out, 'processed'))).toEqual([])
  })

  it('after a publish, removes every run directory but the published one', () => {
    const out = scratchOut()
    for (const id of ['old', 'new']) makeRunDirectory(runDirectory(out, id))
    removeOtherRuns(out, 'new')
    expect(readdirSync(join(out, '.runs'))).toEqual(['new'])
  })
})

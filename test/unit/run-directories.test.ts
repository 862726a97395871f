import { lstatSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { PUBLISHED } from '../../local/src/published-paths.js'
import {
  adoptPlainOutputs,
  carryLiveParquet,
  linkPublishedPaths,
  makeRunDirectory,
  pointCurrentAt,
  readCurrent,
  removeTemporaryLinks,
  runDirectory,
} from '../../local/src/run-directories.js'
import { removeScratchOuts, scratchOut } from './scratch-out.js'

afterAll(removeScratchOuts)

/** A run directory holding one file per output, each saying `text`. */
function runWith(out: string, runId: string, text: string): void {
  const dir = runDirectory(out, runId)
  makeRunDirectory(dir)
  for (const path of Object.values(PUBLISHED)) writeFileSync(join(dir, path), text)
}

function publishedText(out: string): string[] {
  return Object.values(PUBLISHED).map((path) => readFileSync(join(out, path), 'utf8'))
}

describe('the .current switch', () => {
  it('shows every contract path from the run .current names, and one rename moves them all', () => {
    const out = scratchOut()
    expect(readCurrent(out)).toBeUndefined()
    runWith(out, 'r1', 'first')
    linkPublishedPaths(out, 'r1')
    pointCurrentAt(out, 'r1')
    expect(readCurrent(out)).toBe('r1')
    expect(publishedText(out)).toEqual(['first', 'first', 'first', 'first'])
    expect(readlinkSync(join(out, PUBLISHED.parquet))).toBe('../.current/processed/data.parquet')

    runWith(out, 'r2', 'second')
    linkPublishedPaths(out, 'r2') // already in place: nothing to do
    pointCurrentAt(out, 'r2')
    expect(readCurrent(out)).toBe('r2')
    expect(publishedText(out)).toEqual(['second', 'second', 'second', 'second'])
    expect(readdirSync(out).filter((name) => name.endsWith('.tmp'))).toEqual([])
  })

  it('removes the temporary links a run killed between symlink and rename left', () => {
    const out = scratchOut()
    writeFileSync(join(out, '.dq_report.json.r9.tmp'), '')
    writeFileSync(join(out, '..current.r9.tmp'), '')
    writeFileSync(join(out, '..current.other.tmp'), '')
    removeTemporaryLinks(out, 'r9')
    expect(readdirSync(out).filter((name) => name.endsWith('.tmp'))).toEqual(['..current.other.tmp'])
  })
})

describe('outputs an earlier version wrote as plain files', () => {
  it('are adopted into a run directory of their own, as hard links to the same bytes', () => {
    const out = scratchOut()
    for (const path of Object.values(PUBLISHED)) writeFileSync(join(out, path), 'plain')
    adoptPlainOutputs(out)
    const adopted = readCurrent(out)
    expect(adopted).toMatch(/-adopted$/)
    const parquet = join(runDirectory(out, adopted ?? ''), PUBLISHED.parquet)
    expect(statSync(parquet).ino).toBe(statSync(join(out, PUBLISHED.parquet)).ino)
    expect(lstatSync(join(out, PUBLISHED.parquet)).isFile()).toBe(true) // the paths become links next
  })

  it('are left alone once a run is published', () => {
    const out = scratchOut()
    runWith(out, 'r1', 'first')
    pointCurrentAt(out, 'r1')
    adoptPlainOutputs(out)
    expect(readCurrent(out)).toBe('r1')
  })
})

describe('after a breach', () => {
  it('the live Parquet is carried into the new run directory; with nothing live, nothing is', () => {
    const out = scratchOut()
    runWith(out, 'r1', 'good')
    linkPublishedPaths(out, 'r1')
    pointCurrentAt(out, 'r1')
    makeRunDirectory(runDirectory(out, 'r2'))
    const carried = join(runDirectory(out, 'r2'), PUBLISHED.parquet)
    carryLiveParquet(out, carried)
    expect(readFileSync(carried, 'utf8')).toBe('good')

    const fresh = scratchOut()
    makeRunDirectory(runDirectory(fresh, 'r1'))
    carryLiveParquet(fresh, join(runDirectory(fresh, 'r1'), PUBLISHED.parquet))
    expect(readdirSync(join(runDirectory(fresh, 'r1'), 'processed'))).toEqual([])
  })
})

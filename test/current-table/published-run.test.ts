/**
 * Reading a published output set as an input of the current table: the
 * run's Parquet and its source's place in the order, or why it adds nothing.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { isSkipped, readPublishedRun } from '../../local/src/published-run.js'
import { publish, removeScratch, scratchDir } from './helpers.js'

afterAll(removeScratch)

const T1 = '2026-01-10T08:00:00.000Z'
const T3 = '2026-01-12T08:00:00.000Z'

describe('a published output set', () => {
  it('names its Parquet, its source, the SHA-256 as the version and the mtime as its place in the order', () => {
    const dir = scratchDir()
    const read = readPublishedRun(publish(dir, 'one', T1, [['2025-12-01', 'k1', 10]]))
    expect(isSkipped(read)).toBe(false)
    expect(read).toMatchObject({
      parquet: expect.stringMatching(/\/processed\/data\.parquet$/),
      sourceKey: expect.stringMatching(/one\.csv$/),
      sourceVersion: expect.stringMatching(/^[0-9a-f]{64}$/),
      sourceModifiedAt: T1,
      sourceSequencer: '',
    })
  })
})

describe('a breached file', () => {
  it('published no Parquet, so it contributes nothing', async () => {
    const dir = scratchDir()
    const out = publish(dir, 'breach', T3, [['2025-12-01', 'k1', 99]], {
      extra: ['2025-12-05,s,UK,Electronics,bad,-1'],
      args: ['--max-rejected-ratio', '0'],
      expectStatus: 3,
    })
    const read = readPublishedRun(out)
    expect(isSkipped(read)).toBe(true)
    expect(read).toMatchObject({ reason: expect.stringMatching(/threshold_breached: no Parquet/) })
  })
})

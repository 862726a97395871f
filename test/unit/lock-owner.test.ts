import { hostname } from 'node:os'
import { describe, expect, it } from 'vitest'
import { lockHeldError, lockOwnerOf, lockText, parseLockOwner } from '../../local/src/lock-owner.js'

describe('the lock document (local .lock file and S3 .lock object alike)', () => {
  it('names this process, its host, its start and its run, and reads back as written', () => {
    const owner = lockOwnerOf('run-1')
    expect(owner).toMatchObject({ pid: process.pid, host: hostname(), run: 'run-1' })
    expect(Date.parse(owner.started_at)).not.toBeNaN()
    expect(lockText(owner)).toMatch(/^\{.*\}\n$/)
    expect(parseLockOwner(lockText(owner))).toEqual(owner)
  })

  it.each([
    ['not JSON', 'garbage'],
    ['null', 'null'],
    ['no run id (the S3 lock of earlier versions)', '{"run_id":"r1","pid":1,"host":"h","started":"t"}'],
    ['no host', '{"pid":1,"run":"r1"}'],
    ['a pid that is not a whole number', '{"pid":"1","host":"h","run":"r1"}'],
  ])('is not a lock document when %s', (_, text) => {
    expect(parseLockOwner(text)).toBeUndefined()
  })
})

describe('the refusal when another run holds the lock', () => {
  const owner = { pid: 4242, host: 'build-01', started_at: '2026-11-29T05:22:30.000Z', run: 'r1' }

  it('names the holder, and the lock to delete if that run is gone', () => {
    expect(lockHeldError('out', 'out/.lock', owner).message).toBe(
      'out: another ingest run is writing here (pid 4242 on build-01, started 2026-11-29T05:22:30.000Z); wait for it to finish, or delete out/.lock if that run is gone',
    )
  })

  it('says when the lock cannot be read, and says nothing of a holder it did not read', () => {
    expect(lockHeldError('out', 'out/.lock', 'unreadable').message).toContain(
      'writing here (its lock file cannot be read); wait',
    )
    expect(lockHeldError('s3://b/p/', 's3://b/p/.lock', undefined).message).toContain('writing here; wait')
  })
})

import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cpSync, existsSync, mkdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  cli,
  currentRun,
  expectConsistent,
  expectOneLineError,
  leftovers,
  type PublishedSet,
  publishedSet,
  publishedWorkspace,
  removeWorkspaces,
  startCli,
  workspace,
} from './run-cli.js'

afterAll(removeWorkspaces)

/** The publish steps in order; a fault fires just before its step. `commit` is the atomic rename. */
const BEFORE_COMMIT = ['report', 'adopt', 'carry', 'sync', 'link', 'commit'] as const
const AFTER_COMMIT = ['cleanup', 'unlock'] as const

/** A second listings file: the sample's first 150 lines, so its run is told apart from the sample's. */
function secondListings(dir: string): string {
  const lines = readFileSync(join(dir, 'data/listings.csv'), 'utf8').split('\n').slice(0, 150)
  const path = join(dir, 'second.csv')
  writeFileSync(path, `${lines.join('\n')}\n`)
  return 'second.csv'
}

/** A workspace whose out/ holds a published run of the sample; returns it and that run's set. */
function published(): { dir: string; out: string; before: PublishedSet; second: string } {
  const dir = publishedWorkspace()
  const out = join(dir, 'out')
  const before = publishedSet(out)
  expectConsistent(before)
  return { dir, out, before, second: secondListings(dir) }
}

function fault(point: string, action: string): Record<string, string> {
  return { LISTINGS_INGEST_FAULT: `${point}:${action}` }
}

describe('the report says what was published (item 8)', () => {
  it('on success: published, where, and the size and hash of the file a reader finds there', () => {
    const { before } = published()
    expect(before.report?.output.parquet).toMatchObject({
      published: true,
      path: 'out/processed/data.parquet',
      sha256: before.parquetSha,
    })
  })

  it('after a breach with an earlier run published: not published, and which Parquet is still live', () => {
    const { dir, out, before } = published()
    const run = cli(['--quiet', '--max-rejected-ratio', '0'], dir)
    expect(run.status).toBe(3)
    const after = publishedSet(out)
    expect(after.report?.output.parquet).toEqual({ published: false, live: 'out/processed/data.parquet' })
    expect(after.parquetSha).toBe(before.parquetSha)
    expectConsistent(after)
    expect(run.stderr).toMatch(/out\/processed\/data\.parquet still holds an earlier run's data/)
    expect(leftovers(out)).toEqual([])
  })

  it('after a breach with nothing published before: not published, and nothing is live', () => {
    const dir = workspace()
    const run = cli(['--quiet', '--max-rejected-ratio', '0'], dir)
    expect(run.status).toBe(3)
    const set = publishedSet(join(dir, 'out'))
    expect(set.report?.output.parquet).toEqual({ published: false, live: null })
    expect(set.parquetSha).toBeUndefined()
    expect(run.stderr).toMatch(/no Parquet is published/)
  })
})

describe('the three outputs are published as one unit (item 1)', () => {
  it('publishes them through out/.current, one symlink swapped by rename', () => {
    const { out, before } = published()
    expect(readlinkSync(join(out, 'processed/data.parquet'))).toBe('../.current/processed/data.parquet')
    expect(readlinkSync(join(out, 'dq_report.json'))).toBe('.current/dq_report.json')
    expect(currentRun(out)).toBe(`.runs/${before.report?.output.run_id}`)
  })

  for (const point of BEFORE_COMMIT) {
    it(`an error before the ${point} step: exit 1, the previous set intact, nothing left behind`, () => {
      const { dir, out, before, second } = published()
      const run = cli(['--quiet', '--listings', second], dir, fault(point, 'error'))
      expect(run.status, run.stderr).toBe(1)
      expectOneLineError(run, new RegExp(`^listings-ingest: unexpected error: injected fault at ${point}$`))
      expect(publishedSet(out)).toEqual(before)
      expect(leftovers(out)).toEqual([])
    })
  }

  for (const point of AFTER_COMMIT) {
    it(`an error at ${point}, after the commit: exit 0 with the new set; the next run tidies up`, () => {
      const { dir, out, before, second } = published()
      const run = cli(['--quiet', '--listings', second], dir, fault(point, 'error'))
      expect(run.status, run.stderr).toBe(0)
      const after = publishedSet(out)
      expectConsistent(after)
      expect(after.run).not.toBe(before.run)
      expect(cli(['--quiet', '--listings', second], dir).status).toBe(0)
      expect(leftovers(out)).toEqual([])
    })
  }

  for (const point of ['classify', 'write', ...BEFORE_COMMIT, ...AFTER_COMMIT]) {
    it(`a crash (SIGKILL) before the ${point} step leaves one whole set; the next run recovers`, () => {
      const { dir, out, before, second } = published()
      const crashed = cli(['--quiet', '--listings', second], dir, fault(point, 'crash'))
      expect(crashed.signal).toBe('SIGKILL')
      const seen = publishedSet(out)
      expectConsistent(seen)
      const committed = (AFTER_COMMIT as readonly string[]).includes(point)
      if (committed) expect(seen.run).not.toBe(before.run)
      else expect(seen).toEqual(before)
      // The dead run's lock is taken over and its run directory removed.
      const next = cli(['--quiet'], dir)
      expect(next.status, next.stderr).toBe(0)
      expectConsistent(publishedSet(out))
      expect(leftovers(out)).toEqual([])
    })
  }

  for (const point of ['carry', 'link', 'commit']) {
    it(`a breach crashing before the ${point} step keeps the previous set; a whole breach keeps its Parquet`, () => {
      const { dir, out, before } = published()
      const crashed = cli(['--quiet', '--max-rejected-ratio', '0'], dir, fault(point, 'crash'))
      expect(crashed.signal).toBe('SIGKILL')
      expect(publishedSet(out)).toEqual(before)
      const breach = cli(['--quiet', '--max-rejected-ratio', '0'], dir)
      expect(breach.status).toBe(3)
      const after = publishedSet(out)
      expectConsistent(after)
      expect(after.parquetSha).toBe(before.parquetSha)
      expect(leftovers(out)).toEqual([])
    })
  }

  describe('outputs an earlier version wrote as plain files', () => {
    /** A workspace whose out/ holds plain files, as versions before run directories wrote them. */
    function plainOutputs() {
      const { dir, out, before, second } = published()
      const plain = join(dir, 'plain')
      cpSync(out, plain, { recursive: true, dereference: true })
      rmSync(out, { recursive: true })
      mkdirSync(join(out, 'processed'), { recursive: true })
      mkdirSync(join(out, 'rejected'))
      for (const path of ['processed/data.parquet', 'rejected/rejected_rows.csv', 'dq_report.json'])
        cpSync(join(plain, path), join(out, path))
      return { dir, out, before, second }
    }

    for (const point of ['adopt', 'carry', 'sync', 'link', 'commit', 'cleanup']) {
      it(`are adopted without a mixed set, even with a crash before the ${point} step`, () => {
        const { dir, out, before, second } = plainOutputs()
        const crashed = cli(['--quiet', '--listings', second], dir, fault(point, 'crash'))
        expect(crashed.signal).toBe('SIGKILL')
        const seen = publishedSet(out)
        expectConsistent(seen)
        if (point !== 'cleanup') expect(seen).toEqual(before)
        const next = cli(['--quiet', '--listings', second], dir)
        expect(next.status, next.stderr).toBe(0)
        const after = publishedSet(out)
        expectConsistent(after)
        expect(after.run).not.toBe(before.run)
        expect(leftovers(out)).toEqual([])
      })
    }
  })
})

describe('one run at a time per --out (item 1)', () => {
  it('refuses a second run while one holds the lock: exit 2, one line naming the holder', async () => {
    const { dir, out, second } = published()
    const first = startCli(['--quiet', '--listings', second], dir, fault('report', 'pause'))
    await until(() => existsSync(join(out, '.lock')))
    const refused = cli(['--quiet'], dir)
    expect(refused.status).toBe(2)
    expectOneLineError(
      refused,
      new RegExp(
        `^listings-ingest: error: out: another ingest run is writing here \\(pid ${first.child.pid} on ${hostname()}, started \\S+\\); wait for it to finish, or delete out/\\.lock if that run is gone$`,
      ),
    )
    const done = await first.done
    expect(done.status, done.stderr).toBe(0)
    const set = publishedSet(out)
    expectConsistent(set)
    expect(set.report?.input.listings.sha256).toBe(sha256Of(join(dir, second)))
    expect(leftovers(out)).toEqual([])
  })

  it('runs started together on one --out: each succeeds or is refused, and one whole set is published', async () => {
    const { dir, out } = published()
    // Files of one size (the sample plus one row of their own), so the runs finish together.
    const sample = readFileSync(join(dir, 'data/listings.csv'), 'utf8').trimEnd()
    const inputs = [1, 2, 3, 4, 5, 6].map((n) => {
      writeFileSync(join(dir, `copy${n}.csv`), `${sample}\n2024-02-0${n},S,R,Toys,EXTRA${n},5\n`)
      return `copy${n}.csv`
    })
    const runs = await Promise.all(
      inputs.map((input) => startCli(['--quiet', '--listings', input], dir).done),
    )
    for (const run of runs) {
      expect([0, 2], run.stderr).toContain(run.status)
      if (run.status === 2) expect(run.stderr).toMatch(/another ingest run is writing here/)
    }
    expect(runs.some((run) => run.status === 0)).toBe(true)
    const set = publishedSet(out)
    expectConsistent(set)
    expect(inputs.map((input) => sha256Of(join(dir, input)))).toContain(set.run)
    expect(leftovers(out)).toEqual([])
  })

  it('takes over a lock whose process is gone', () => {
    const { dir, out } = published()
    const gone = spawnSync(process.execPath, ['-e', 'process.pid'])
    expect(gone.pid).toBeGreaterThan(0)
    writeFileSync(
      join(out, '.lock'),
      JSON.stringify({ pid: gone.pid, host: hostname(), started_at: '2026-01-01T00:00:00Z', run: 'dead' }),
    )
    const run = cli(['--quiet'], dir)
    expect(run.status, run.stderr).toBe(0)
    expect(leftovers(out)).toEqual([])
  })

  it('respects a lock held from another host', () => {
    const { dir, out, before } = published()
    const lock = { pid: 1, host: 'elsewhere.example', started_at: '2026-01-01T00:00:00Z', run: 'remote' }
    writeFileSync(join(out, '.lock'), JSON.stringify(lock))
    const run = cli(['--quiet'], dir)
    expect(run.status).toBe(2)
    expectOneLineError(run, /another ingest run is writing here \(pid 1 on elsewhere\.example, started/)
    expect(publishedSet(out)).toEqual(before)
    expect(JSON.parse(readFileSync(join(out, '.lock'), 'utf8'))).toEqual(lock)
  })
})

function sha256Of(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting')
    await new Promise((wake) => setTimeout(wake, 20))
  }
}

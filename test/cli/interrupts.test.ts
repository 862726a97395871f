import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  cli,
  currentRun,
  expectConsistent,
  generatedListings,
  leftovers,
  publishedSet,
  publishedWorkspace,
  type Run,
  removeWorkspaces,
  startCli,
  workspace,
} from './run-cli.js'

afterAll(removeWorkspaces)

/** A listings file large enough (300,000 rows, about 23 MB) that each pass takes a while. */
let large: string

beforeAll(() => {
  large = generatedListings(300_000)
})

const EXIT_CODES = { SIGINT: 130, SIGHUP: 130, SIGTERM: 143 } as const
type Interrupt = keyof typeof EXIT_CODES

/** A workspace with a run of the sample published under out/. */
function published() {
  const dir = publishedWorkspace()
  const out = join(dir, 'out')
  return { dir, out, before: publishedSet(out) }
}

/** The interrupted run's contract: its exit code, one line saying so, nothing left behind. */
function expectInterrupted(run: Run, signal: Interrupt, out: string): void {
  expect(run.signal).toBeNull()
  expect(run.status, run.stderr).toBe(EXIT_CODES[signal])
  expect(run.stderr).toBe('listings-ingest: interrupted\n')
  expect(leftovers(out)).toEqual([])
}

/** This run's own directory under out/.runs, once it has one. */
function newRunDirectory(out: string): string | undefined {
  const current = currentRun(out)
  const runs = existsSync(join(out, '.runs')) ? readdirSync(join(out, '.runs')) : []
  const mine = runs.find((name) => `.runs/${name}` !== current)
  return mine === undefined ? undefined : join(out, '.runs', mine)
}

async function until(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting')
    await new Promise((wake) => setTimeout(wake, 5))
  }
}

describe('an interrupted run says so, cleans up and leaves the previous outputs (item 9)', () => {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    it(`${signal} during pass 1 exits ${EXIT_CODES[signal]}`, async () => {
      const { dir, out, before } = published()
      const running = startCli(['--quiet', '--listings', large], dir)
      await until(() => newRunDirectory(out) !== undefined)
      running.child.kill(signal)
      const run = await running.done
      expectInterrupted(run, signal, out)
      expect(publishedSet(out)).toEqual(before)
    })
  }

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} during pass 2, with row groups already written, exits ${EXIT_CODES[signal]}`, async () => {
      const { dir, out, before } = published()
      const running = startCli(['--quiet', '--listings', large, '--row-group-size', '1000'], dir)
      await until(() => {
        const runDir = newRunDirectory(out)
        const parquet = runDir && join(runDir, 'processed/data.parquet')
        return parquet !== undefined && existsSync(parquet) && statSync(parquet).size > 0
      })
      running.child.kill(signal)
      const run = await running.done
      expectInterrupted(run, signal, out)
      expect(publishedSet(out)).toEqual(before)
    })
  }

  it('a signal arriving mid-pass (sent by the run itself after its first chunk) is handled the same way', () => {
    for (const [point, signal] of [
      ['classify', 'SIGINT'],
      ['write', 'SIGHUP'],
    ] as const) {
      const { dir, out, before } = published()
      const run = cli(['--quiet', '--listings', large], dir, { LISTINGS_INGEST_FAULT: `${point}:${signal}` })
      expectInterrupted(run, signal, out)
      expect(publishedSet(out)).toEqual(before)
    }
  })

  for (const point of ['report', 'adopt', 'carry', 'sync', 'link', 'commit']) {
    it(`SIGTERM before the ${point} publish step: exit 143, the previous set intact`, () => {
      const { dir, out, before } = published()
      const run = cli(['--quiet', '--max-rejected-ratio', '1'], dir, {
        LISTINGS_INGEST_FAULT: `${point}:SIGTERM`,
      })
      expectInterrupted(run, 'SIGTERM', out)
      expect(publishedSet(out)).toEqual(before)
    })
  }

  for (const point of ['cleanup', 'unlock']) {
    it(`SIGTERM after the commit (before ${point}) is too late to stop the run: it finishes, exit 0`, () => {
      const { dir, out, before } = published()
      const run = cli(['--quiet'], dir, { LISTINGS_INGEST_FAULT: `${point}:SIGTERM` })
      expect(run.status, run.stderr).toBe(0)
      expect(run.stderr).toBe('')
      const after = publishedSet(out)
      expectConsistent(after)
      expect(after.report?.output.run_id).not.toBe(before.report?.output.run_id)
      expect(leftovers(out)).toEqual([])
    })
  }

  it('SIGTERM on a fresh --out leaves no outputs at all', async () => {
    const dir = workspace()
    const out = join(dir, 'out')
    const running = startCli(['--quiet', '--listings', large], dir)
    await until(() => newRunDirectory(out) !== undefined)
    running.child.kill('SIGTERM')
    expectInterrupted(await running.done, 'SIGTERM', out)
    expect(publishedSet(out)).toMatchObject({
      report: undefined,
      parquetSha: undefined,
      rejectedSha: undefined,
    })
  })
})

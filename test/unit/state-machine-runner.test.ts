import { describe, expect, it } from 'vitest'
import {
  DataQualityThresholdError,
  InvalidInputError,
  TransientError,
} from '../../lambdas/ingest/src/errors.js'
import { INGEST_RETRY } from '../../lambdas/ingest/src/orchestration.js'
import { runExecution } from '../../local/src/s3/state-machine.js'

const fast = { intervalScale: 0.0001 }

describe('runExecution (the local mirror of the state machine)', () => {
  it('passes the event and an execution id to the task and succeeds with its output', async () => {
    const execution = await runExecution(
      { a: 1 },
      async (payload) => ({ ...payload, status: 'skipped' }),
      fast,
    )
    expect(execution).toMatchObject({
      status: 'SUCCEEDED',
      attempts: 1,
      path: ['Ingest', 'CheckResult', 'NothingToDo'],
    })
    expect(execution.output).toMatchObject({ event: { a: 1 }, executionId: expect.stringMatching(/^local:/) })
  })

  it('retries transient errors up to the policy, then fails', async () => {
    let calls = 0
    const execution = await runExecution(
      {},
      async () => {
        calls++
        throw new TransientError('SlowDown')
      },
      fast,
    )
    expect(calls).toBe(INGEST_RETRY.maxRetries + 1)
    expect(execution).toMatchObject({
      status: 'FAILED',
      error: 'TransientError',
      path: ['Ingest', 'NotifyFailure', 'IngestFailed'],
    })
  })

  it('chooses on the result: processed, processed with no rows (notified), or nothing to do', async () => {
    const notified: string[] = []
    const options = { ...fast, notify: (subject: string) => notified.push(subject) }
    const processed = await runExecution(
      {},
      async () => ({ status: 'processed', counts: { rows_after_dedup: 3 } }),
      options,
    )
    expect(processed.path).toEqual(['Ingest', 'CheckResult', 'Processed'])
    const empty = await runExecution(
      {},
      async () => ({ status: 'processed', counts: { rows_after_dedup: 0 } }),
      options,
    )
    expect(empty.path).toEqual(['Ingest', 'CheckResult', 'NotifyNoRowsWritten', 'Processed'])
    const skipped = await runExecution({}, async () => ({ status: 'skipped' }), options)
    expect(skipped.path).toEqual(['Ingest', 'CheckResult', 'NothingToDo'])
    expect(notified).toEqual([expect.stringMatching(/^No rows written in local:/)])
  })

  it('recovers when a retry succeeds', async () => {
    let calls = 0
    const execution = await runExecution(
      {},
      async () => {
        if (++calls === 1) throw new TransientError('ECONNRESET')
        return { status: 'skipped' }
      },
      fast,
    )
    expect(execution).toMatchObject({ status: 'SUCCEEDED', attempts: 2, output: { status: 'skipped' } })
  })

  it('routes a breach to the data-quality branch and bad input to the failure branch, without retrying', async () => {
    const notified: string[] = []
    const options = { ...fast, notify: (subject: string) => notified.push(subject) }
    const breach = await runExecution(
      {},
      async () => Promise.reject(new DataQualityThresholdError('x')),
      options,
    )
    expect(breach).toMatchObject({
      attempts: 1,
      error: 'DataQualityThresholdError',
      path: ['Ingest', 'NotifyDataQualityFailure', 'DataQualityFailed'],
    })
    const bad = await runExecution({}, async () => Promise.reject(new InvalidInputError('y')), options)
    expect(bad).toMatchObject({
      attempts: 1,
      error: 'InvalidInputError',
      path: ['Ingest', 'NotifyFailure', 'IngestFailed'],
    })
    expect(notified).toHaveLength(2)
  })
})

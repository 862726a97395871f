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
    const execution = await runExecution({ a: 1 }, async (payload) => payload, fast)
    expect(execution).toMatchObject({ status: 'SUCCEEDED', attempts: 1, path: ['Ingest', 'Succeeded'] })
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
    expect(calls).toBe(INGEST_RETRY.maxAttempts)
    expect(execution).toMatchObject({
      status: 'FAILED',
      error: 'TransientError',
      path: ['Ingest', 'NotifyFailure', 'Failed'],
    })
  })

  it('recovers when a retry succeeds', async () => {
    let calls = 0
    const execution = await runExecution(
      {},
      async () => {
        if (++calls === 1) throw new TransientError('ECONNRESET')
        return 'ok'
      },
      fast,
    )
    expect(execution).toMatchObject({ status: 'SUCCEEDED', attempts: 2, output: 'ok' })
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
      path: ['Ingest', 'NotifyDataQualityFailure', 'Failed'],
    })
    const bad = await runExecution({}, async () => Promise.reject(new InvalidInputError('y')), options)
    expect(bad).toMatchObject({
      attempts: 1,
      error: 'InvalidInputError',
      path: ['Ingest', 'NotifyFailure', 'Failed'],
    })
    expect(notified).toHaveLength(2)
  })
})

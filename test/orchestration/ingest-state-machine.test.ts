import { readFileSync } from 'node:fs'
import { ListObjectsV2Command } from '@aws-sdk/client-s3'
import { describe, expect, it } from 'vitest'
import { DataQualityThresholdError, TransientError } from '../../lambdas/ingest/src/errors.js'
import { STATES } from '../../lambdas/ingest/src/orchestration.js'
import { synthesizedTemplate } from '../../local/src/s3/cdk-synth.js'
import type { LambdaFunction } from '../../local/src/s3/lambda-invoke.js'
import { INCOMING_PREFIX, type LocalPipeline, RAW_BUCKET } from '../../local/src/s3/pipeline.js'
import {
  type AslState,
  distributedMapItemProcessor,
  stateMachineNamed,
} from '../../local/src/s3/synthesized-template.js'
import { objectCreated } from '../helpers/object-created-event.js'
import { LISTINGS_HEADER } from '../helpers/sources.js'
import { pipelinePerTest, putRaw, SAMPLE_LISTINGS } from '../lambda/helpers.js'
import { attemptsFor, caughtBy, isMergeState, lambdaTask, pathTo, state } from './asl.js'

/**
 * The ingest state machine exactly as `cdk synth` writes it, run by the
 * aws-local-stepfunctions interpreter with its Lambda task bound to the real
 * handler against a local S3 server: every Retry, Catch, Choice and payload
 * below is the synthesized one. Expected states, subjects and attempt counts
 * are read from the definition, never restated.
 */

const { pipelineWith } = pipelinePerTest()

/** Uploads a file under the incoming prefix and returns its one execution. */
async function ingest(pipeline: LocalPipeline, name: string, text: string) {
  await putRaw(pipeline, name, text)
  const executions = await pipeline.settle()
  expect(executions).toHaveLength(1)
  return executions[0]
}

/** A function that throws `error` on its first `times` calls, then runs the handler. */
function failingFirst(times: number, error: () => Error) {
  const fault = faultInjector(error)
  fault.arm(times)
  return fault.wrap
}

/** Wraps the handler so that, once armed with `n`, its next `n` calls throw `error` before it runs. */
function faultInjector(error: () => Error) {
  let remaining = 0
  return {
    arm(n: number) {
      remaining = n
    },
    wrap:
      (handler: LambdaFunction): LambdaFunction =>
      async (event, context) => {
        if (remaining > 0) {
          remaining--
          throw error()
        }
        return handler(event, context)
      },
  }
}

function namedError(name: string, message: string): Error {
  const error = new Error(message)
  error.name = name
  return error
}

describe('the synthesized ingest state machine, run locally', () => {
  it('runs the state machine named *-ingest, whose size routing sends small files to its one Lambda task', async () => {
    const pipeline = await pipelineWith()
    const { ingest: machine } = pipeline.stateMachines
    expect(machine.name).toMatch(/-ingest$/)
    const [name] = lambdaTask(machine.definition)
    expect(machine.definition.StartAt).toBe(STATES.routeBySize)
    expect(pathTo(machine.definition, name)).toEqual([STATES.routeBySize, name])
  })

  it('rows written: the Choice ends in success, and nobody is notified', async () => {
    const pipeline = await pipelineWith()
    const execution = await ingest(pipeline, 'rows.csv', readFileSync(SAMPLE_LISTINGS, 'utf8'))
    const { definition } = pipeline.stateMachines.ingest
    const [task] = lambdaTask(definition)
    expect(execution).toMatchObject({ status: 'SUCCEEDED', attempts: 1, notifications: [] })
    expect(execution?.output).toMatchObject({ status: 'processed', counts: { rows_after_dedup: 342 } })
    const path = execution?.path ?? []
    const toTask = pathTo(definition, task)
    expect(path.slice(0, toTask.length)).toEqual(toTask)
    const [choice, ...afterChoice] = path.slice(toTask.length)
    expect(state(definition, choice ?? '').Type).toBe('Choice')
    // Then the current table's MERGE (one statement, the lock taken and released), then success.
    const end = afterChoice.pop()
    expect(state(definition, end ?? '').Type).toBe('Succeed')
    expect(afterChoice.pop()).toBe(STATES.afterMerge)
    expect(afterChoice.length).toBeGreaterThan(0)
    expect(afterChoice.filter((name) => !isMergeState(name))).toEqual([])
    expect(execution?.merges).toHaveLength(1)
    // The task received what its Parameters build: the whole event and the execution ARN.
    expect(execution?.executionId).toMatch(/^arn:aws:states:[^:]+:\d+:execution:[^:]+-ingest:/)
  })

  it('zero rows: notified through the no-rows branch, and the execution still succeeds', async () => {
    const pipeline = await pipelineWith()
    const execution = await ingest(
      pipeline,
      'none.csv',
      `${LISTINGS_HEADER}\n2024-01-01,S1,London,Fashion,A,0\n`,
    )
    const { definition } = pipeline.stateMachines.ingest
    expect(execution).toMatchObject({ status: 'SUCCEEDED', output: { counts: { rows_after_dedup: 0 } } })
    const notify = execution?.path.find((name) => state(definition, name).Resource?.endsWith(':sns:publish'))
    expect(notify).toBeDefined()
    const parameters = state(definition, notify ?? '').Parameters ?? {}
    expect(execution?.notifications).toEqual([
      { topicArn: parameters.TopicArn, subject: parameters.Subject, message: expect.any(String) },
    ])
    expect(JSON.parse(execution?.notifications[0]?.message ?? '')).toEqual(execution?.output)
    expect(state(definition, execution?.path.at(-1) ?? '').Type).toBe('Succeed')
  })

  it('a transient error then success: the interpreter retries the task and the execution succeeds', async () => {
    const pipeline = await pipelineWith({
      wrapHandler: failingFirst(1, () => new TransientError('connection reset by peer')),
    })
    const execution = await ingest(
      pipeline,
      'flaky.csv',
      `${LISTINGS_HEADER}\n2024-01-01,S1,London,Fashion,A,5\n`,
    )
    expect(execution).toMatchObject({
      status: 'SUCCEEDED',
      attempts: 2,
      taskError: { error: 'TransientError', message: 'connection reset by peer' },
      output: { status: 'processed', counts: { rows_after_dedup: 1 } },
      notifications: [],
    })
  })

  it('a data-quality breach: notified on the DQ branch, the execution fails with the DQ error', async () => {
    const pipeline = await pipelineWith({ env: { MAX_REJECTED_RATIO: '0.05' } })
    const execution = await ingest(pipeline, 'breach.csv', readFileSync(SAMPLE_LISTINGS, 'utf8'))
    const { definition } = pipeline.stateMachines.ingest
    const [task, taskState] = lambdaTask(definition)
    const branch = caughtBy(taskState, DataQualityThresholdError.name)
    const fail = state(definition, branch ?? '').Next ?? ''
    expect(execution).toMatchObject({
      status: 'FAILED',
      error: state(definition, fail).Error,
      cause: state(definition, fail).Cause,
      attempts: 1,
      path: [...pathTo(definition, task), branch, fail],
      taskError: { error: 'DataQualityThresholdError' },
    })
    expect(execution?.error).toBe(DataQualityThresholdError.name)
    expect(execution?.notifications).toHaveLength(1)
    expect(execution?.notifications[0]?.subject).toBe(state(definition, branch ?? '').Parameters?.Subject)
    // The message is the state's input: the event, with the caught error at $.error.
    const message = JSON.parse(execution?.notifications[0]?.message ?? '{}')
    expect(message.detail.object.key).toBe('incoming/breach.csv')
    expect(message.error.Error).toBe('DataQualityThresholdError')
    expect(JSON.parse(message.error.Cause).errorMessage).toMatch(/^max_rejected_ratio 0\.0975 > 0\.05/)
  })

  it('an unexpected error: notified on the failure branch, not retried, the execution fails', async () => {
    const pipeline = await pipelineWith({
      wrapHandler: failingFirst(
        Number.POSITIVE_INFINITY,
        () => new TypeError('cannot read properties of undefined'),
      ),
    })
    const execution = await ingest(
      pipeline,
      'bug.csv',
      `${LISTINGS_HEADER}\n2024-01-01,S1,London,Fashion,A,5\n`,
    )
    const { definition } = pipeline.stateMachines.ingest
    const [task, taskState] = lambdaTask(definition)
    const branch = caughtBy(taskState, 'TypeError')
    const fail = state(definition, branch ?? '').Next ?? ''
    expect(branch).not.toBe(caughtBy(taskState, DataQualityThresholdError.name))
    expect(execution).toMatchObject({
      status: 'FAILED',
      error: state(definition, fail).Error,
      attempts: attemptsFor(taskState, 'TypeError'),
      path: [...pathTo(definition, task), branch, fail],
      taskError: { error: 'TypeError', message: 'cannot read properties of undefined' },
    })
    expect(execution?.attempts).toBe(1)
    expect(execution?.notifications.map((n) => n.subject)).toEqual([
      state(definition, branch ?? '').Parameters?.Subject,
    ])
  })

  it('already processed: a repeated event merges again (a no-op, or the repair of a failed merge) and ends on the Choice default, with no notification', async () => {
    const pipeline = await pipelineWith()
    const etag = await putRaw(pipeline, 'twice.csv', `${LISTINGS_HEADER}\n2024-01-01,S1,London,Fashion,A,5\n`)
    await pipeline.settle()
    const again = await pipeline.execute(objectCreated(`${INCOMING_PREFIX}twice.csv`, { etag }))
    const { definition } = pipeline.stateMachines.ingest
    const [task] = lambdaTask(definition)
    const choice = state(definition, state(definition, task).Next ?? '') as AslState & { Default?: string }
    expect(again).toMatchObject({
      status: 'SUCCEEDED',
      output: { status: 'already_processed' },
      notifications: [],
    })
    const toChoice = [...pathTo(definition, task), state(definition, task).Next]
    expect(again.path.slice(0, toChoice.length)).toEqual(toChoice)
    expect(again.path.slice(-2)).toEqual([STATES.afterMerge, choice.Default])
    expect(again.path.slice(toChoice.length, -2).every(isMergeState)).toBe(true)
    expect(again.merges).toHaveLength(1)
  })

  it('Lambda.TooManyRequestsException: retried as often as the synthesized Retry says, then notified and failed', async () => {
    const throttled = 'Lambda.TooManyRequestsException'
    const pipeline = await pipelineWith({
      wrapHandler: failingFirst(Number.POSITIVE_INFINITY, () => namedError(throttled, 'Rate Exceeded.')),
    })
    const execution = await ingest(
      pipeline,
      'throttled.csv',
      `${LISTINGS_HEADER}\n2024-01-01,S1,London,Fashion,A,5\n`,
    )
    const [, taskState] = lambdaTask(pipeline.stateMachines.ingest.definition)
    const attempts = attemptsFor(taskState, throttled)
    expect(attempts).toBeGreaterThan(1)
    expect(execution).toMatchObject({ status: 'FAILED', attempts, taskError: { error: throttled } })
    expect(execution?.path.at(-2)).toBe(caughtBy(taskState, throttled))
    expect(execution?.notifications).toHaveLength(1)
  })

  it('Lambda.TooManyRequestsException that clears before the last attempt: the execution succeeds', async () => {
    const throttled = 'Lambda.TooManyRequestsException'
    const pipeline = await pipelineWith()
    const [, taskState] = lambdaTask(pipeline.stateMachines.ingest.definition)
    const retries = attemptsFor(taskState, throttled) - 1
    const recovering = await pipelineWith({
      wrapHandler: failingFirst(retries, () => namedError(throttled, 'Rate Exceeded.')),
    })
    const execution = await ingest(
      recovering,
      'burst.csv',
      `${LISTINGS_HEADER}\n2024-01-01,S1,London,Fashion,A,5\n`,
    )
    expect(execution).toMatchObject({ status: 'SUCCEEDED', attempts: retries + 1, notifications: [] })
  })
})

describe("the backfill's Distributed Map", () => {
  it('reads the incoming prefix of the raw bucket with bounded, configurable concurrency', async () => {
    const { definition } = stateMachineNamed(await synthesizedTemplate(), 'backfill')
    const { map } = distributedMapItemProcessor(definition, RAW_BUCKET)
    expect(map.ItemReader).toMatchObject({
      Resource: expect.stringMatching(/:states:::s3:listObjectsV2$/),
      Parameters: { Prefix: INCOMING_PREFIX },
    })
    expect(map.MaxConcurrency).toBeGreaterThan(0)
    const tuned = stateMachineNamed(await synthesizedTemplate({ backfillMaxConcurrency: 3 }), 'backfill')
    expect(distributedMapItemProcessor(tuned.definition, RAW_BUCKET).map.MaxConcurrency).toBe(3)
  }, 180_000)

  it('processes every listed object through its synthesized item processor, the same Lambda', async () => {
    const pipeline = await pipelineWith()
    await putRaw(pipeline, 'one.csv', `${LISTINGS_HEADER}\n2024-01-01,S1,London,Fashion,A,5\n`)
    await putRaw(
      pipeline,
      'two.csv',
      `${LISTINGS_HEADER}\n2024-01-01,S1,London,Fashion,A,5\n2024-01-01,S1,London,Fashion,B,6\n`,
    )
    await pipeline.settle()
    const { map } = distributedMapItemProcessor(pipeline.stateMachines.backfill.definition, RAW_BUCKET)
    const reader = map.ItemReader as { Parameters: { Prefix: string } }
    // The items the S3 item reader produces: ListObjectsV2's entries, ETag quoted as S3 returns it.
    const listed = await pipeline.s3.client.send(
      new ListObjectsV2Command({ Bucket: RAW_BUCKET, Prefix: reader.Parameters.Prefix }),
    )
    const items = (listed.Contents ?? []).map((object) => ({
      Etag: object.ETag,
      Key: object.Key,
      LastModified: Math.floor((object.LastModified?.getTime() ?? 0) / 1000),
      Size: object.Size,
      StorageClass: object.StorageClass ?? 'STANDARD',
    }))
    expect(items.map((item) => item.Key)).toEqual(['incoming/one.csv', 'incoming/two.csv'])
    const runs = await Promise.all(items.map((item) => pipeline.backfillItem(item)))
    for (const run of runs) {
      expect(run).toMatchObject({ status: 'SUCCEEDED', attempts: 1, notifications: [] })
      // Both were processed on upload: the backfill recognises the same object and version.
      expect(run.output).toMatchObject({ status: 'already_processed' })
    }
    expect(runs.map((run) => run.output?.source?.key)).toEqual(['incoming/one.csv', 'incoming/two.csv'])
  })

  it('retries a throttled item as the ingest task does', async () => {
    const throttled = 'Lambda.TooManyRequestsException'
    const fault = faultInjector(() => namedError(throttled, 'Rate Exceeded.'))
    const pipeline = await pipelineWith({ wrapHandler: fault.wrap })
    const etag = await putRaw(pipeline, 'late.csv', `${LISTINGS_HEADER}\n2024-01-01,S1,London,Fashion,A,5\n`)
    await pipeline.settle()
    fault.arm(1)
    const run = await pipeline.backfillItem({ Key: 'incoming/late.csv', Etag: `"${etag}"` })
    expect(run).toMatchObject({ status: 'SUCCEEDED', attempts: 2, taskError: { error: throttled } })
  })
})

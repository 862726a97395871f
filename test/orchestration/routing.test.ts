import { readFileSync } from 'node:fs'
import { Logger } from '@aws-lambda-powertools/logger'
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3'
import { ExecutionError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHandler, createS3Client } from '../../lambdas/ingest/src/handler.js'
import {
  LARGE_FILE_CONTAINER,
  STATES,
  TASK_EVENT_ENV,
  TASK_EXIT_CODES,
} from '../../lambdas/ingest/src/orchestration.js'
import { runTask } from '../../lambdas/ingest/src/task.js'
import { CapturingMetrics } from '../../local/src/s3/capturing-metrics.js'
import { synthesizedTemplate } from '../../local/src/s3/cdk-synth.js'
import { CurrentTableBindings } from '../../local/src/s3/current-table-bindings.js'
import { type LocalS3, startLocalS3 } from '../../local/src/s3/local-s3.js'
import { LOOKUP_KEY, RAW_BUCKET } from '../../local/src/s3/pipeline.js'
import { polyfillPromiseWithResolvers } from '../../local/src/s3/promise-with-resolvers.js'
import {
  type AslDefinition,
  type AslState,
  distributedMapItemProcessor,
  stateMachineNamed,
} from '../../local/src/s3/synthesized-template.js'
import { objectCreated } from '../helpers/object-created-event.js'
import { LISTINGS_HEADER } from '../helpers/sources.js'
import { handlerEnvironment, SAMPLE_LISTINGS, SAMPLE_LOOKUP } from '../lambda/helpers.js'

/**
 * Size routing in the synthesized ingest state machine (context
 * largeFiles=on), run by aws-local-stepfunctions: the Lambda task bound to the
 * real handler, the ECS task bound to the real task entry point
 * (lambdas/ingest/src/task.ts) with the container overrides the definition
 * sends, both against a local S3 server. The ECS binding answers as
 * `ecs:runTask.sync` does: the stopped task's description when the essential
 * container exited 0, else a `States.TaskFailed` whose Cause is that
 * description as JSON (Containers[0].ExitCode, StopCode, StoppedReason).
 */

polyfillPromiseWithResolvers()

const RAW = RAW_BUCKET
const PROCESSED = 'processed'
const listings = readFileSync(SAMPLE_LISTINGS, 'utf8')

let s3: LocalS3
let ingest: AslDefinition
let backfillItem: AslDefinition
let threshold: number

beforeAll(async () => {
  const template = await synthesizedTemplate({ largeFiles: 'on' })
  ingest = stateMachineNamed(template, 'ingest').definition
  backfillItem = distributedMapItemProcessor(
    stateMachineNamed(template, 'backfill').definition,
    RAW,
  ).definition
  const route = ingest.States[STATES.routeBySize] as AslState & {
    Choices: { NumericGreaterThan?: number }[]
  }
  threshold = Number(route.Choices.find((c) => c.NumericGreaterThan !== undefined)?.NumericGreaterThan)
  s3 = await startLocalS3([RAW, PROCESSED])
  await put(LOOKUP_KEY, readFileSync(SAMPLE_LOOKUP, 'utf8'))
}, 180_000)
afterAll(async () => {
  await s3?.close()
})

async function put(key: string, body: string): Promise<void> {
  await s3.client.send(new PutObjectCommand({ Bucket: RAW, Key: key, Body: Buffer.from(body) }))
}

async function outputsNamed(name: string): Promise<string[]> {
  const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: PROCESSED }))
  return (listed.Contents ?? []).map((o) => o.Key ?? '').filter((key) => key.includes(name))
}

/** The environment the stack gives both runtimes, here pointing at the local server. */
const environment = (extra: Record<string, string> = {}) => handlerEnvironment(s3.endpoint, PROCESSED, extra)

/** What runTask.sync reports for a task that stopped: DescribeTasks' task, in Step Functions' PascalCase. */
function stoppedTask(exitCode: number | undefined) {
  const taskArn = 'arn:aws:ecs:us-east-1:000000000000:task/listings-ingest-large-files/0123456789abcdef'
  return {
    TaskArn: taskArn,
    ClusterArn: 'arn:aws:ecs:us-east-1:000000000000:cluster/listings-ingest-large-files',
    LastStatus: 'STOPPED',
    DesiredStatus: 'STOPPED',
    LaunchType: 'FARGATE',
    StopCode: exitCode === undefined ? 'TaskFailedToStart' : 'EssentialContainerExited',
    StoppedReason:
      exitCode === undefined
        ? 'CannotPullContainerError: pull image manifest has been retried 5 time(s)'
        : 'Essential container in task exited',
    Containers: [
      {
        Name: LARGE_FILE_CONTAINER,
        LastStatus: 'STOPPED',
        ...(exitCode === undefined ? { Reason: 'CannotPullContainerError' } : { ExitCode: exitCode }),
      },
    ],
  }
}

/**
 * How the ECS binding behaves on each attempt: run the real entry point, stop without it, or fail
 * with a Cause that is not the task's description.
 */
type TaskAttempt = { env?: Record<string, string> } | { stopped: number | undefined } | { failCause: string }

/** The `error` a notification carries (the Catch's ResultPath), as SNS received it. */
function notifiedError(run: Run): { Error?: string; Cause?: string } {
  return (run.notifications[0]?.message.error ?? {}) as { Error?: string; Cause?: string }
}

interface Run {
  status: 'SUCCEEDED' | 'FAILED'
  error?: string
  output?: Record<string, unknown>
  /** Top-level states entered, in order. */
  path: string[]
  lambdaCalls: number
  /** The environment each ECS task attempt received through its container overrides. */
  taskOverrides: Record<string, string>[]
  notifications: { subject: string; message: Record<string, unknown> }[]
  /** The current table's MERGE statements sent to Athena. */
  merges: number
  /** Rebuilds of the current table started (startExecution.sync:2). */
  rebuilds: number
}

/**
 * Runs `definition` on `input` with the Lambda task bound to the handler, the
 * ECS task to the entry point (attempt by attempt as `attempts` says; the
 * last entry repeats), SNS recorded; retries wait milliseconds.
 */
async function execute(
  definition: AslDefinition,
  input: unknown,
  attempts: TaskAttempt[] = [{}],
): Promise<Run> {
  const run: Run = {
    status: 'SUCCEEDED',
    path: [],
    lambdaCalls: 0,
    taskOverrides: [],
    notifications: [],
    merges: 0,
    rebuilds: 0,
  }
  // The current table's lock, Athena (MERGE recorded) and rebuild, as the local pipeline binds them.
  const executionId = 'arn:aws:states:us-east-1:000000000000:execution:listings-ingest-ingest:run-1'
  const currentTable = new CurrentTableBindings()
  const handlers: Record<string, (input: unknown) => Promise<unknown>> = {}
  const retryIntervals: Record<string, number> = {}
  const logger = new Logger({ serviceName: 'listings-ingest', logLevel: 'SILENT' })
  for (const [name, state] of allStates(definition)) {
    if (state.Retry) retryIntervals[name] = 1
    const resource = state.Resource ?? ''
    if (/:lambda:/.test(resource)) {
      handlers[name] = async (payload) => {
        run.lambdaCalls++
        const env = environment()
        const handler = createHandler({
          s3: createS3Client(env),
          env,
          logger,
          metrics: new CapturingMetrics(),
        })
        return JSON.parse(JSON.stringify(await handler(payload)))
      }
    } else if (/:states:::ecs:runTask\.sync$/.test(resource)) {
      handlers[name] = async (parameters) => {
        const container = (
          parameters as {
            Overrides: {
              ContainerOverrides: { Name: string; Environment: { Name: string; Value: string }[] }[]
            }
          }
        ).Overrides.ContainerOverrides[0]
        expect(container?.Name).toBe(LARGE_FILE_CONTAINER)
        const overrides = Object.fromEntries((container?.Environment ?? []).map((v) => [v.Name, v.Value]))
        const attempt = attempts[Math.min(run.taskOverrides.length, attempts.length - 1)] ?? {}
        run.taskOverrides.push(overrides)
        if ('failCause' in attempt) {
          throw Object.assign(new Error(attempt.failCause), { name: 'States.TaskFailed' })
        }
        let exitCode: number | undefined
        if ('stopped' in attempt) {
          exitCode = attempt.stopped
        } else {
          const env = { ...environment(attempt.env), ...overrides }
          exitCode = await runTask({ s3: createS3Client(env), env, logger, metrics: new CapturingMetrics() })
        }
        const task = stoppedTask(exitCode)
        if (exitCode === 0) return task
        throw Object.assign(new Error(JSON.stringify(task)), { name: 'States.TaskFailed' })
      }
    } else if (/:states:::sns:publish$/.test(resource)) {
      handlers[name] = async (parameters) => {
        const { Subject, Message } = parameters as { Subject: string; Message: Record<string, unknown> }
        run.notifications.push({ subject: Subject, message: Message })
        return { MessageId: 'm-1' }
      }
    } else if (currentTable.handlerFor(resource, () => executionId) !== undefined) {
      const handler = currentTable.handlerFor(resource, () => executionId)
      handlers[name] = async (parameters) => handler?.(parameters as Record<string, unknown>)
    } else if (state.Type === 'Task') {
      throw new Error(`no binding for ${name} (${resource})`)
    }
  }
  const machine = new StateMachine(definition as StateMachineDefinition, {
    validationOptions: { noValidate: true },
  })
  const { result, eventLogs } = machine.run(input as never, {
    overrides: { taskResourceLocalHandlers: handlers as never, retryIntervalOverrides: retryIntervals },
    context: {
      Execution: { Id: executionId },
      State: { EnteredTime: '2026-11-29T06:00:00.000Z', Name: '' },
    },
  })
  const history = (async () => {
    for await (const event of eventLogs) {
      if (event.type === 'StateEntered' && definition.States[event.state.name] !== undefined) {
        run.path.push(event.state.name)
      }
    }
  })()
  try {
    run.output = (await result) as Record<string, unknown>
  } catch (error) {
    if (!(error instanceof ExecutionError)) throw error
    run.status = 'FAILED'
    run.error = (error.cause as Error).name
  } finally {
    await history
  }
  run.merges = currentTable.queries.length
  run.rebuilds = currentTable.rebuilds.length
  return run
}

/** Every state, those inside Parallel branches included. */
function* allStates(definition: { States: Record<string, AslState> }): Generator<[string, AslState]> {
  for (const [name, state] of Object.entries(definition.States)) {
    yield [name, state]
    for (const branch of (state.Branches as { States: Record<string, AslState> }[] | undefined) ?? []) {
      yield* allStates(branch)
    }
  }
}

/** The states of an execution whose large file the Fargate task processed. */
const LARGE_FILE_PROCESSED = [
  STATES.routeBySize,
  STATES.ingestLargeFile,
  STATES.checkLargeFileResult,
  STATES.rebuildAfterLargeFile,
  STATES.processed,
]

describe('routing by size in the synthesized ingest state machine', () => {
  it('sends an object up to the threshold to the Lambda, and never starts the task', async () => {
    await put('incoming/small.csv', listings)
    const run = await execute(ingest, objectCreated('incoming/small.csv', { size: threshold }))
    expect(run).toMatchObject({
      status: 'SUCCEEDED',
      lambdaCalls: 1,
      taskOverrides: [],
      merges: 1,
      rebuilds: 0,
    })
    expect(run.path.slice(0, 3)).toEqual([STATES.routeBySize, STATES.ingest, STATES.checkResult])
    expect(run.path.slice(-2)).toEqual([STATES.afterMerge, STATES.processed])
    expect(threshold).toBeGreaterThan(1_000_000_000)
  })

  it('sends a request without a size (a direct re-run) to the Lambda', async () => {
    const run = await execute(ingest, { bucket: RAW, key: 'incoming/small.csv' })
    expect(run.path.slice(0, 2)).toEqual([STATES.routeBySize, STATES.ingest])
    expect(run).toMatchObject({ status: 'SUCCEEDED', lambdaCalls: 1, taskOverrides: [] })
  })

  it('runs a larger object on Fargate: the entry point gets the event and execution id, outputs are published', async () => {
    await put('incoming/large.csv', listings)
    const event = objectCreated('incoming/large.csv', { size: threshold + 1 })
    const run = await execute(ingest, event)
    // The task returns no summary to MERGE: the current table is rebuilt from the live outputs instead.
    expect(run).toMatchObject({
      status: 'SUCCEEDED',
      path: LARGE_FILE_PROCESSED,
      lambdaCalls: 0,
      notifications: [],
      merges: 0,
      rebuilds: 1,
    })
    expect(run.taskOverrides).toEqual([
      {
        [TASK_EVENT_ENV.event]: JSON.stringify(event),
        [TASK_EVENT_ENV.executionId]:
          'arn:aws:states:us-east-1:000000000000:execution:listings-ingest-ingest:run-1',
      },
    ])
    expect(await outputsNamed('large')).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^listings\/dt=.*\/large\.parquet$/),
        expect.stringMatching(/^reports\//),
        '_manifests/large.json',
      ]),
    )
  })

  it('ends a repeated large event on NothingToDo, with no notification', async () => {
    const run = await execute(ingest, objectCreated('incoming/large.csv', { size: threshold + 1 }))
    expect(run).toMatchObject({
      status: 'SUCCEEDED',
      path: [STATES.routeBySize, STATES.ingestLargeFile, STATES.checkLargeFileResult, STATES.nothingToDo],
      notifications: [],
    })
  })

  it('notifies a large file that produced no rows, as for the Lambda', async () => {
    await put('incoming/large-empty.csv', `${LISTINGS_HEADER}\n2024-01-01,s1,north,toys,i1,-5\n`)
    const run = await execute(ingest, objectCreated('incoming/large-empty.csv', { size: threshold + 1 }))
    expect(run.status).toBe('SUCCEEDED')
    expect(run.path).toEqual([
      STATES.routeBySize,
      STATES.ingestLargeFile,
      STATES.checkLargeFileResult,
      STATES.notifyNoRows,
      STATES.processed,
    ])
    expect(run.notifications).toHaveLength(1)
  })

  it('takes a data-quality breach on Fargate to the same DQ branch: notified, fails with the DQ error', async () => {
    await put('incoming/large-breach.csv', listings)
    const run = await execute(ingest, objectCreated('incoming/large-breach.csv', { size: threshold + 1 }), [
      { env: { MAX_REJECTED_RATIO: '0.01' } },
    ])
    expect(run).toMatchObject({
      status: 'FAILED',
      error: 'DataQualityThresholdError',
      path: [
        STATES.routeBySize,
        STATES.ingestLargeFile,
        STATES.notifyDataQualityFailure,
        STATES.dataQualityFailed,
      ],
    })
    expect(run.taskOverrides).toHaveLength(1)
    const error = notifiedError(run)
    expect(error.Error).toBe('DataQualityThresholdError')
    expect(JSON.parse(error.Cause ?? '')).toMatchObject({
      Containers: [{ ExitCode: TASK_EXIT_CODES.DataQualityThresholdError }],
    })
    expect((await outputsNamed('large-breach')).some((key) => key.startsWith('listings/'))).toBe(false)
  })

  it('retries a transient failure on Fargate (S3 unreachable, then reachable) and succeeds', async () => {
    await put('incoming/large-flaky.csv', listings)
    const run = await execute(ingest, objectCreated('incoming/large-flaky.csv', { size: threshold + 1 }), [
      { env: { S3_ENDPOINT: 'http://127.0.0.1:9' } },
      {},
    ])
    expect(run).toMatchObject({
      status: 'SUCCEEDED',
      path: LARGE_FILE_PROCESSED,
    })
    expect(run.taskOverrides).toHaveLength(2)
  }, 30_000)

  it('retries a task that never started (no exit code) as transient, then notifies and fails', async () => {
    const retrier = (ingest.States[STATES.ingestLargeFile]?.Retry ?? []).find((r) =>
      r.ErrorEquals.includes('TransientError'),
    )
    const run = await execute(ingest, objectCreated('incoming/large.csv', { size: threshold + 1 }), [
      { stopped: undefined },
    ])
    expect(run.taskOverrides).toHaveLength(1 + (retrier?.MaxAttempts ?? 0))
    expect(run).toMatchObject({
      status: 'FAILED',
      error: 'IngestFailed',
      path: [STATES.routeBySize, STATES.ingestLargeFile, STATES.notifyFailure, STATES.ingestFailed],
    })
  })

  it('notifies and fails an unexpected exit (137: killed, out of memory) without retrying', async () => {
    const run = await execute(ingest, objectCreated('incoming/large.csv', { size: threshold + 1 }), [
      { stopped: 137 },
    ])
    expect(run).toMatchObject({
      status: 'FAILED',
      error: 'IngestFailed',
      path: [STATES.routeBySize, STATES.ingestLargeFile, STATES.notifyFailure, STATES.ingestFailed],
    })
    expect(run.taskOverrides).toHaveLength(1)
    expect(notifiedError(run).Error).toBe('LargeFileTaskFailed')
  })

  it('notifies and fails a task failure whose Cause is not the task description, without retrying', async () => {
    const run = await execute(ingest, objectCreated('incoming/large.csv', { size: threshold + 1 }), [
      { failCause: 'Essential container in task exited' },
    ])
    expect(run).toMatchObject({
      status: 'FAILED',
      error: 'IngestFailed',
      path: [STATES.routeBySize, STATES.ingestLargeFile, STATES.notifyFailure, STATES.ingestFailed],
    })
    expect(run.taskOverrides).toHaveLength(1)
    expect(notifiedError(run)).toEqual({
      Error: 'LargeFileTaskFailed',
      Cause: 'Essential container in task exited',
    })
  })

  it('fails an invalid large file on the failure branch, not retried, named as the Lambda would name it', async () => {
    await put('incoming/large-invalid.csv', 'not,the,expected,header\n1,2,3,4\n')
    const run = await execute(ingest, objectCreated('incoming/large-invalid.csv', { size: threshold + 1 }))
    expect(run).toMatchObject({ status: 'FAILED', error: 'IngestFailed' })
    expect(run.taskOverrides).toHaveLength(1)
    expect(notifiedError(run).Error).toBe('InvalidInputError')
  })
})

describe("routing by size in the backfill's item processor", () => {
  it('runs each listed object by its Size: the Lambda up to the threshold, Fargate above', async () => {
    await put('incoming/backfill-small.csv', listings)
    await put('incoming/backfill-large.csv', listings)
    const small = await execute(backfillItem, { Key: 'incoming/backfill-small.csv', Size: 10, Etag: '' })
    expect(small).toMatchObject({ status: 'SUCCEEDED', lambdaCalls: 1, taskOverrides: [] })
    const large = await execute(backfillItem, {
      Key: 'incoming/backfill-large.csv',
      Size: threshold + 1,
      Etag: '',
    })
    expect(large).toMatchObject({ status: 'SUCCEEDED', lambdaCalls: 0 })
    expect(JSON.parse(large.taskOverrides[0]?.[TASK_EVENT_ENV.event] ?? '{}')).toEqual({
      bucket: RAW,
      key: 'incoming/backfill-large.csv',
      etag: '',
    })
    expect(await outputsNamed('backfill-large')).toContain('_manifests/backfill-large.json')
  })

  it('fails the item when the task breaches a threshold, as the Lambda item would', async () => {
    await put('incoming/backfill-breach.csv', listings)
    const run = await execute(
      backfillItem,
      { Key: 'incoming/backfill-breach.csv', Size: threshold + 1, Etag: '' },
      [{ env: { MAX_REJECTED_RATIO: '0.01' } }],
    )
    expect(run).toMatchObject({ status: 'FAILED', error: 'DataQualityThresholdError' })
  })
})

import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Logger } from '@aws-lambda-powertools/logger'
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHandler, createS3Client } from '../../lambdas/ingest/src/handler.js'
import type { IngestSummary } from '../../lambdas/ingest/src/ingest-summary.js'
import { TASK_EVENT_ENV, TASK_EXIT_CODES } from '../../lambdas/ingest/src/orchestration.js'
import { exitCodeFor, runTask, taskEvent } from '../../lambdas/ingest/src/task.js'
import { CapturingMetrics } from '../../local/src/s3/capturing-metrics.js'
import { type LocalS3, startLocalS3 } from '../../local/src/s3/local-s3.js'
import { LOOKUP_KEY, RAW_BUCKET } from '../../local/src/s3/pipeline.js'
import { contractCounts, modelIngest } from '../helpers/model.js'
import { objectCreated } from '../helpers/object-created-event.js'
import { readWithDuckdb } from '../helpers/parquet-readers.js'
import { LISTINGS_HEADER } from '../helpers/sources.js'
import { handlerEnvironment, SAMPLE_LISTINGS, SAMPLE_LOOKUP, tempFile } from './helpers.js'

/**
 * The large-file task's entry point (lambdas/ingest/src/task.ts) against a
 * local S3 server: the same program as the Lambda, so the same outputs for
 * the same file, and each outcome as the exit code the state machine reads.
 */

const RAW = RAW_BUCKET
const BY_LAMBDA = 'processed-by-lambda'
const BY_TASK = 'processed-by-task'
const listings = readFileSync(SAMPLE_LISTINGS, 'utf8')
const lookup = readFileSync(SAMPLE_LOOKUP, 'utf8')

let s3: LocalS3
const quiet = () => new Logger({ serviceName: 'listings-ingest', logLevel: 'SILENT' })

beforeAll(async () => {
  s3 = await startLocalS3([RAW, BY_LAMBDA, BY_TASK])
  await put(LOOKUP_KEY, lookup)
}, 60_000)
afterAll(async () => {
  await s3.close()
})

async function put(key: string, body: string): Promise<void> {
  await s3.client.send(new PutObjectCommand({ Bucket: RAW, Key: key, Body: Buffer.from(body) }))
}

async function keysOf(bucket: string): Promise<string[]> {
  const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket }))
  return (listed.Contents ?? []).map((o) => o.Key ?? '').sort()
}

async function read(bucket: string, key: string): Promise<Buffer> {
  const object = await s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
  return Buffer.from(await (object.Body?.transformToByteArray() ?? new Uint8Array()))
}

/** The environment both runtimes get from the stack, writing to `processed`. */
const environment = (processed: string, extra: Record<string, string> = {}) =>
  handlerEnvironment(s3.endpoint, processed, extra)

/** Runs the task's program as the container would, in process: the event in its environment. */
async function task(event: unknown, extra: Record<string, string> = {}) {
  const metrics = new CapturingMetrics()
  const env = {
    ...environment(BY_TASK, extra),
    [TASK_EVENT_ENV.event]: JSON.stringify(event),
    [TASK_EVENT_ENV.executionId]: 'arn:aws:states:us-east-1:000000000000:execution:x:1',
  }
  const code = await runTask({ s3: createS3Client(env), env, logger: quiet(), metrics })
  return { code, metrics }
}

describe('the task entry point, against the local S3 server', () => {
  it('processes a file with the same outputs as the Lambda: keys, counts, rows and metrics', async () => {
    await put('incoming/sample.csv', listings)
    const event = objectCreated('incoming/sample.csv', { size: Buffer.byteLength(listings) })
    const lambdaMetrics = new CapturingMetrics()
    const lambdaEnv = environment(BY_LAMBDA)
    const summary = await createHandler({
      s3: createS3Client(lambdaEnv),
      env: lambdaEnv,
      logger: quiet(),
      metrics: lambdaMetrics,
    })({ event, executionId: 'arn:aws:states:us-east-1:000000000000:execution:x:0' })

    const { code, metrics } = await task(event)
    expect(code).toBe(TASK_EXIT_CODES.processed)
    const keys = await keysOf(BY_TASK)
    expect(keys).toEqual(await keysOf(BY_LAMBDA))
    expect(keys).toEqual(
      expect.arrayContaining([summary.outputs?.parquet, summary.outputs?.rejected, summary.outputs?.report]),
    )

    const expected = modelIngest(listings, lookup)
    const report = JSON.parse((await read(BY_TASK, summary.outputs?.report ?? '')).toString())
    const lambdaReport = JSON.parse((await read(BY_LAMBDA, summary.outputs?.report ?? '')).toString())
    expect(report).toMatchObject(contractCounts(expected))
    for (const field of ['source_rows', 'rows_after_dedup', 'rejected_rows', 'reasons', 'ratios', 'status']) {
      expect(report[field], field).toEqual(lambdaReport[field])
    }
    const parquet = await read(BY_TASK, summary.outputs?.parquet ?? '')
    expect(await readWithDuckdb(tempFile('task.parquet', parquet))).toEqual(expected.rows)
    expect(parquet.equals(await read(BY_LAMBDA, summary.outputs?.parquet ?? ''))).toBe(true)
    expect(await read(BY_TASK, summary.outputs?.rejected ?? '')).toEqual(
      await read(BY_LAMBDA, summary.outputs?.rejected ?? ''),
    )

    const figures = (published: CapturingMetrics['published']) => {
      const { _aws, ...values } = published.at(-1) as Record<string, unknown>
      return Object.fromEntries(Object.entries(values).filter(([name]) => !/Duration/i.test(name)))
    }
    expect(figures(metrics.published)).toEqual(figures(lambdaMetrics.published))
  })

  it('exits nothingToDo for a repeated event, leaving the outputs as they were', async () => {
    const before = await keysOf(BY_TASK)
    const { code } = await task(objectCreated('incoming/sample.csv', { size: Buffer.byteLength(listings) }))
    expect(code).toBe(TASK_EXIT_CODES.nothingToDo)
    expect(await keysOf(BY_TASK)).toEqual(before)
  })

  it('exits noRowsWritten when every row is rejected', async () => {
    const text = `${LISTINGS_HEADER}\n2024-01-01,s1,north,toys,i1,-5\n2024-01-02,s2,south,toys,i2,0\n`
    await put('incoming/all-rejected.csv', text)
    const { code } = await task(objectCreated('incoming/all-rejected.csv', { size: text.length }))
    expect(code).toBe(TASK_EXIT_CODES.noRowsWritten)
    expect(await keysOf(BY_TASK)).toContain('_manifests/all-rejected.json')
  })

  it('exits with the DataQualityThresholdError code after writing the report and rejects, with no Parquet', async () => {
    await put('incoming/breach.csv', listings)
    const { code } = await task(objectCreated('incoming/breach.csv', { size: listings.length }), {
      MAX_REJECTED_RATIO: '0.01',
    })
    expect(code).toBe(TASK_EXIT_CODES.DataQualityThresholdError)
    const keys = (await keysOf(BY_TASK)).filter((key) => key.includes('breach'))
    expect(keys.some((key) => key.startsWith('reports/'))).toBe(true)
    expect(keys.some((key) => key.startsWith('listings/'))).toBe(false)
  })

  it('exits InvalidInputError for a file it cannot process, ConfigurationError for a missing lookup', async () => {
    await put('incoming/empty.csv', '')
    expect((await task(objectCreated('incoming/empty.csv', { size: 0 }))).code).toBe(
      TASK_EXIT_CODES.InvalidInputError,
    )
    await put('incoming/other.csv', listings)
    const missingLookup = await task(objectCreated('incoming/other.csv', { size: listings.length }), {
      LOOKUP_URI: `s3://${RAW}/reference/missing.csv`,
    })
    expect(missingLookup.code).toBe(TASK_EXIT_CODES.ConfigurationError)
  })

  it('exits TransientError when S3 cannot be reached', async () => {
    const { code } = await task(objectCreated('incoming/sample.csv', { size: 1 }), {
      S3_ENDPOINT: 'http://127.0.0.1:9',
    })
    expect(code).toBe(TASK_EXIT_CODES.TransientError)
  }, 30_000)

  it('exits ConfigurationError without an event, and nothingToDo for an event that is not JSON', async () => {
    const env = environment(BY_TASK)
    const logger = quiet()
    const metrics = new CapturingMetrics()
    expect(await runTask({ s3: s3.client, env, logger, metrics })).toBe(TASK_EXIT_CODES.ConfigurationError)
    expect(
      await runTask({ s3: s3.client, env: { ...env, [TASK_EVENT_ENV.event]: '{not json' }, logger, metrics }),
    ).toBe(TASK_EXIT_CODES.nothingToDo)
  })
})

describe('exitCodeFor', () => {
  const source = { bucket: 'raw', key: 'incoming/a.csv', etag: 'e1' }
  const outputs = { bucket: 'processed', parquet: 'p', rejected: 'r', report: 'j', report_html: 'h' }
  const processed = (rows: number): IngestSummary => ({
    status: 'processed',
    source,
    threshold_breached: false,
    counts: {
      source_rows: rows,
      valid_rows_after_clean: rows,
      rows_after_dedup: rows,
      dropped_missing_required: 0,
      dropped_non_positive_price: 0,
      duplicates_removed: 0,
      rows_without_segment: 0,
    },
    outputs,
  })
  const nothingDone: IngestSummary[] = [
    { status: 'already_processed', reason: 'done before', source, threshold_breached: false, outputs },
    { status: 'skipped', reason: 'superseded', threshold_breached: false },
  ]

  it('maps every summary and every error the handler throws on purpose to its own code', () => {
    expect(exitCodeFor({ summary: processed(3) })).toBe(0)
    expect(exitCodeFor({ summary: processed(0) })).toBe(TASK_EXIT_CODES.noRowsWritten)
    for (const summary of nothingDone) {
      expect(exitCodeFor({ summary })).toBe(TASK_EXIT_CODES.nothingToDo)
    }
    for (const name of [
      'DataQualityThresholdError',
      'InvalidInputError',
      'ConfigurationError',
      'TransientError',
    ]) {
      const error = Object.assign(new Error('x'), { name })
      expect(exitCodeFor({ error })).toBe(TASK_EXIT_CODES[name as keyof typeof TASK_EXIT_CODES])
    }
    expect(exitCodeFor({ error: new TypeError('a bug') })).toBe(1)
    expect(exitCodeFor({ error: 'thrown text' })).toBe(1)
  })

  it('gives every outcome a distinct code, none of them 1 (a crash) or above 125 (signals)', () => {
    const codes: number[] = Object.values(TASK_EXIT_CODES)
    expect(new Set(codes).size).toBe(codes.length)
    expect(codes).not.toContain(1)
    for (const code of codes) expect(code).toBeLessThanOrEqual(125)
  })
})

describe('taskEvent', () => {
  it('wraps the parsed event with the execution id, as the Lambda task does', () => {
    expect(
      taskEvent({ [TASK_EVENT_ENV.event]: '{"bucket":"b","key":"k"}', [TASK_EVENT_ENV.executionId]: 'e' }),
    ).toEqual({
      event: { bucket: 'b', key: 'k' },
      executionId: 'e',
    })
    expect(taskEvent({})).toBeUndefined()
  })
})

describe('the bundled entry point, as the container runs it', () => {
  let dir: string
  let bundle: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'task-bundle-'))
    bundle = join(dir, 'task.mjs')
    // The Dockerfile's esbuild command, here with the local esbuild.
    await build({
      entryPoints: ['lambdas/ingest/src/task-main.ts'],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      minify: true,
      mainFields: ['module', 'main'],
      banner: {
        js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
      },
      outfile: bundle,
      logLevel: 'warning',
    })
  }, 60_000)
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true })
  })

  async function runBundle(event: unknown, extra: Record<string, string> = {}) {
    const env = {
      PATH: process.env.PATH ?? '',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...environment(BY_TASK, extra),
      [TASK_EVENT_ENV.event]: JSON.stringify(event),
    }
    return promisify(execFile)(process.execPath, [bundle], { env }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    )
  }

  it('exits 0 after processing, logging JSON lines with the exit code', async () => {
    await put('incoming/bundled.csv', listings)
    const { code, stdout } = await runBundle(objectCreated('incoming/bundled.csv', { size: listings.length }))
    expect(code).toBe(0)
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(lines.at(-1)).toMatchObject({ message: 'large-file task finished', exit_code: 0 })
    expect(await keysOf(BY_TASK)).toContain('_manifests/bundled.json')
  }, 60_000)

  it('reads a file over its memory budget twice, encoding on its second core, with the same Parquet', async () => {
    await put('incoming/bundled-one-pass.csv', listings)
    await put('incoming/bundled-two-passes.csv', listings)
    expect(
      (await runBundle(objectCreated('incoming/bundled-one-pass.csv', { size: listings.length }))).code,
    ).toBe(0)
    // A budget of 0 MiB forces two passes; on two cores the encoder then runs on a worker thread.
    const twoPasses = await runBundle(
      objectCreated('incoming/bundled-two-passes.csv', { size: listings.length }),
      {
        MEMORY_BUDGET_MIB: '0',
      },
    )
    expect(twoPasses.code).toBe(0)
    const keys = await keysOf(BY_TASK)
    const parquetOf = (name: string) =>
      keys.find((k) => k.startsWith('listings/') && k.endsWith(`/${name}.parquet`))
    const onePass = await read(BY_TASK, parquetOf('bundled-one-pass') ?? 'missing')
    expect(onePass.length).toBeGreaterThan(0)
    expect(await read(BY_TASK, parquetOf('bundled-two-passes') ?? 'missing')).toEqual(onePass)
  }, 60_000)

  it('exits with the DataQualityThresholdError code on a breach', async () => {
    await put('incoming/bundled-breach.csv', listings)
    const { code } = await runBundle(
      objectCreated('incoming/bundled-breach.csv', { size: listings.length }),
      {
        MAX_REJECTED_RATIO: '0.01',
      },
    )
    expect(code).toBe(TASK_EXIT_CODES.DataQualityThresholdError)
  }, 60_000)
})

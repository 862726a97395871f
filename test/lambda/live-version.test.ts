import { readFileSync } from 'node:fs'
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Manifest } from '../../lambdas/ingest/src/live-version.js'
import { STATES } from '../../lambdas/ingest/src/orchestration.js'
import { outputKeysFor, reportHtmlKey } from '../../lambdas/ingest/src/output-keys.js'
import {
  INCOMING_PREFIX,
  LOOKUP_KEY,
  type LocalPipeline,
  PROCESSED_BUCKET,
  RAW_BUCKET,
  startLocalPipeline,
} from '../../local/src/s3/pipeline.js'
import { objectCreated } from '../helpers/object-created-event.js'
import { readWithDuckdb } from '../helpers/parquet-readers.js'
import { LISTINGS_HEADER } from '../helpers/sources.js'
import { processedKeys, putRaw, readProcessed, SAMPLE_LOOKUP, tempFile } from './helpers.js'
import { type RequestHookProxy, startRequestHookProxy } from './request-hook-proxy.js'

const rows = (...lines: string[]) => `${LISTINGS_HEADER}\n${lines.join('\n')}\n`

/** Every row good. */
const GOOD_V1 = rows('2024-01-01,S1,London,Fashion,A,5', '2024-01-01,S1,London,Fashion,B,6')
/** Three rows of four rejected (price not positive): 75% rejected, over the 50% limit. */
const BREACHING_V2 = rows(
  '2024-01-02,S1,London,Fashion,C,7',
  '2024-01-02,S1,London,Fashion,D,0',
  '2024-01-02,S1,London,Fashion,E,-1',
  '2024-01-02,S1,London,Fashion,F,0',
)
const GOOD_V3 = rows(
  '2024-01-03,S1,London,Fashion,G,8',
  '2024-01-03,S1,London,Fashion,H,9',
  '2024-01-03,S1,London,Fashion,I,10',
)

let pipeline: LocalPipeline
beforeAll(async () => {
  pipeline = await startLocalPipeline(SAMPLE_LOOKUP, {
    intervalScale: 0.001,
    env: { MAX_REJECTED_RATIO: '0.5' },
  })
})
afterAll(async () => {
  await pipeline.close()
})

/** The keys a source key's outputs go to, for the day S3 stamped on its upload. */
async function keysOf(name: string) {
  const head = await pipeline.s3.client.send(
    new HeadObjectCommand({ Bucket: RAW_BUCKET, Key: `${INCOMING_PREFIX}${name}` }),
  )
  return outputKeysFor(`${INCOMING_PREFIX}${name}`, INCOMING_PREFIX, head.LastModified ?? new Date())
}
const readJson = async (key: string) => JSON.parse((await readProcessed(pipeline, key)).toString())
const itemIds = async (parquetKey: string) =>
  (await readWithDuckdb(tempFile('live.parquet', await readProcessed(pipeline, parquetKey)))).map(
    (row) => row.item_id,
  )
/** Uploads a version and waits for the execution its upload starts; returns its ETag and that execution. */
async function uploadAndRun(name: string, text: string) {
  const etag = await putRaw(pipeline, name, text)
  return { etag, execution: (await pipeline.settle()).at(-1) }
}

describe('which version is live after a data-quality breach', () => {
  const name = 'versions.csv'
  let v1 = ''
  let v2 = ''

  it('publishes a good first version, and the manifest names it live and last tried', async () => {
    const etag = await putRaw(pipeline, name, GOOD_V1)
    const [execution] = await pipeline.settle()
    expect(execution?.output).toMatchObject({ status: 'processed', counts: { rows_after_dedup: 2 } })
    v1 = etag
    const keys = await keysOf(name)
    const manifest: Manifest = await readJson(keys.manifest)
    expect(manifest).toMatchObject({
      manifest_version: 2,
      live: {
        source: { etag: v1 },
        parquet: keys.parquet,
        rejected: keys.rejected,
        report: keys.report,
        rows: 2,
      },
      last_attempt: { source: { etag: v1 }, status: 'succeeded' },
    })
    const report = await readJson(keys.report)
    expect(report.output.parquet).toMatchObject({
      published: true,
      path: `s3://${PROCESSED_BUCKET}/${keys.parquet}`,
      rows: 2,
      sha256: manifest.live?.sha256,
    })
  })

  it('keeps the good version live when a newer one breaches, and says so in manifest and report', async () => {
    const etag = await putRaw(pipeline, name, BREACHING_V2)
    const executions = await pipeline.settle()
    const execution = executions.at(-1)
    expect(execution).toMatchObject({ status: 'FAILED', taskError: { error: 'DataQualityThresholdError' } })
    expect(execution?.path.at(-1)).toBe(STATES.dataQualityFailed)
    v2 = etag
    const keys = await keysOf(name)
    expect(await itemIds(keys.parquet)).toEqual(['A', 'B'])

    const manifest: Manifest = await readJson(keys.manifest)
    expect(manifest.live).toMatchObject({ source: { etag: v1 }, parquet: keys.parquet, rows: 2 })
    // Same key, same day: the breach's rejects and report were written where v1's were.
    expect(manifest.live).toMatchObject({ rejected: null, report: null })
    expect(manifest.last_attempt).toMatchObject({
      source: { etag: v2 },
      status: 'threshold_breached',
      rejected: keys.rejected,
      report: keys.report,
    })

    const report = await readJson(keys.report)
    expect(report).toMatchObject({ status: 'threshold_breached', source: { etag: v2 } })
    expect(report.output.parquet).toEqual({
      published: false,
      live: `s3://${PROCESSED_BUCKET}/${keys.parquet}`,
      live_source_version: { etag: v1 },
    })
    const rejected = (await readProcessed(pipeline, keys.rejected)).toString().trim().split('\n')
    expect(rejected).toHaveLength(1 + 3)
  })

  it('does not flip the outputs back on a redelivered event for the older version', async () => {
    const keys = await keysOf(name)
    const before = await readJson(keys.manifest)
    const execution = await pipeline.execute(objectCreated(`${INCOMING_PREFIX}${name}`, { etag: v1 }))
    expect(execution.output).toMatchObject({
      status: 'skipped',
      reason: expect.stringContaining('superseded'),
    })
    expect(await readJson(keys.manifest)).toEqual(before)
    expect(await itemIds(keys.parquet)).toEqual(['A', 'B'])
  })

  it('replaces the live data with the next good version and keeps one set of outputs', async () => {
    const etag = await putRaw(pipeline, name, GOOD_V3)
    const executions = await pipeline.settle()
    expect(executions.at(-1)?.output).toMatchObject({ status: 'processed', counts: { rows_after_dedup: 3 } })
    const keys = await keysOf(name)
    expect(await itemIds(keys.parquet)).toEqual(['G', 'H', 'I'])
    const manifest: Manifest = await readJson(keys.manifest)
    expect(manifest).toMatchObject({
      live: {
        source: { etag },
        parquet: keys.parquet,
        rejected: keys.rejected,
        report: keys.report,
        rows: 3,
      },
      last_attempt: { source: { etag }, status: 'succeeded' },
    })
    const ofThisSource = (await processedKeys(pipeline)).filter((key) => key.includes('versions'))
    expect(ofThisSource.sort()).toEqual(
      [keys.manifest, keys.parquet, keys.rejected, keys.report, reportHtmlKey(keys.report)].sort(),
    )
    const again = await pipeline.execute(objectCreated(`${INCOMING_PREFIX}${name}`, { etag }))
    expect(again.output).toMatchObject({ status: 'already_processed' })
    for (const old of [v1, v2]) {
      const late = await pipeline.execute(objectCreated(`${INCOMING_PREFIX}${name}`, { etag: old }))
      expect(late.output).toMatchObject({ status: 'skipped', reason: expect.stringContaining('superseded') })
    }
    expect(await readJson(keys.manifest)).toEqual(manifest)
    expect(await itemIds(keys.parquet)).toEqual(['G', 'H', 'I'])
  })

  it('says nothing is live when the first version of a source breaches', async () => {
    const { execution } = await uploadAndRun('first-breach.csv', BREACHING_V2)
    expect(execution).toMatchObject({ status: 'FAILED', taskError: { error: 'DataQualityThresholdError' } })
    const keys = await keysOf('first-breach.csv')
    expect((await readJson(keys.report)).output.parquet).toEqual({
      published: false,
      live: null,
      live_source_version: null,
    })
    expect((await readJson(keys.manifest)).live).toBeNull()
    expect(await processedKeys(pipeline)).not.toContain(keys.parquet)
  })
})

describe('the source changing under a run', () => {
  let proxied: LocalPipeline
  let proxy: RequestHookProxy
  /** Called with each request the handler makes, before it is forwarded. */
  let hook: (method: string, objectPath: string) => Promise<void> = async () => undefined
  /**
   * Runs `action` once, when the handler HEADs the source `key` the second
   * time. It HEADs the source when it starts and again just before it
   * publishes, after its reads (one read when the rows fit the memory budget,
   * two otherwise), so the second HEAD is the moment between reading the
   * source and publishing.
   *
   * @returns whether the action has run
   */
  function onceBeforePublishing(key: string, action: () => Promise<unknown>): () => boolean {
    const target = `/${RAW_BUCKET}/${key}`
    let heads = 0
    let ran = false
    hook = async (method, objectPath) => {
      if (method === 'HEAD' && objectPath === target) heads++
      if (heads !== 2 || ran) return
      ran = true
      await action()
    }
    return () => ran
  }

  beforeAll(async () => {
    let serverPort = 0
    proxy = await startRequestHookProxy(
      () => serverPort,
      (method, path) => hook(method, decodeURIComponent(path.split('?')[0] ?? '')),
    )
    proxied = await startLocalPipeline(SAMPLE_LOOKUP, {
      intervalScale: 0.001,
      handlerEndpoint: () => proxy.endpoint,
    })
    serverPort = Number(new URL(proxied.s3.endpoint).port)
  })
  afterAll(async () => {
    await proxied.close()
    await proxy.close()
  })

  it('skips a source deleted after it was read, publishing nothing: no misconfiguration', async () => {
    const key = `${INCOMING_PREFIX}vanishing.csv`
    const deleted = onceBeforePublishing(key, () =>
      proxied.s3.client.send(new DeleteObjectCommand({ Bucket: RAW_BUCKET, Key: key })),
    )
    await proxied.s3.client.send(new PutObjectCommand({ Bucket: RAW_BUCKET, Key: key, Body: GOOD_V1 }))
    const [execution] = await proxied.settle()
    expect(deleted()).toBe(true)
    expect(execution).toMatchObject({
      status: 'SUCCEEDED',
      output: {
        status: 'skipped',
        reason: 'source object was deleted during the run; nothing published',
        source: { key },
      },
    })
    expect((await processedKeys(proxied)).filter((k) => k.includes('vanishing'))).toEqual([])
  })

  it('publishes nothing from a run that a newer upload overtook after its reads', async () => {
    const key = `${INCOMING_PREFIX}overtaken.csv`
    // Once the first run has read the source, its check before publishing waits until a newer upload is fully processed.
    const overtaken = onceBeforePublishing(key, async () => {
      const started = proxied.executions.length
      await proxied.s3.client.send(new PutObjectCommand({ Bucket: RAW_BUCKET, Key: key, Body: GOOD_V3 }))
      while (proxied.executions.length === started) await new Promise((resolve) => setTimeout(resolve, 10))
      await proxied.executions.at(-1)
    })
    const before = proxied.executions.length
    await proxied.s3.client.send(new PutObjectCommand({ Bucket: RAW_BUCKET, Key: key, Body: GOOD_V1 }))
    const executions = (await proxied.settle()).slice(before)
    expect(overtaken()).toBe(true)
    expect(executions.map((e) => e.output?.status).sort()).toEqual(['processed', 'skipped'])
    expect(executions.find((e) => e.output?.status === 'skipped')?.output?.reason).toContain('superseded')
    const head = await proxied.s3.client.send(new HeadObjectCommand({ Bucket: RAW_BUCKET, Key: key }))
    const keys = outputKeysFor(key, INCOMING_PREFIX, head.LastModified ?? new Date())
    const parquet = await readProcessed(proxied, keys.parquet)
    expect((await readWithDuckdb(tempFile('overtaken.parquet', parquet))).map((row) => row.item_id)).toEqual([
      'G',
      'H',
      'I',
    ])
  })

  it('fails with ConfigurationError when the lookup is missing', async () => {
    await proxied.s3.client.send(new DeleteObjectCommand({ Bucket: RAW_BUCKET, Key: LOOKUP_KEY }))
    try {
      const key = `${INCOMING_PREFIX}no-lookup.csv`
      await proxied.s3.client.send(new PutObjectCommand({ Bucket: RAW_BUCKET, Key: key, Body: GOOD_V1 }))
      const executions = await proxied.settle()
      expect(executions.at(-1)).toMatchObject({
        status: 'FAILED',
        taskError: { error: 'ConfigurationError' },
      })
    } finally {
      await proxied.s3.client.send(
        new PutObjectCommand({ Bucket: RAW_BUCKET, Key: LOOKUP_KEY, Body: readFileSync(SAMPLE_LOOKUP) }),
      )
    }
  })
})

describe('keys that used to share outputs', () => {
  it('gives a/b.csv, a__b.csv, x.csv and x.CSV one set of outputs each', async () => {
    const names = ['a/b.csv', 'a__b.csv', 'x.csv', 'x.CSV']
    for (const [i, name] of names.entries()) {
      await putRaw(pipeline, name, rows(`2024-01-01,S1,London,Fashion,ITEM${i},5`))
    }
    const executions = await pipeline.settle()
    for (const name of names) {
      const execution = executions.find((e) => e.output?.source?.key === `${INCOMING_PREFIX}${name}`)
      expect(execution?.output, name).toMatchObject({ status: 'processed' })
    }
    const parquets = await Promise.all(names.map(async (name) => (await keysOf(name)).parquet))
    expect(new Set(parquets).size).toBe(4)
    for (const [i, key] of parquets.entries()) expect(await itemIds(key)).toEqual([`ITEM${i}`])
  })
})

describe('events that name no object S3 could reach', () => {
  it.each([
    [{ bucket: '', key: 'incoming/a.csv' }, 'request with an empty bucket name'],
    [
      { bucket: 'arn:aws:s3:::raw', key: 'incoming/a.csv' },
      'request with an invalid bucket name "arn:aws:s3:::raw"',
    ],
    [
      {
        Records: [
          {
            eventName: 'ObjectCreated:Put',
            s3: { bucket: { name: 'raw' }, object: { key: 'incoming/100%.csv' } },
          },
        ],
      },
      'S3 record key is not valid URL encoding: "incoming/100%.csv"',
    ],
  ])('answers %j as skipped, naming why', async (event, reason) => {
    const execution = await pipeline.execute(event)
    expect(execution).toMatchObject({ status: 'SUCCEEDED', output: { status: 'skipped', reason } })
  })
})

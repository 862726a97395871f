import { readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHandler, createS3Client } from '../../lambdas/ingest/src/handler.js'
import type { IngestSummary } from '../../lambdas/ingest/src/ingest-summary.js'
import { reportHtmlKey } from '../../lambdas/ingest/src/output-keys.js'
import { StderrLogger } from '../../local/src/logger.js'
import { CapturingMetrics } from '../../local/src/s3/capturing-metrics.js'
import {
  INCOMING_PREFIX,
  type LocalPipeline,
  PROCESSED_BUCKET,
  RAW_BUCKET,
  startLocalPipeline,
} from '../../local/src/s3/pipeline.js'
import { objectCreated } from '../helpers/object-created-event.js'
import { readWithDuckdb } from '../helpers/parquet-readers.js'
import { processedKeys, readProcessed, SAMPLE_LISTINGS, SAMPLE_LOOKUP, tempFile } from './helpers.js'

/*
 * Against the local S3 server, through the synthesized state machine: the
 * report's HTML page the Lambda writes beside the JSON, and gzipped uploads
 * (.csv.gz keys, and gzip recognised by its bytes whatever the name).
 */

const KMS_KEY = 'arn:aws:kms:eu-west-2:123456789012:key/11111111-2222-3333-4444-555555555555'
const SAMPLE = readFileSync(SAMPLE_LISTINGS)

/** Every PutObject the handler sent: key, content type and encryption, as the SDK sent them. */
const puts: { key: string; contentType?: string; sse?: string; kmsKey?: string }[] = []
let pipeline: LocalPipeline

beforeAll(async () => {
  pipeline = await startLocalPipeline(SAMPLE_LOOKUP, {
    intervalScale: 0.001,
    env: { OUTPUT_KMS_KEY_ARN: KMS_KEY },
    // The in-process handler, on a real client whose requests are recorded on their way to the server.
    lambda: ({ endpoint, env }) => {
      const s3 = createS3Client({ S3_ENDPOINT: endpoint })
      s3.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'PutObjectCommand') {
            const input = args.input as Record<string, string | undefined>
            puts.push({
              key: input.Key ?? '',
              ...(input.ContentType ? { contentType: input.ContentType } : {}),
              ...(input.ServerSideEncryption ? { sse: input.ServerSideEncryption } : {}),
              ...(input.SSEKMSKeyId ? { kmsKey: input.SSEKMSKeyId } : {}),
            })
          }
          return next(args)
        },
        { step: 'initialize', name: 'recordPuts' },
      )
      return createHandler({
        s3,
        env,
        logger: new StderrLogger({ serviceName: 'listings-ingest', logLevel: 'SILENT' }),
        metrics: new CapturingMetrics(),
      }) as never
    },
  })
}, 180_000)

afterAll(async () => {
  await pipeline?.close()
})

/** Uploads bytes under the incoming prefix and waits for the executions it starts. */
async function upload(name: string, bytes: Uint8Array) {
  await pipeline.s3.client.send(
    new PutObjectCommand({ Bucket: RAW_BUCKET, Key: `${INCOMING_PREFIX}${name}`, Body: bytes }),
  )
  const executions = await pipeline.settle()
  const execution = executions.find((e) => e.output?.source?.key === `${INCOMING_PREFIX}${name}`)
  return execution ?? executions.at(-1)
}

/** The `<data>` numbers of a page: JSON field to the exact value. */
function pageNumbers(html: string): Map<string, number> {
  return new Map(
    [...html.matchAll(/<data value="([^"]*)" data-field="([^"]*)">/g)].map((m) => [
      m[2] as string,
      Number(m[1]),
    ]),
  )
}

function at(value: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((v, key) => (v as Record<string, unknown>)?.[key], value)
}

describe("the report's HTML page on S3", () => {
  let summary: IngestSummary | undefined

  it('is written beside the JSON, as text/html in UTF-8, under the same KMS key', async () => {
    const execution = await upload('sample.csv', SAMPLE)
    expect(execution?.status).toBe('SUCCEEDED')
    summary = execution?.output
    const outputs = summary?.outputs
    expect(outputs?.report_html).toBe(reportHtmlKey(outputs?.report ?? ''))
    expect(outputs?.report_html).toMatch(/^reports\/dt=\d{4}-\d{2}-\d{2}\/sample\.html$/)
    expect(await processedKeys(pipeline)).toContain(outputs?.report_html)

    const head = await pipeline.s3.client.send(
      new HeadObjectCommand({ Bucket: PROCESSED_BUCKET, Key: outputs?.report_html }),
    )
    expect(head.ContentType).toBe('text/html; charset=utf-8')
    const page = puts.find((put) => put.key === outputs?.report_html)
    const json = puts.find((put) => put.key === outputs?.report)
    expect(page).toEqual({
      key: outputs?.report_html,
      contentType: 'text/html; charset=utf-8',
      sse: 'aws:kms',
      kmsKey: KMS_KEY,
    })
    expect(json).toMatchObject({ sse: 'aws:kms', kmsKey: KMS_KEY })
  })

  it('shows the numbers of the JSON report, and the rejects as an s3:// URI in text, not a link', async () => {
    const outputs = summary?.outputs
    const report = JSON.parse((await readProcessed(pipeline, outputs?.report ?? '')).toString())
    const html = (await readProcessed(pipeline, outputs?.report_html ?? '')).toString('utf8')
    const numbers = pageNumbers(html)
    expect(numbers.size).toBeGreaterThan(30)
    for (const [field, value] of numbers) expect(value, field).toBe(at(report, field))
    expect(numbers.get('source_rows')).toBe(400)
    expect(numbers.get('output.parquet.rows')).toBe(342)
    const rejects = `s3://${PROCESSED_BUCKET}/${outputs?.rejected}`
    expect(report.output.rejected.path).toBe(rejects)
    expect(html).toContain(`<code class="uri">${rejects}</code>`)
    expect(html).not.toContain('<a href')
    expect(html).toContain('data-status="succeeded"')
  })
})

describe('gzipped uploads', () => {
  it('reads a .csv.gz upload as the plain file: the same counts and the same rows', async () => {
    const plain = await upload('plain.csv', SAMPLE)
    const gzipped = await upload('zipped.csv.gz', gzipSync(SAMPLE))
    expect(gzipped?.status).toBe('SUCCEEDED')
    expect(gzipped?.output?.counts).toEqual(plain?.output?.counts)
    expect(gzipped?.output?.outputs?.parquet).toMatch(/\/zipped\.csv%2Egz\.parquet$/)
    const rows = async (key: string | undefined) =>
      readWithDuckdb(tempFile('rows.parquet', await readProcessed(pipeline, key ?? '')))
    expect(await rows(gzipped?.output?.outputs?.parquet)).toEqual(await rows(plain?.output?.outputs?.parquet))
    const report = JSON.parse(
      (await readProcessed(pipeline, gzipped?.output?.outputs?.report ?? '')).toString(),
    )
    expect(report.input.listings.name).toBe(`s3://${RAW_BUCKET}/${INCOMING_PREFIX}zipped.csv.gz`)
    // The report describes the CSV the transform read: the decompressed bytes, the same as the plain upload's.
    expect(report.input.listings.bytes).toBe(SAMPLE.byteLength)
    const plainReport = JSON.parse(
      (await readProcessed(pipeline, plain?.output?.outputs?.report ?? '')).toString(),
    )
    expect(report.input.listings.sha256).toBe(plainReport.input.listings.sha256)
  })

  it('keeps x.csv and x.csv.gz apart: each has its own outputs', async () => {
    const plain = await upload('same.csv', SAMPLE)
    const gzipped = await upload('same.CSV.GZ', gzipSync(SAMPLE))
    expect(gzipped?.output?.status).toBe('processed')
    for (const output of ['parquet', 'rejected', 'report', 'report_html'] as const) {
      expect(gzipped?.output?.outputs?.[output], output).not.toBe(plain?.output?.outputs?.[output])
    }
    const names = (await processedKeys(pipeline)).map((key) => key.slice(key.lastIndexOf('/') + 1))
    // Parquet, rejects, report, its page and the manifest, each.
    expect(names.filter((name) => /^same\.(parquet|csv|json|html)$/.test(name)).sort()).toEqual(
      ['same.csv', 'same.html', 'same.json', 'same.json', 'same.parquet'].sort(),
    )
    expect(names.filter((name) => /^same\.CSV%2EGZ\.(parquet|csv|json|html)$/.test(name))).toHaveLength(5)
  })

  it('decides by the bytes, not the name: gzip named .csv is decompressed, plain text named .csv.gz is read as is', async () => {
    const disguised = await upload('disguised.csv', gzipSync(SAMPLE))
    const honest = await upload('not-really.csv.gz', SAMPLE)
    for (const execution of [disguised, honest]) {
      expect(execution?.status).toBe('SUCCEEDED')
      expect(execution?.output?.counts).toMatchObject({ source_rows: 400, rows_after_dedup: 342 })
    }
  })

  it('fails a format it does not read with InvalidInputError and one line naming the object', async () => {
    const zip = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(60)])
    const execution = await upload('archive.csv.gz', zip)
    expect(execution).toMatchObject({ status: 'FAILED', taskError: { error: 'InvalidInputError' } })
    expect(execution?.taskError?.message).toBe(
      `s3://${RAW_BUCKET}/${INCOMING_PREFIX}archive.csv.gz: is a zip archive, not CSV; extract the CSV from it first (unzip), or recompress it with gzip (gzip is read directly)`,
    )
    expect((await processedKeys(pipeline)).filter((key) => key.includes('archive'))).toEqual([])
  })

  it('skips a .csv.gz outside the incoming prefix, which the rule lets through, naming why', async () => {
    await pipeline.s3.client.send(
      new PutObjectCommand({ Bucket: RAW_BUCKET, Key: 'archive/old.csv.gz', Body: gzipSync(SAMPLE) }),
    )
    const execution = await pipeline.execute(objectCreated('archive/old.csv.gz'))
    expect(execution).toMatchObject({
      status: 'SUCCEEDED',
      output: { status: 'skipped', reason: `not a .csv or .csv.gz object under ${INCOMING_PREFIX}` },
    })
    expect((await processedKeys(pipeline)).filter((key) => key.includes('old'))).toEqual([])
  })

  it('is picked up by the backfill: its item processor passes .csv.gz keys to the handler, which processes them', async () => {
    const name = 'late.csv.gz'
    // Not through upload(): the backfill is what finds it.
    await pipeline.s3.client.send(
      new PutObjectCommand({ Bucket: RAW_BUCKET, Key: `${INCOMING_PREFIX}${name}`, Body: gzipSync(SAMPLE) }),
    )
    await pipeline.settle()
    const head = await pipeline.s3.client.send(
      new HeadObjectCommand({ Bucket: RAW_BUCKET, Key: `${INCOMING_PREFIX}${name}` }),
    )
    const run = await pipeline.backfillItem({
      Key: `${INCOMING_PREFIX}${name}`,
      Etag: head.ETag,
      Size: head.ContentLength,
    })
    expect(run.status).toBe('SUCCEEDED')
    // The upload's own event processed it already; the backfill recognises the same version.
    expect(run.output).toMatchObject({
      status: 'already_processed',
      source: { key: `${INCOMING_PREFIX}${name}` },
    })
  })
})

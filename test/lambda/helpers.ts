import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3'
import { afterEach, beforeAll } from 'vitest'
import { STATES } from '../../lambdas/ingest/src/orchestration.js'
import { synthesizedTemplate } from '../../local/src/s3/cdk-synth.js'
import {
  INCOMING_PREFIX,
  LOOKUP_KEY,
  type LocalPipeline,
  type LocalPipelineOptions,
  PROCESSED_BUCKET,
  RAW_BUCKET,
  startLocalPipeline,
} from '../../local/src/s3/pipeline.js'

export const SAMPLE_LISTINGS = 'data/listings.csv'
export const SAMPLE_LOOKUP = 'data/category_lookup.csv'

/** Every key in the processed bucket, sorted. */
export async function processedKeys(pipeline: LocalPipeline): Promise<string[]> {
  const listed = await pipeline.s3.client.send(new ListObjectsV2Command({ Bucket: PROCESSED_BUCKET }))
  return (listed.Contents ?? []).map((object) => object.Key ?? '').sort()
}

/** Reads an object from the processed bucket. */
export async function readProcessed(pipeline: LocalPipeline, key: string): Promise<Buffer> {
  const object = await pipeline.s3.client.send(new GetObjectCommand({ Bucket: PROCESSED_BUCKET, Key: key }))
  return Buffer.from(
    await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  )
}

/** Puts text into the raw bucket under the incoming prefix; returns the object's ETag. */
export async function putRaw(
  pipeline: LocalPipeline,
  name: string,
  text: string,
  prefix = INCOMING_PREFIX,
): Promise<string> {
  await pipeline.s3.client.send(
    new PutObjectCommand({ Bucket: RAW_BUCKET, Key: `${prefix}${name}`, Body: text }),
  )
  const head = await pipeline.s3.client.send(
    new HeadObjectCommand({ Bucket: RAW_BUCKET, Key: `${prefix}${name}` }),
  )
  return (head.ETag ?? '').replaceAll('"', '')
}

export async function deleteRaw(pipeline: LocalPipeline, key: string): Promise<void> {
  await pipeline.s3.client.send(new DeleteObjectCommand({ Bucket: RAW_BUCKET, Key: key }))
}

/**
 * The environment the stack gives the Lambda and the large-file task, pointed
 * at a local S3 server whose raw bucket holds the lookup at {@link LOOKUP_KEY}.
 */
export function handlerEnvironment(
  endpoint: string,
  processedBucket: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    PROCESSED_BUCKET: processedBucket,
    LOOKUP_URI: `s3://${RAW_BUCKET}/${LOOKUP_KEY}`,
    INCOMING_PREFIX,
    S3_ENDPOINT: endpoint,
    ...extra,
  }
}

/** Writes bytes to a temporary file, for DuckDB. */
export function tempFile(name: string, bytes: Uint8Array): string {
  const path = join(mkdtempSync(join(tmpdir(), 'lambda-test-')), name)
  writeFileSync(path, bytes)
  return path
}

/**
 * The states an execution of the synthesized ingest machine enters up to its
 * Lambda task: the size routing first when the definition starts with it
 * (the default, largeFiles=on), then the task.
 */
export function pathToIngest(definition: { StartAt: string }): string[] {
  return definition.StartAt === STATES.ingest ? [STATES.ingest] : [definition.StartAt, STATES.ingest]
}

/**
 * The data outputs one processed file leaves beside its manifest, as its
 * summary names them (Parquet, rejects, report, report page).
 */
export function outputCount(outputs: Record<string, unknown> | undefined): number {
  return Object.keys(outputs ?? {}).filter((name) => name !== 'bucket').length + 1
}

/**
 * A pipeline per test, for a file whose tests each need their own: call once
 * at the file's top level. Synthesizes the stack before the file's tests
 * (seconds on a cold cache, so not inside a test's time limit), and closes
 * after each test every pipeline it started and every resource handed to
 * `closeAfterTest`.
 */
export function pipelinePerTest() {
  const open: { close(): Promise<void> }[] = []
  beforeAll(async () => {
    await synthesizedTemplate()
  }, 180_000)
  afterEach(async () => {
    await Promise.all(open.splice(0).map((resource) => resource.close()))
  })
  return {
    /** Starts a pipeline with millisecond retries and a silent handler, unless `options` say otherwise. */
    async pipelineWith(options: LocalPipelineOptions = {}): Promise<LocalPipeline> {
      const pipeline = await startLocalPipeline(SAMPLE_LOOKUP, {
        intervalScale: 0.001,
        logLevel: 'SILENT',
        ...options,
      })
      open.push(pipeline)
      return pipeline
    },
    /** Closes `resource` after the test that opened it. */
    closeAfterTest<Resource extends { close(): Promise<void> }>(resource: Resource): Resource {
      open.push(resource)
      return resource
    },
  }
}

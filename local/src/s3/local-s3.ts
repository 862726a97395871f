import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { S3Client } from '@aws-sdk/client-s3'
import S3rver from 's3rver'
import { createS3Client } from '../../../lambdas/ingest/src/handler.js'

/** The port `npm run local:s3` listens on unless `--port` says otherwise. */
export const DEFAULT_LOCAL_S3_PORT = 4569

/** s3rver accepts only this access key and secret. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const

/** The EventBridge "Object Created" event S3 sends, as the state machine receives it. */
export interface ObjectCreatedEvent {
  version: '0'
  id: string
  'detail-type': 'Object Created'
  source: 'aws.s3'
  account: string
  time: string
  region: string
  resources: string[]
  detail: {
    version: '0'
    bucket: { name: string }
    object: { key: string; size?: number; etag?: string; sequencer?: string }
    'request-id': string
    requester: string
    reason: 'PutObject' | 'CopyObject' | 'PostObject' | 'CompleteMultipartUpload'
  }
}

/** A running local S3-API server. */
export interface LocalS3 {
  /** `http://127.0.0.1:<port>` */
  endpoint: string
  /** An SDK client configured for it. */
  client: S3Client
  /** Calls `listener` with the EventBridge form of every object-created event. */
  onObjectCreated(listener: (event: ObjectCreatedEvent) => void): void
  close(): Promise<void>
}

/**
 * Starts s3rver on 127.0.0.1 (a random port unless given) over a fresh
 * temporary directory, with the named buckets created.
 */
export async function startLocalS3(buckets: string[], options: { port?: number } = {}): Promise<LocalS3> {
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
    // This machine runs Node 20; the SDK's notice that 2027 releases need Node 22 is noise here.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  })
  if (options.port) await assertPortFree(options.port)
  const directory = await mkdtemp(join(tmpdir(), 'local-s3-'))
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    directory,
    silent: true,
    configureBuckets: buckets.map((name) => ({ name })),
  })
  const { port } = await server.run().catch(async (error: unknown) => {
    // A port in use or out of range: leave no storage folder behind.
    await rm(directory, { recursive: true, force: true })
    throw error
  })
  const endpoint = `http://127.0.0.1:${port}`
  return {
    endpoint,
    client: createS3Client({ S3_ENDPOINT: endpoint }),
    onObjectCreated(listener) {
      server.on('event', (notification: unknown) => {
        const event = toObjectCreatedEvent(notification)
        if (event) listener(event)
      })
    },
    async close() {
      await server.close()
      await rm(directory, { recursive: true, force: true })
    },
  }
}

/**
 * Fails with `EADDRINUSE` when something listens on the port already:
 * s3rver would emit that as an unhandled 'error' event (a crash with a
 * stack trace) instead of rejecting.
 */
async function assertPortFree(port: number): Promise<void> {
  const probe = createServer()
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject).listen(port, '127.0.0.1', () => probe.close(() => resolve()))
  })
}

const REASONS = { Put: 'PutObject', Copy: 'CopyObject', Post: 'PostObject' } as const

/**
 * Turns s3rver's S3 notification into the EventBridge event S3 would send
 * for the same upload (documented in the S3 user guide, "EventBridge event
 * message structure"). Other events (deletes) give `undefined`.
 */
export function toObjectCreatedEvent(notification: unknown): ObjectCreatedEvent | undefined {
  const record = (notification as { Records?: Record<string, unknown>[] }).Records?.[0] as
    | {
        eventName?: string
        eventTime?: string
        awsRegion?: string
        s3?: {
          bucket?: { name?: string }
          object?: { key?: string; size?: number; eTag?: string; sequencer?: string }
        }
      }
    | undefined
  const kind = record?.eventName?.match(/^ObjectCreated:(Put|Copy|Post)$/)?.[1] as
    | keyof typeof REASONS
    | undefined
  const bucket = record?.s3?.bucket?.name
  const object = record?.s3?.object
  if (kind === undefined || bucket === undefined || object?.key === undefined) return undefined
  return objectCreatedEvent({
    bucket,
    key: object.key,
    size: object.size,
    etag: object.eTag,
    sequencer: object.sequencer,
    reason: REASONS[kind],
    time: record?.eventTime,
    region: record?.awsRegion,
  })
}

/** What an Object Created event says of one upload; `undefined` fields are left out of the event. */
export interface ObjectCreatedFacts {
  bucket: string
  key: string
  size?: number | undefined
  etag?: string | undefined
  sequencer?: string | undefined
  /** @default 'PutObject' */
  reason?: ObjectCreatedEvent['detail']['reason'] | undefined
  /** @default now */
  time?: string | undefined
  /** @default 'us-east-1' */
  region?: string | undefined
}

/**
 * The EventBridge "Object Created" event S3 sends for an upload, in the shape
 * the S3 user guide documents ("EventBridge event message structure"): the
 * one builder for the local runner and the tests.
 */
export function objectCreatedEvent(facts: ObjectCreatedFacts): ObjectCreatedEvent {
  const { bucket, key, size, etag, sequencer } = facts
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: '000000000000',
    time: facts.time ?? new Date().toISOString(),
    region: facts.region ?? 'us-east-1',
    resources: [`arn:aws:s3:::${bucket}`],
    detail: {
      version: '0',
      bucket: { name: bucket },
      object: {
        key,
        ...(size === undefined ? {} : { size }),
        ...(etag === undefined ? {} : { etag }),
        ...(sequencer === undefined ? {} : { sequencer }),
      },
      'request-id': randomUUID(),
      requester: '000000000000',
      reason: facts.reason ?? 'PutObject',
    },
  }
}

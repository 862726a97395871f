import { PutObjectCommand } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Manifest, nextManifest } from '../../lambdas/ingest/src/live-version.js'
import {
  type ProcessedBucket,
  publishManifest,
  readManifest,
} from '../../lambdas/ingest/src/manifest-store.js'
import { outputKeysFor } from '../../lambdas/ingest/src/output-keys.js'
import { getSmallObject } from '../../lambdas/ingest/src/s3-io.js'
import { type LocalS3, startLocalS3 } from '../../local/src/s3/local-s3.js'
import type { DqReport } from '../../shared/src/report.js'

const BUCKET = 'processed'
const SOURCE_KEY = 'incoming/shop.csv'
const keysOn = (day: string) => outputKeysFor(SOURCE_KEY, 'incoming/', new Date(`${day}T12:00:00Z`))

let s3: LocalS3
let at: ProcessedBucket
const logged: { level: 'info' | 'warn'; message: string; key: unknown }[] = []

beforeAll(async () => {
  s3 = await startLocalS3([BUCKET])
  const log =
    (level: 'info' | 'warn') =>
    (message: unknown, ...extra: unknown[]) => {
      logged.push({ level, message: String(message), key: (extra[0] as { key?: unknown } | undefined)?.key })
    }
  at = { s3: s3.client, bucket: BUCKET, write: {}, logger: { info: log('info'), warn: log('warn') } }
}, 60_000)
afterAll(async () => {
  await s3.close()
})

/** The manifest of a passed run of version `etag` on `day`. */
function passedOn(previous: Manifest | undefined, etag: string, day: string): Manifest {
  const report = {
    status: 'succeeded',
    finished_at: `${day}T12:00:05.000Z`,
    output: { parquet: { rows: 1, bytes: 10, sha256: etag, published: true } },
  } as DqReport
  return nextManifest(previous, {
    source: { bucket: 'raw', key: SOURCE_KEY, etag },
    keys: keysOn(day),
    report,
  })
}

async function put(key: string, body: string): Promise<void> {
  await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }))
}

describe('the manifest store', () => {
  it('reads no manifest where there is none', async () => {
    expect(await readManifest(at, '_manifests/none.json')).toBeUndefined()
  })

  it('ignores an unreadable manifest, with a warning naming it', async () => {
    await put('_manifests/broken.json', '{ not json')
    expect(await readManifest(at, '_manifests/broken.json')).toBeUndefined()
    expect(logged).toContainEqual({
      level: 'warn',
      message: 'unreadable manifest ignored',
      key: '_manifests/broken.json',
    })
  })

  it('publishes a manifest that reads back as written', async () => {
    const manifest = passedOn(undefined, 'v1', '2026-11-01')
    await publishManifest(at, keysOn('2026-11-01').manifest, manifest, undefined)
    expect(await readManifest(at, keysOn('2026-11-01').manifest)).toEqual(manifest)
  })

  it('deletes the outputs the previous manifest named and the next one does not, and nothing else', async () => {
    const day1 = keysOn('2026-11-01')
    const day2 = keysOn('2026-11-02')
    for (const key of [day1.parquet, day1.rejected, day1.report, day2.parquet]) await put(key, 'x')
    const previous = passedOn(undefined, 'v1', '2026-11-01')
    const next = passedOn(previous, 'v2', '2026-11-02')
    await publishManifest(at, day2.manifest, next, previous)
    for (const key of [day1.parquet, day1.rejected, day1.report]) {
      expect(await getSmallObject(s3.client, BUCKET, key), key).toBeUndefined()
      expect(logged).toContainEqual({ level: 'info', message: 'deleted output of a replaced version', key })
    }
    expect(await getSmallObject(s3.client, BUCKET, day2.parquet)).toBe('x')
  })
})

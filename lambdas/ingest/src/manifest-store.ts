import type { Logger } from '@aws-lambda-powertools/logger'
import type { S3Client } from '@aws-sdk/client-s3'
import { retryable } from './error-classification.js'
import { type Manifest, parseManifest, staleKeys } from './live-version.js'
import { deleteObject, getSmallObject, putSmallObject, type WriteOptions } from './s3-io.js'

/**
 * The manifests in the processed bucket, one per source key: reading the
 * previous one, and publishing the next one, which also deletes the outputs
 * it no longer names. What a manifest says is decided in live-version.ts;
 * this module only moves it to and from S3, each call retried as a
 * `TransientError` when S3 fails in a way worth retrying.
 */

/** The processed bucket, as a run writes to it. */
export interface ProcessedBucket {
  s3: S3Client
  bucket: string
  /** SSE settings for every object written. */
  write: WriteOptions
  logger: Pick<Logger, 'info' | 'warn'>
}

/**
 * The manifest at `key`.
 *
 * @returns it, or `undefined` when there is none or it is unreadable (logged as a warning)
 */
export async function readManifest(at: ProcessedBucket, key: string): Promise<Manifest | undefined> {
  const text = await retryable(() => getSmallObject(at.s3, at.bucket, key))
  if (text === undefined) return undefined
  const manifest = parseManifest(text)
  if (manifest === undefined) at.logger.warn('unreadable manifest ignored', { key })
  return manifest
}

/**
 * Writes the manifest, then deletes the outputs the previous one named and
 * this one does not (another `dt=`, a superseded breach's rejects and
 * report), so a re-uploaded file replaces its data instead of adding to it.
 */
export async function publishManifest(
  at: ProcessedBucket,
  key: string,
  manifest: Manifest,
  previous: Manifest | undefined,
): Promise<void> {
  await retryable(() =>
    putSmallObject(
      at.s3,
      { bucket: at.bucket, key, body: JSON.stringify(manifest), contentType: 'application/json' },
      at.write,
    ),
  )
  for (const stale of staleKeys(previous, manifest)) {
    await retryable(() => deleteObject(at.s3, at.bucket, stale))
    at.logger.info('deleted output of a replaced version', { key: stale })
  }
}

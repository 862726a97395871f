import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { isConditionalWriteRefused } from '../../lambdas/ingest/src/error-classification.js'
import { listedCommandsOnly } from '../../lambdas/ingest/src/listed-s3-commands.js'
import { deleteObject, getSmallObject } from '../../lambdas/ingest/src/s3-io.js'
import { type S3Location, s3Uri } from '../../lambdas/ingest/src/s3-uri.js'
import type { InputError } from '../../shared/src/index.js'
import { lockHeldError, lockOwnerOf, lockText, parseLockOwner } from './lock-owner.js'
import { LOCK_NAME } from './out-lock.js'
import { asS3Error } from './s3-uri.js'

/**
 * One run at a time per s3:// `--out` prefix: the lock object `<prefix>.lock`,
 * holding the same document as the local lock file (lock-owner.ts). Unlike the
 * local lock it is never taken over: another host's pid cannot be checked, so
 * a lock left by a killed run is deleted by hand (the refusal says which key).
 */

/** The lock object's key under a prefix (the local lock's name, so both layouts read alike). */
export function s3LockKey(prefix: S3Location): S3Location {
  return { bucket: prefix.bucket, key: `${prefix.key}${LOCK_NAME}` }
}

/**
 * Takes the prefix's lock: an object created with `If-None-Match: *`, which S3
 * (since August 2024) refuses with 412 when the key exists, so of two runs
 * only one creates it. A server that ignores the condition (s3rver, an older
 * S3-compatible store) would let the second PUT replace the first; the read
 * before and the read-back after catch every interleaving but two PUTs landing
 * between each other's read and read-back.
 *
 * @param runId - this run's id, which the lock names
 * @throws {InputError} naming the owner when another run holds the lock
 */
export async function acquireS3Lock(client: S3Client, prefix: S3Location, runId: string): Promise<void> {
  const key = s3LockKey(prefix)
  try {
    const held = await getSmallObject(client, key.bucket, key.key)
    if (held !== undefined) throw lockedBy(prefix, held)
    await listedCommandsOnly(client).send(
      new PutObjectCommand({
        Bucket: key.bucket,
        Key: key.key,
        Body: lockText(lockOwnerOf(runId)),
        ContentType: 'application/json',
        IfNoneMatch: '*',
      }),
    )
  } catch (error) {
    if (isConditionalWriteRefused(error))
      throw lockedBy(prefix, await getSmallObject(client, key.bucket, key.key).catch(() => undefined))
    throw asS3Error(s3Uri(prefix), error)
  }
  let readBack: string | undefined
  try {
    readBack = await getSmallObject(client, key.bucket, key.key)
  } catch (error) {
    await releaseS3Lock(client, prefix).catch(() => undefined)
    throw asS3Error(s3Uri(key), error)
  }
  if (readBack === undefined || parseLockOwner(readBack)?.run !== runId) throw lockedBy(prefix, readBack)
}

/** Deletes the prefix's lock. */
export async function releaseS3Lock(client: S3Client, prefix: S3Location): Promise<void> {
  const key = s3LockKey(prefix)
  await deleteObject(client, key.bucket, key.key)
}

/** The refusal, naming the holder when the lock could be read (`text` undefined: it could not). */
function lockedBy(prefix: S3Location, text: string | undefined): InputError {
  const holder = text === undefined || text === '' ? undefined : (parseLockOwner(text) ?? 'unreadable')
  return lockHeldError(s3Uri(prefix), s3Uri(s3LockKey(prefix)), holder)
}

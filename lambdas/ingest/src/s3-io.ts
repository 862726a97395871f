import { once } from 'node:events'
import { PassThrough, type Readable } from 'node:stream'
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import type { ByteSink, ByteSource } from '../../../shared/src/index.js'
import { decodedSource } from '../../../shared/src/input-format.js'
import { listedCommandsOnly } from './listed-s3-commands.js'

/** A specific version of an object, as HEAD saw it. */
export interface ObjectVersion {
  bucket: string
  key: string
  etag: string
  versionId?: string
  size: number
  lastModified: Date
}

/** Server-side encryption settings for every object written. */
export interface WriteOptions {
  /** When set, objects are written with SSE-KMS under this key. */
  kmsKeyArn?: string
}

/** Whether an S3 error means the object (or bucket) is not there. */
export function isNotFound(error: unknown): boolean {
  const name = (error as { name?: string } | undefined)?.name
  return (
    error instanceof NoSuchKey ||
    error instanceof NotFound ||
    name === 'NoSuchKey' ||
    name === 'NotFound' ||
    name === 'NoSuchBucket'
  )
}

/**
 * Reads an object's current version.
 *
 * @returns its version, or `undefined` when it does not exist
 */
export async function headObject(
  client: S3Client,
  bucket: string,
  key: string,
): Promise<ObjectVersion | undefined> {
  try {
    const head = await listedCommandsOnly(client).send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
    const version: ObjectVersion = {
      bucket,
      key,
      etag: (head.ETag ?? '').replaceAll('"', ''),
      size: head.ContentLength ?? 0,
      lastModified: head.LastModified ?? new Date(),
    }
    if (head.VersionId && head.VersionId !== 'null') version.versionId = head.VersionId
    return version
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw error
  }
}

/**
 * A {@link ByteSource} over one object version, as CSV text: a gzipped object
 * (known by its first bytes, whatever its key or Content-Encoding) is
 * decompressed as it streams, and a format the pipeline does not read fails
 * the first read with an `InputError` (see `decodedSource`). Each `open` is a
 * fresh GET, pinned to the version id when the bucket is versioned and to the
 * ETag always, so the transform's two reads see the same bytes or the second
 * fails with 412 rather than reading a newer upload.
 */
export function objectSource(client: S3Client, object: ObjectVersion): ByteSource {
  return decodedSource(storedObjectSource(client, object))
}

/** The object's bytes as stored. */
function storedObjectSource(client: S3Client, object: ObjectVersion): ByteSource {
  return {
    name: `s3://${object.bucket}/${object.key}`,
    size: object.size,
    async *open() {
      const response = await listedCommandsOnly(client).send(
        new GetObjectCommand({
          Bucket: object.bucket,
          Key: object.key,
          IfMatch: `"${object.etag}"`,
          ...(object.versionId ? { VersionId: object.versionId } : {}),
        }),
      )
      yield* response.Body as Readable
    },
  }
}

/** Reads a small object whole, or `undefined` when it does not exist. */
export async function getSmallObject(
  client: S3Client,
  bucket: string,
  key: string,
): Promise<string | undefined> {
  try {
    const response = await listedCommandsOnly(client).send(new GetObjectCommand({ Bucket: bucket, Key: key }))
    return await (response.Body as { transformToString(): Promise<string> }).transformToString()
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw error
  }
}

/** Writes a small object in one PUT. */
export async function putSmallObject(
  client: S3Client,
  params: {
    bucket: string
    key: string
    body: string
    contentType: string
    metadata?: Record<string, string>
  },
  options: WriteOptions,
): Promise<void> {
  await listedCommandsOnly(client).send(
    new PutObjectCommand({
      Bucket: params.bucket,
      Key: params.key,
      Body: params.body,
      ContentType: params.contentType,
      ...(params.metadata ? { Metadata: params.metadata } : {}),
      ...encryption(options),
    }),
  )
}

/** Deletes an object; a missing one is fine. */
export async function deleteObject(client: S3Client, bucket: string, key: string): Promise<void> {
  await listedCommandsOnly(client).send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))
}

/**
 * A {@link ByteSink} that streams into an S3 upload (multipart above 8 MiB)
 * and makes the object visible only on {@link S3UploadSink.publish}. Until
 * then nothing is readable at the key; {@link S3UploadSink.discard} aborts
 * the upload so that nothing ever is.
 */
export class S3UploadSink implements ByteSink {
  readonly #body = new PassThrough({ highWaterMark: 1 << 20 })
  readonly #upload: Upload
  readonly #done: Promise<unknown>

  constructor(
    client: S3Client,
    params: { bucket: string; key: string; contentType: string; metadata?: Record<string, string> },
    options: WriteOptions,
  ) {
    const input: PutObjectCommandInput = {
      Bucket: params.bucket,
      Key: params.key,
      Body: this.#body,
      ContentType: params.contentType,
      ...(params.metadata ? { Metadata: params.metadata } : {}),
      ...encryption(options),
    }
    this.#upload = new Upload({
      client: listedCommandsOnly(client),
      params: input,
      partSize: 8 * 1024 * 1024,
      queueSize: 4,
    })
    this.#done = this.#upload.done()
    // Observed by publish or discard; this keeps an early failure from being unhandled.
    this.#done.catch(() => undefined)
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (!this.#body.write(chunk)) await Promise.race([once(this.#body, 'drain'), this.#done])
  }

  /** Ends the body and waits for S3 to store the object whole. */
  async publish(): Promise<void> {
    this.#body.end()
    await this.#done
  }

  /** Aborts the upload; no object appears. */
  async discard(): Promise<void> {
    this.#body.destroy(new Error('upload discarded'))
    await this.#done.catch(() => undefined)
    await this.#upload.abort().catch(() => undefined)
  }
}

function encryption(options: WriteOptions): Partial<PutObjectCommandInput> {
  return options.kmsKeyArn
    ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: options.kmsKeyArn, BucketKeyEnabled: true }
    : {}
}

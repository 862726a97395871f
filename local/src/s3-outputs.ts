import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { listedCommandsOnly } from '../../lambdas/ingest/src/listed-s3-commands.js'
import { headObject, S3UploadSink } from '../../lambdas/ingest/src/s3-io.js'
import { type S3Location, s3Uri } from '../../lambdas/ingest/src/s3-uri.js'
import type { ByteSink } from '../../shared/src/index.js'
import { type OutputName, PUBLISHED } from './published-paths.js'
import { newRunId } from './run-id.js'
import { acquireS3Lock, releaseS3Lock, s3LockKey } from './s3-lock.js'
import { asS3Error } from './s3-uri.js'

/*
 * How one run's outputs are published under an s3:// --out prefix.
 *
 * S3 has no rename and no symlink, so the local layout (a run directory made
 * current by one rename) has no S3 equivalent. What S3 does give: a PUT or a
 * CompleteMultipartUpload replaces one key atomically (a reader gets the old
 * object or the new one whole, never a part), an upload is invisible until it
 * completes, and an aborted multipart upload leaves nothing. So:
 *
 *   <prefix>.lock                        taken first (PUT If-None-Match: *, s3-lock.ts), deleted last
 *   <prefix>processed/data.parquet       streamed as a multipart upload while the run works
 *   <prefix>rejected/rejected_rows.csv   the same
 *   <prefix>dq_report.json               one PUT, after both uploads completed: the commit
 *
 * Every object carries `x-amz-meta-run-id`, and the report names the run and
 * the sha256 of the other two. Until the uploads complete, a reader sees the
 * previous run's objects only. The uploads complete only once the whole run
 * has succeeded (the rejects, then the Parquet, then the report); a run that
 * fails before that aborts them and nothing of it is ever visible. What S3
 * cannot give is one instant for three keys: between the first completion and
 * the report's PUT (milliseconds) a reader can get a new object beside the
 * previous report, and a failure in that window (the Parquet's completion or
 * the report's PUT failing after the rejects completed) leaves it so until the
 * next run. A reader that needs one run for certain reads dq_report.json first
 * and checks each object's run-id metadata (or sha256) against it.
 */

/** Object metadata naming the run that wrote an object (`x-amz-meta-run-id`). */
const RUN_ID_METADATA = 'run-id'

/** The published key of each output under a prefix (the contract's names, with '/' on every platform). */
export function publishedKeys(prefix: S3Location): Record<OutputName, S3Location> {
  const key = (name: OutputName) => ({
    bucket: prefix.bucket,
    key: `${prefix.key}${PUBLISHED[name].split(/[\\/]/).join('/')}`,
  })
  return { parquet: key('parquet'), rejected: key('rejected'), report: key('report'), page: key('page') }
}

/** The published URIs under an `--out` prefix, for the report and messages. */
export function publishedUris(prefix: S3Location): Record<OutputName, string> {
  const keys = publishedKeys(prefix)
  return {
    parquet: s3Uri(keys.parquet),
    rejected: s3Uri(keys.rejected),
    report: s3Uri(keys.report),
    page: s3Uri(keys.page),
  }
}

/**
 * The outputs of one run under an S3 prefix: its lock, the two streamed
 * uploads, and the publish that makes them visible (see the comment above).
 */
export class S3RunOutputs {
  readonly prefix: S3Location
  readonly runId: string
  /** What the ingest writes to: the uploads, with their failures named by the object's URI. */
  readonly files: { parquet: ByteSink; rejected: ByteSink }
  readonly #uploads: { parquet: S3UploadSink; rejected: S3UploadSink }
  readonly #client: S3Client
  #live: string | null = null
  #committed = false
  #finished = false

  private constructor(client: S3Client, prefix: S3Location, runId: string) {
    this.#client = client
    this.prefix = prefix
    this.runId = runId
    const keys = publishedKeys(prefix)
    const metadata = { [RUN_ID_METADATA]: runId }
    this.#uploads = {
      parquet: new S3UploadSink(
        client,
        { ...keys.parquet, contentType: 'application/vnd.apache.parquet', metadata },
        {},
      ),
      rejected: new S3UploadSink(client, { ...keys.rejected, contentType: 'text/csv', metadata }, {}),
    }
    this.files = {
      parquet: namingFailures(this.#uploads.parquet, s3Uri(keys.parquet)),
      rejected: namingFailures(this.#uploads.rejected, s3Uri(keys.rejected)),
    }
  }

  /**
   * Takes the lock on the prefix and starts the run's uploads.
   *
   * @param onCreated - called as soon as there is something to undo, so a signal handler can
   * @throws {InputError} when the prefix is unusable (no bucket, no access) or another run holds it
   */
  static async open(
    client: S3Client,
    prefix: S3Location,
    onCreated: (outputs: S3RunOutputs) => void,
  ): Promise<S3RunOutputs> {
    const runId = newRunId()
    await acquireS3Lock(client, prefix, runId)
    // Handed over at once, holding the lock: from here an interrupt can undo the run.
    const outputs = new S3RunOutputs(client, prefix, runId)
    onCreated(outputs)
    const { parquet } = publishedKeys(prefix)
    try {
      outputs.#live = (await headObject(client, parquet.bucket, parquet.key)) ? s3Uri(parquet) : null
    } catch (error) {
      await outputs.abandon()
      throw asS3Error(s3Uri(prefix), error)
    }
    return outputs
  }

  /**
   * Whether the run is past undoing: its publish has begun completing uploads.
   * From then on an interrupt lets the publish finish (as after the local
   * rename), since a completed object cannot be taken back, only deleted, and
   * deleting it would not bring back the previous run's.
   */
  get committed(): boolean {
    return this.#committed
  }

  /** The published Parquet a reader found when the run started (from an earlier run), or null. */
  livePath(): string | null {
    return this.#live
  }

  /**
   * Publishes the run: completes both uploads (a breach aborts the Parquet's,
   * so the live Parquet stays), then writes the report, then releases the lock.
   *
   * @param report - the report's bytes
   * @param page - the report as an HTML page, written just before the report (the commit record)
   * @param withParquet - whether this run's Parquet is published
   * @returns undefined, or what went wrong releasing the lock after the outputs were published
   */
  async publish(report: Uint8Array, page: Uint8Array, withParquet: boolean): Promise<string | undefined> {
    const keys = publishedKeys(this.prefix)
    this.#committed = true
    // One after the other, the rejects first: when the rejects' upload fails (an upload that
    // failed mid-run reports it here) no object has changed; only a failure of the Parquet's
    // own completion, after the rejects completed, leaves this run's rejects beside the old report.
    try {
      await this.#uploads.rejected.publish()
    } catch (error) {
      throw asS3Error(s3Uri(keys.rejected), error)
    }
    try {
      if (withParquet) await this.#uploads.parquet.publish()
      else await this.#uploads.parquet.discard()
    } catch (error) {
      throw asS3Error(s3Uri(keys.parquet), error)
    }
    for (const [name, body, contentType] of [
      ['page', page, 'text/html; charset=utf-8'],
      ['report', report, 'application/json'],
    ] as const) {
      try {
        await listedCommandsOnly(this.#client).send(
          new PutObjectCommand({
            Bucket: keys[name].bucket,
            Key: keys[name].key,
            Body: body,
            ContentType: contentType,
            Metadata: { [RUN_ID_METADATA]: this.runId },
          }),
        )
      } catch (error) {
        throw asS3Error(s3Uri(keys[name]), error)
      }
    }
    this.#finished = true
    try {
      await releaseS3Lock(this.#client, this.prefix)
      return undefined
    } catch (error) {
      const lock = s3Uri(s3LockKey(this.prefix))
      return `could not delete ${lock}: ${asS3Error(lock, error).message}`
    }
  }

  /**
   * Undoes an unfinished run: aborts both uploads (nothing of them becomes
   * visible) and releases the lock. Safe to call at any point and more than once.
   */
  async abandon(): Promise<void> {
    if (this.#finished) return
    this.#finished = true
    // A publish that failed part-way: what did not complete is aborted, what did stays (see above).
    await Promise.all([this.#uploads.parquet.discard(), this.#uploads.rejected.discard()]).catch(
      () => undefined,
    )
    await releaseS3Lock(this.#client, this.prefix).catch(() => undefined)
  }
}

/** A sink whose write failures (an upload part that failed) name the object, in one line. */
function namingFailures(sink: ByteSink, uri: string): ByteSink {
  return {
    async write(chunk) {
      try {
        await sink.write(chunk)
      } catch (error) {
        throw asS3Error(uri, error)
      }
    },
  }
}

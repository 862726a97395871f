import type { ByteSource } from '../../../shared/src/byte-streams.js'
import { InputError } from '../../../shared/src/errors.js'
import { ConfigurationError, InvalidInputError, isTransient, TransientError } from './errors.js'
import { isNotFound } from './s3-io.js'

/**
 * Turns what S3, the network and the transform throw into the errors the
 * state machine tells apart (errors.ts), each wrapping the original as its
 * `cause`: a retryable S3 call becomes a {@link TransientError}, bad content
 * an {@link InvalidInputError}, a vanished lookup a {@link ConfigurationError}.
 * A source deleted mid-run is no error at all: {@link classify} says so, and
 * the caller skips.
 */

/** Which input a read failure came from, so a vanished source and a vanished lookup are told apart. */
export type InputRole = 'listings' | 'lookup'

/** A read failure of one input, naming it. */
export class InputReadFailure extends Error {
  override readonly name = 'InputReadFailure'
  constructor(
    readonly input: InputRole,
    cause: unknown,
  ) {
    super(`reading the ${input} failed: ${errorMessage(cause)}`, { cause })
  }
}

/** The source, its read failures wrapped as {@link InputReadFailure} naming `input`. */
export function readFailuresNamed(input: InputRole, source: ByteSource): ByteSource {
  const named: ByteSource = {
    name: source.name,
    async *open() {
      try {
        yield* source.open()
      } catch (error) {
        throw new InputReadFailure(input, error)
      }
    },
  }
  // Read through, not copied: a gzipped source learns its decompressed size as it is read.
  Object.defineProperty(named, 'size', { enumerable: true, get: () => source.size })
  return named
}

/** What {@link classify} returns when the listings object was deleted during the run: skip, publish nothing. */
export const SOURCE_DELETED = 'source_deleted'

/**
 * Maps a failure inside the transform to what the state machine acts on: an
 * error it retries or fails on, or {@link SOURCE_DELETED} when the source
 * object was deleted between the reads (its deletion is the user's, not a fault).
 *
 * @param lookup - the lookup's location, named when it disappeared
 */
export function classify(
  error: unknown,
  lookup: { bucket: string; key: string },
): Error | typeof SOURCE_DELETED {
  const input = error instanceof InputReadFailure ? error.input : undefined
  const cause = error instanceof InputReadFailure ? error.cause : error
  if (cause instanceof InputError) return new InvalidInputError(cause.message, { cause })
  if (isPreconditionFailed(cause)) {
    return new TransientError(
      `the ${input ?? 'source'} object changed during the run; retrying reads the new version state`,
      { cause },
    )
  }
  if (isMissing(cause) && input === 'listings') return SOURCE_DELETED
  if (isMissing(cause)) {
    return new ConfigurationError(
      `lookup s3://${lookup.bucket}/${lookup.key} disappeared during the run: ${errorMessage(cause)}`,
      { cause },
    )
  }
  if (isTransient(cause)) return new TransientError(errorMessage(cause), { cause })
  return cause instanceof Error ? cause : new Error(String(cause))
}

/** Runs an S3 call, turning retryable failures into {@link TransientError}. */
export async function retryable<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    throw isTransient(error) ? new TransientError(errorMessage(error), { cause: error }) : error
  }
}

/** An object, or the version pinned, is not there (404 of any kind). */
export function isMissing(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode
  return (
    isNotFound(error) || status === 404 || (error as { name?: string } | undefined)?.name === 'NoSuchVersion'
  )
}

/** A conditional read found the object changed (S3's 412). */
export function isPreconditionFailed(error: unknown): boolean {
  const candidate = error as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined
  return candidate?.name === 'PreconditionFailed' || candidate?.$metadata?.httpStatusCode === 412
}

/**
 * A conditional write (`If-None-Match: *`) was refused: the key exists (412),
 * or another conditional write to it was in flight (409
 * `ConditionalRequestConflict`). Either way another writer got there first.
 */
export function isConditionalWriteRefused(error: unknown): boolean {
  const candidate = error as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined
  return (
    isPreconditionFailed(error) ||
    candidate?.name === 'ConditionalRequestConflict' ||
    candidate?.$metadata?.httpStatusCode === 409
  )
}

/** An error as one line: `Name: message`, the name left out when it is plain `Error`. */
export function errorMessage(error: unknown): string {
  const name = (error as { name?: string } | undefined)?.name
  const message = error instanceof Error ? error.message : String(error)
  return name && name !== 'Error' ? `${name}: ${message}` : message
}

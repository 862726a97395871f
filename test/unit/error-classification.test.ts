import { NoSuchKey, S3ServiceException } from '@aws-sdk/client-s3'
import { describe, expect, it } from 'vitest'
import {
  classify,
  errorMessage,
  InputReadFailure,
  isConditionalWriteRefused,
  isMissing,
  isPreconditionFailed,
  readFailuresNamed,
  retryable,
  SOURCE_DELETED,
} from '../../lambdas/ingest/src/error-classification.js'
import {
  ConfigurationError,
  ERROR_NAMES,
  InvalidInputError,
  TransientError,
} from '../../lambdas/ingest/src/errors.js'
import type { ByteSource } from '../../shared/src/byte-streams.js'
import { InputError } from '../../shared/src/errors.js'

const LOOKUP = { bucket: 'ref', key: 'category_lookup.csv' }

/** An S3 service error as the SDK throws it: a name and an HTTP status. */
function s3Error(name: string, httpStatusCode: number): S3ServiceException {
  return new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode }, message: name })
}

describe('classify', () => {
  it('turns bad content into InvalidInputError, keeping the message and the cause', () => {
    const cause = new InputError('s3://raw/a.csv', 'file is empty')
    const error = classify(new InputReadFailure('listings', cause), LOOKUP) as Error
    expect(error).toBeInstanceOf(InvalidInputError)
    expect(error.message).toBe('s3://raw/a.csv: file is empty')
    expect(error.cause).toBe(cause)
  })

  it('retries a read of an object that changed under the run (412), naming which input', () => {
    const cause = s3Error('PreconditionFailed', 412)
    const error = classify(new InputReadFailure('lookup', cause), LOOKUP) as Error
    expect(error).toBeInstanceOf(TransientError)
    expect(error.message).toMatch(/^the lookup object changed during the run/)
    expect(error.cause).toBe(cause)
  })

  it('skips when the listings vanished mid-read, but names a vanished lookup as misconfiguration', () => {
    const gone = new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'gone' })
    expect(classify(new InputReadFailure('listings', gone), LOOKUP)).toBe(SOURCE_DELETED)
    const error = classify(new InputReadFailure('lookup', gone), LOOKUP) as Error
    expect(error).toBeInstanceOf(ConfigurationError)
    expect(error.message).toBe(
      'lookup s3://ref/category_lookup.csv disappeared during the run: NoSuchKey: gone',
    )
    expect(error.cause).toBe(gone)
  })

  it('retries what S3 or the network says is worth retrying', () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })
    const error = classify(new InputReadFailure('listings', reset), LOOKUP) as Error
    expect(error.name).toBe(ERROR_NAMES.transient)
    expect(error.message).toBe('socket hang up')
    expect(error.cause).toBe(reset)
  })

  it('passes any other error through as it is, and wraps a thrown non-error', () => {
    const bug = new TypeError('a bug')
    expect(classify(bug, LOOKUP)).toBe(bug)
    expect(classify('text', LOOKUP)).toEqual(new Error('text'))
  })
})

describe('retryable', () => {
  it('returns what the call returns', async () => {
    expect(await retryable(async () => 42)).toBe(42)
  })

  it('wraps a retryable failure as TransientError with its cause, and rethrows the rest unchanged', async () => {
    const throttled = s3Error('SlowDown', 503)
    const error = await retryable(() => Promise.reject(throttled)).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(TransientError)
    expect((error as Error).message).toBe('SlowDown: SlowDown')
    expect((error as Error).cause).toBe(throttled)
    const denied = s3Error('AccessDenied', 403)
    await expect(retryable(() => Promise.reject(denied))).rejects.toBe(denied)
  })
})

describe('what S3 errors mean', () => {
  it('isMissing: any 404, a missing key or a missing pinned version', () => {
    expect(isMissing(s3Error('NotFound', 404))).toBe(true)
    expect(isMissing(s3Error('NoSuchVersion', 400))).toBe(true)
    expect(isMissing(new NoSuchKey({ $metadata: {}, message: 'x' }))).toBe(true)
    expect(isMissing(s3Error('AccessDenied', 403))).toBe(false)
    expect(isMissing(undefined)).toBe(false)
  })

  it('isConditionalWriteRefused: a 412, or a 409 ConditionalRequestConflict, by name or status', () => {
    expect(isConditionalWriteRefused(s3Error('PreconditionFailed', 412))).toBe(true)
    expect(isConditionalWriteRefused(s3Error('ConditionalRequestConflict', 409))).toBe(true)
    expect(isConditionalWriteRefused({ $metadata: { httpStatusCode: 409 } })).toBe(true)
    expect(isConditionalWriteRefused(s3Error('AccessDenied', 403))).toBe(false)
  })

  it('isPreconditionFailed: by name or by status 412', () => {
    expect(isPreconditionFailed(s3Error('PreconditionFailed', 412))).toBe(true)
    expect(isPreconditionFailed({ $metadata: { httpStatusCode: 412 } })).toBe(true)
    expect(isPreconditionFailed(s3Error('NotFound', 404))).toBe(false)
  })

  it('errorMessage: the name before the message, unless it is plain Error', () => {
    expect(errorMessage(s3Error('SlowDown', 503))).toBe('SlowDown: SlowDown')
    expect(errorMessage(new Error('plain'))).toBe('plain')
    expect(errorMessage('text')).toBe('text')
  })
})

describe('readFailuresNamed', () => {
  it('passes the bytes through and wraps a read failure naming the input', async () => {
    const cause = new Error('connection reset')
    let size = 0
    const source: ByteSource = {
      name: 'a.csv',
      get size() {
        return size
      },
      async *open() {
        yield new Uint8Array([1, 2])
        size = 2
        throw cause
      },
    }
    const named = readFailuresNamed('listings', source)
    const chunks: Uint8Array[] = []
    const failure = await (async () => {
      for await (const chunk of named.open()) chunks.push(chunk)
    })().catch((error: unknown) => error)
    expect(chunks).toEqual([new Uint8Array([1, 2])])
    expect(failure).toBeInstanceOf(InputReadFailure)
    expect(failure).toMatchObject({
      input: 'listings',
      cause,
      message: 'reading the listings failed: connection reset',
    })
    // The size is read through: a gzipped source learns its decompressed size as it is read.
    expect(named.name).toBe('a.csv')
    expect(named.size).toBe(2)
  })
})

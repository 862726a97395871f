import { HeadObjectCommand } from '@aws-sdk/client-s3'
import type { NodeHttpHandler } from '@smithy/node-http-handler'
import { describe, expect, it, vi } from 'vitest'
import { parseS3Uri as parseLambdaS3Uri } from '../../lambdas/ingest/src/config.js'
import { ConfigurationError } from '../../lambdas/ingest/src/errors.js'
import { isS3Uri, parseS3ObjectUri, parseS3PrefixUri, s3Uri } from '../../lambdas/ingest/src/s3-uri.js'
import { UsageError } from '../../local/src/args.js'
import { asS3Error, childPrefix, createCliS3Client, parseS3Uri } from '../../local/src/s3-uri.js'
import { InputError } from '../../shared/src/index.js'

describe('isS3Uri', () => {
  it('tells s3:// (any case of the scheme) from local paths', () => {
    expect(isS3Uri('s3://b/k')).toBe(true)
    expect(isS3Uri('S3://b/k')).toBe(true)
    expect(isS3Uri('s3:/b/k')).toBe(false)
    expect(isS3Uri('./s3://b')).toBe(false)
    expect(isS3Uri('data/listings.csv')).toBe(false)
  })
})

describe('parseS3ObjectUri and parseS3PrefixUri (one reading of s3:// for every entry point)', () => {
  it('split a URI into bucket and key, keeping the key byte for byte (no trimming, no decoding)', () => {
    expect(parseS3ObjectUri('s3://ref/lookups/a %41.csv ')).toEqual({
      ok: true,
      location: { bucket: 'ref', key: 'lookups/a %41.csv ' },
    })
    expect(parseS3ObjectUri('s3://ref/in/*.csv')).toMatchObject({ ok: true })
    expect(parseS3PrefixUri('s3://lake/runs')).toEqual({
      ok: true,
      location: { bucket: 'lake', key: 'runs/' },
    })
  })

  it.each([
    ['lake/k', 'it has no s3:// scheme'],
    ['S3://lake/k', 'write the scheme in lower case, s3://bucket/key'],
    ['s3:///k', 'no bucket name (s3://bucket/key)'],
    ['s3://lake', 'name an object: s3://bucket/key'],
    ['s3://lake/', 'name an object: s3://bucket/key'],
  ])('refuse %s as an object: %s', (uri, reason) => {
    expect(parseS3ObjectUri(uri)).toEqual({ ok: false, reason })
  })

  it.each([['s3://my_bucket/k'], ['s3://Lake/k'], ['s3://ab/k'], ['s3://a..b/k'], ['s3://-lake/k']])(
    'the Lambda and the CLI refuse the bucket of %s for the same reason, each in its own words',
    (uri) => {
      const bucket = uri.slice('s3://'.length, uri.indexOf('/', 's3://'.length))
      const reason = `'${bucket}' is not a valid bucket name (3-63 lower-case letters, digits, dots and hyphens)`
      expect(parseS3ObjectUri(uri)).toEqual({ ok: false, reason })
      expect(() => parseLambdaS3Uri('LOOKUP_URI', uri)).toThrow(
        new ConfigurationError(
          `LOOKUP_URI must look like s3://bucket/key, got ${JSON.stringify(uri)}: ${reason}`,
        ),
      )
      expect(() => parseS3Uri(uri, '--lookup', 'object')).toThrow(
        new UsageError(`--lookup ${uri}: ${reason}`),
      )
    },
  )
})

describe('parseS3Uri', () => {
  it('splits an object URI, keeping the key byte for byte', () => {
    expect(parseS3Uri('s3://my-bucket/in/2024 %41.csv', '--listings', 'object')).toEqual({
      bucket: 'my-bucket',
      key: 'in/2024 %41.csv',
    })
  })

  it.each([
    ['s3://lake', ''],
    ['s3://lake/', ''],
    ['s3://lake/runs/a', 'runs/a/'],
    ['s3://lake/runs/a/', 'runs/a/'],
  ])('reads --out %s as the prefix %j', (uri, key) => {
    expect(parseS3Uri(uri, '--out', 'prefix')).toEqual({ bucket: 'lake', key })
  })

  it.each([
    ['S3://lake/k', 'object', /write the scheme in lower case/],
    ['s3:///k', 'object', /no bucket name/],
    ['s3://Lake/k', 'object', /'Lake' is not a valid bucket name/],
    ['s3://ab/k', 'object', /'ab' is not a valid bucket name/],
    ['s3://a..b/k', 'object', /not a valid bucket name/],
    ['s3://lake', 'object', /name an object/],
    ['s3://lake/in/', 'object', /names a prefix/],
    ['s3://lake/in/*.csv', 'object', /wildcards need a bucket listing/],
    [`s3://lake/${'k'.repeat(1025)}`, 'object', /longer than S3 allows/],
    ['s3://lake/a//b/', 'prefix', /empty folder name/],
  ] as const)('refuses %s as %s, naming the flag', (uri, role, pattern) => {
    const parse = () => parseS3Uri(uri, '--x', role)
    expect(parse).toThrow(UsageError)
    expect(parse).toThrow(pattern)
    expect(parse).toThrow(new RegExp(`^--x ${uri.slice(0, 20).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`))
  })
})

describe('s3Uri and childPrefix', () => {
  it('write a location back as a URI, and a folder under a prefix', () => {
    const prefix = parseS3Uri('s3://lake/runs', '--out', 'prefix')
    expect(s3Uri(prefix)).toBe('s3://lake/runs/')
    expect(s3Uri(childPrefix(prefix, 'listings'))).toBe('s3://lake/runs/listings/')
    expect(s3Uri(childPrefix(parseS3Uri('s3://lake', '--out', 'prefix'), 'x'))).toBe('s3://lake/x/')
  })
})

describe('asS3Error', () => {
  const uri = 's3://lake/k'
  const sdkError = (name: string, status?: number, extra: Record<string, unknown> = {}) =>
    Object.assign(new Error(`${name} happened`), {
      name,
      ...(status === undefined ? {} : { $metadata: { httpStatusCode: status } }),
      ...extra,
    })

  it.each([
    ['NoSuchBucket', 404, /^s3:\/\/lake\/k: no such bucket$/],
    ['NoSuchKey', 404, /: no such object$/],
    ['AccessDenied', 403, /: access denied \(check the IAM permissions/],
    ['Forbidden', 403, /: access denied/],
    ['SomethingElse', 403, /: access denied/],
    ['InvalidAccessKeyId', 403, /: the AWS access key id is not valid$/],
    ['ExpiredToken', 400, /: the AWS session token has expired/],
    ['CredentialsProviderError', undefined, /: no AWS credentials found/],
    ['PermanentRedirect', 301, /: the bucket is in another region/],
    ['PreconditionFailed', 412, /: the object was replaced while the run read it/],
  ])('%s (%s) is a one-line InputError', (name, status, pattern) => {
    const error = asS3Error(uri, sdkError(name, status))
    expect(error).toBeInstanceOf(InputError)
    expect(error.message).toMatch(pattern)
  })

  it('an unreachable endpoint and a missing region are the user to fix', () => {
    expect(asS3Error(uri, sdkError('Error', undefined, { code: 'ECONNREFUSED' }))).toBeInstanceOf(InputError)
    expect(asS3Error(uri, new Error('Region is missing')).message).toMatch(/no AWS region configured/)
  })

  it('a transfer cut short or a server error stays unexpected, naming the URI', () => {
    const cut = asS3Error(uri, sdkError('Error', undefined, { code: 'ECONNRESET' }))
    expect(cut).not.toBeInstanceOf(InputError)
    expect(cut.message).toBe('s3://lake/k: Error happened')
    const reset = asS3Error(uri, sdkError('TimeoutError', undefined, { code: 'ECONNRESET' }))
    expect(reset).not.toBeInstanceOf(InputError)
    expect(reset.message).toBe('s3://lake/k: the connection to S3 was lost or timed out (ECONNRESET)')
    const server = asS3Error(uri, sdkError('InternalError', 500))
    expect(server).not.toBeInstanceOf(InputError)
    expect(server.message).toBe('s3://lake/k: InternalError: InternalError happened')
  })

  it('passes an InputError through unchanged', () => {
    const error = new InputError(uri, 'already explained')
    expect(asS3Error(uri, error)).toBe(error)
  })
})

describe('createCliS3Client', () => {
  it('times out a connection after 5 s and a quiet socket after 60 s, so nothing hangs', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'S3RVER')
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'S3RVER')
    const client = createCliS3Client({ S3_ENDPOINT: 'http://127.0.0.1:9' })
    // The handler resolves its settings on its first request (here refused at once: nothing listens on port 9).
    await client.send(new HeadObjectCommand({ Bucket: 'lake', Key: 'k' })).catch(() => undefined)
    const handler = client.config.requestHandler as NodeHttpHandler
    expect(handler.httpHandlerConfigs()).toMatchObject({ connectionTimeout: 5_000, requestTimeout: 60_000 })
    expect(client.config.forcePathStyle).toBe(true)
    client.destroy()
    vi.unstubAllEnvs()
  })
})

import type { S3Client } from '@aws-sdk/client-s3'
import type { NodeHttpHandler } from '@smithy/node-http-handler'
import { createS3Client } from '../../lambdas/ingest/src/handler.js'
import { parseS3ObjectUri, parseS3PrefixUri, type S3Location } from '../../lambdas/ingest/src/s3-uri.js'
import { InputError } from '../../shared/src/index.js'
import { UsageError } from './args.js'

/**
 * Parses `s3://bucket/key` for a flag (the rules: lambdas/ingest/src/s3-uri.ts).
 * The key is kept byte for byte (no percent-decoding: `aws s3` does not decode
 * either, and keys may contain `%`).
 *
 * @param option - the flag it came from, for the message
 * @param role - `object` needs a key, and since the CLI lists no buckets, one that
 *   is neither a folder (ending in '/') nor a pattern (`*`, `?`); `prefix` takes
 *   `s3://bucket`, `s3://bucket/prefix` or `s3://bucket/prefix/` and always
 *   returns a key that is '' or ends in '/'
 * @throws {UsageError} for a malformed URI, one line naming the flag
 */
export function parseS3Uri(value: string, option: string, role: 'object' | 'prefix'): S3Location {
  const bad = (why: string) => new UsageError(`${option} ${value}: ${why}`)
  const parsed = role === 'object' ? parseS3ObjectUri(value) : parseS3PrefixUri(value)
  if (!parsed.ok) throw bad(parsed.reason)
  const { key } = parsed.location
  if (role === 'object' && key.endsWith('/'))
    throw bad(
      'names a prefix; name one object (the CLI does not list buckets, so no folders or patterns on S3)',
    )
  if (role === 'object' && /[*?]/.test(key))
    throw bad('wildcards need a bucket listing, which the CLI does not do: name each object with --listings')
  return parsed.location
}

/** A folder under an `--out` prefix (several listings files each get one). */
export function childPrefix(prefix: S3Location, name: string): S3Location {
  return { bucket: prefix.bucket, key: `${prefix.key}${name}/` }
}

/** How long to wait for a connection, and for a quiet socket, before the attempt fails. */
const CONNECTION_TIMEOUT_MS = 5_000
const SOCKET_TIMEOUT_MS = 60_000

/**
 * The CLI's S3 client: the Lambda's own {@link createS3Client} (the default
 * credential chain and region, or `S3_ENDPOINT` for a local server), with
 * timeouts so an unreachable endpoint or a stalled transfer fails instead of
 * hanging. The SDK's standard retry (3 attempts, or `AWS_MAX_ATTEMPTS`) stays.
 */
export function createCliS3Client(env: Record<string, string | undefined>): S3Client {
  const client = createS3Client(env)
  const handler = client.config.requestHandler as Partial<NodeHttpHandler>
  handler.updateHttpClientConfig?.('connectionTimeout', CONNECTION_TIMEOUT_MS)
  handler.updateHttpClientConfig?.('requestTimeout', SOCKET_TIMEOUT_MS)
  return client
}

/** S3 error names (and SDK error names) that mean the user must fix something, in words they can act on. */
const PROBLEMS: Readonly<Record<string, string>> = {
  NoSuchBucket: 'no such bucket',
  NoSuchKey: 'no such object',
  NotFound: 'no such object',
  AccessDenied: 'access denied (check the IAM permissions of the credentials in use)',
  Forbidden: 'access denied (check the IAM permissions of the credentials in use)',
  AllAccessDisabled: 'access to this bucket is disabled',
  InvalidAccessKeyId: 'the AWS access key id is not valid',
  SignatureDoesNotMatch: 'the AWS secret key does not match the access key id',
  ExpiredToken: 'the AWS session token has expired (sign in again, e.g. aws sso login)',
  TokenRefreshRequired: 'the AWS session token has expired (sign in again, e.g. aws sso login)',
  CredentialsProviderError:
    'no AWS credentials found (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or sign in with aws sso login)',
  PermanentRedirect: 'the bucket is in another region (set AWS_REGION to its region)',
  AuthorizationHeaderMalformed: 'the bucket is in another region (set AWS_REGION to its region)',
  KMS_AccessDenied: 'access denied to the KMS key that encrypts this object',
  PreconditionFailed:
    'the object was replaced while the run read it (both reads are pinned to one version): run again',
}

/** Network failures that say the endpoint cannot be reached at all (not a transfer cut short). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'])

/**
 * Turns an S3 or credential error about `uri` into a one-line
 * {@link InputError} (exit 2) when the user can fix it; returns any other
 * error (a transfer cut short, a server error) as a one-line `Error` naming
 * the URI, which the CLI reports as unexpected (exit 1).
 *
 * @param uri - the location, as the user wrote it
 */
export function asS3Error(uri: string, error: unknown): Error {
  if (error instanceof InputError) return error
  const name = (error as { name?: unknown } | null | undefined)?.name
  const status = (error as { $metadata?: { httpStatusCode?: number } } | null | undefined)?.$metadata
    ?.httpStatusCode
  const message = error instanceof Error ? error.message : String(error)
  const code = (error as { code?: unknown } | null | undefined)?.code
  if (typeof name === 'string' && Object.hasOwn(PROBLEMS, name))
    return new InputError(uri, PROBLEMS[name] as string)
  if (status === 403) return new InputError(uri, PROBLEMS.AccessDenied as string)
  if (/region is missing/i.test(message))
    return new InputError(uri, 'no AWS region configured (set AWS_REGION, or a region in your AWS profile)')
  if (typeof code === 'string' && UNREACHABLE.has(code))
    return new InputError(uri, `cannot reach S3 (${code}${endpointHint()})`)
  // The SDK names a reset or timed-out connection TimeoutError: a transfer cut short, not the user's to fix.
  if (name === 'TimeoutError')
    return new Error(
      `${uri}: the connection to S3 was lost or timed out (${typeof code === 'string' ? code : name})`,
    )
  return new Error(`${uri}: ${typeof name === 'string' && name !== 'Error' ? `${name}: ` : ''}${message}`)
}

function endpointHint(): string {
  const endpoint = process.env.S3_ENDPOINT
  return endpoint ? ` at S3_ENDPOINT=${endpoint}` : ''
}

/**
 * `s3://bucket/key` URIs, read one way wherever a setting names an S3
 * location: the Lambda's `LOOKUP_URI`, the CDK's `lookupUri` and the CLI's
 * `--listings`, `--lookup` and `--out`. The parsers return the location or a
 * reason; each caller words the error its own way. Nothing here calls AWS.
 *
 * A URI is never trimmed or percent-decoded: a key may end in a space or
 * hold `%`, and `aws s3` does not decode either.
 */

/** An object, or a folder-like prefix, in a bucket. */
export interface S3Location {
  bucket: string
  /** The key as given; for a prefix, '' (the bucket's root) or ending in '/'. */
  key: string
}

/** A parsed location, or why the text is not one (a phrase to follow the URI in a message). */
export type S3UriResult<T> = { ok: true; location: T } | { ok: false; reason: string }

/** The scheme, in the lower case S3 tools write. */
const S3_SCHEME = 's3://'

/** S3's rules for bucket names (3-63 lower-case letters, digits, dots and hyphens, starting and ending alphanumeric). */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/

/** The longest key S3 stores, in UTF-8 bytes. */
export const MAX_S3_KEY_BYTES = 1024

/** Whether `value` names S3 rather than a local path (any case of the scheme, so `S3://` is not a local folder). */
export function isS3Uri(value: string): boolean {
  return value.slice(0, S3_SCHEME.length).toLowerCase() === S3_SCHEME
}

/**
 * Parses `s3://bucket/key` naming one object: a bucket name S3 allows and a
 * non-empty key of at most 1,024 bytes. The key is kept byte for byte.
 */
export function parseS3ObjectUri(uri: string): S3UriResult<S3Location> {
  const parts = splitS3Uri(uri)
  if (!parts.ok) return parts
  if (parts.location.key === '') return { ok: false, reason: 'name an object: s3://bucket/key' }
  return parts
}

/**
 * Parses `s3://bucket`, `s3://bucket/prefix` or `s3://bucket/prefix/` as a
 * prefix, returning a key that is '' or ends in '/'; an empty folder name
 * (`//`) is refused.
 */
export function parseS3PrefixUri(uri: string): S3UriResult<S3Location> {
  const parts = splitS3Uri(uri)
  if (!parts.ok) return parts
  const { bucket, key } = parts.location
  if (key.split('/').some((segment, i, all) => segment === '' && i < all.length - 1))
    return { ok: false, reason: "an empty folder name ('//') in the prefix" }
  return { ok: true, location: { bucket, key: key === '' || key.endsWith('/') ? key : `${key}/` } }
}

/** The URI of a location, as a user would write it. */
export function s3Uri(location: S3Location): string {
  return `${S3_SCHEME}${location.bucket}/${location.key}`
}

/** Scheme, bucket and key, each checked against what S3 allows; the key may be empty. */
function splitS3Uri(uri: string): S3UriResult<S3Location> {
  if (!uri.startsWith(S3_SCHEME)) {
    return {
      ok: false,
      reason: isS3Uri(uri) ? 'write the scheme in lower case, s3://bucket/key' : 'it has no s3:// scheme',
    }
  }
  const rest = uri.slice(S3_SCHEME.length)
  const slash = rest.indexOf('/')
  const bucket = slash === -1 ? rest : rest.slice(0, slash)
  const key = slash === -1 ? '' : rest.slice(slash + 1)
  if (bucket === '') return { ok: false, reason: 'no bucket name (s3://bucket/key)' }
  if (!BUCKET_NAME.test(bucket) || bucket.includes('..'))
    return {
      ok: false,
      reason: `'${bucket}' is not a valid bucket name (3-63 lower-case letters, digits, dots and hyphens)`,
    }
  if (Buffer.byteLength(key) > MAX_S3_KEY_BYTES)
    return { ok: false, reason: 'the key is longer than S3 allows (1,024 bytes)' }
  return { ok: true, location: { bucket, key } }
}

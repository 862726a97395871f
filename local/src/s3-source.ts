import type { S3Client } from '@aws-sdk/client-s3'
import { headObject, objectSource } from '../../lambdas/ingest/src/s3-io.js'
import type { S3Location } from '../../lambdas/ingest/src/s3-uri.js'
import { type ByteSource, InputError } from '../../shared/src/index.js'
import { asS3Error, parseS3Uri } from './s3-uri.js'

/**
 * An s3:// `--listings` or `--lookup` as a byte source, read the way the
 * Lambda reads its object (lambdas/ingest/src/s3-io.ts), with every failure
 * one line naming the URI.
 */

/**
 * Opens `s3://bucket/key` as a listings or lookup source (gzip recognised,
 * as for a local file), pinned to the version HEAD saw now.
 *
 * @param option - the flag that named it, for the message about a bad URI
 * @throws {InputError} for a bad URI, a missing object, denied access or missing credentials
 */
export async function s3Source(client: S3Client, uri: string, option: string): Promise<ByteSource> {
  const location = parseS3UriAsInput(uri, option)
  let version: Awaited<ReturnType<typeof headObject>>
  try {
    version = await headObject(client, location.bucket, location.key)
  } catch (error) {
    throw asS3Error(uri, error)
  }
  // A HEAD answers 404 without a body, for a missing key and a missing bucket alike.
  if (version === undefined) throw new InputError(uri, 'no such object (or no such bucket)')
  const source = objectSource(client, version)
  return {
    ...source,
    name: uri,
    // Each read is a GET, which can fail mid-run (the object replaced: 412; access revoked): one line naming it.
    async *open() {
      try {
        yield* source.open()
      } catch (error) {
        throw asS3Error(uri, error)
      }
    },
  }
}

function parseS3UriAsInput(uri: string, option: string): S3Location {
  try {
    return parseS3Uri(uri, option, 'object')
  } catch (error) {
    throw new InputError(uri, (error as Error).message.replace(`${option} ${uri}: `, ''))
  }
}

import type { ObjectCreatedEvent } from '../../local/src/s3/local-s3.js'
import { RAW_BUCKET } from '../../local/src/s3/pipeline.js'

/**
 * The EventBridge "Object Created" event S3 sends for an upload, as the
 * ingest state machine receives it. `etag` and `size` are left out unless
 * given, as in an event for a direct request that names neither.
 */
export function objectCreated(
  key: string,
  object: { etag?: string | undefined; size?: number | undefined } = {},
  bucket = RAW_BUCKET,
): ObjectCreatedEvent {
  return {
    version: '0',
    id: 'test-event',
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: '000000000000',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [`arn:aws:s3:::${bucket}`],
    detail: {
      version: '0',
      bucket: { name: bucket },
      object: {
        key,
        ...(object.size === undefined ? {} : { size: object.size }),
        ...(object.etag === undefined ? {} : { etag: object.etag }),
      },
      'request-id': 'test-request',
      requester: '000000000000',
      reason: 'PutObject',
    },
  }
}

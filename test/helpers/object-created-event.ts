import { type ObjectCreatedEvent, objectCreatedEvent } from '../../local/src/s3/local-s3.js'
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
  return objectCreatedEvent({ bucket, key, ...object })
}

/**
 * The events the handler accepts, and their reduction to one source object.
 *
 * 1. The EventBridge "Object Created" event from S3, passed through whole by
 *    the state machine (the production path):
 *    `{ "detail-type": "Object Created", "source": "aws.s3", "detail": { "bucket": { "name" },
 *       "object": { "key", "size", "etag", "version-id"? }, "reason": "PutObject" } }`.
 *    Its key is not URL-encoded.
 * 2. An S3 event notification (`{ "Records": [{ "s3": { "bucket": { "name" },
 *    "object": { "key", "eTag", "versionId"? } } }] }`), whose key is
 *    URL-encoded with `+` for spaces; exactly one record is accepted.
 * 3. A direct request, as the backfill map sends: `{ "bucket", "key", "etag"?, "versionId"? }`.
 *
 * Any of them may be wrapped as `{ "event": ..., "executionId": "..." }` so the
 * state machine can pass its execution id for the logs.
 *
 * Anything else, and any of them naming an object no S3 call could reach, is
 * `unsupported` with a one-line reason: an empty bucket name or key, a bucket
 * name with characters S3 never allows (so an ARN or a path cannot reach the
 * SDK as a bucket), a key that is not well-formed Unicode, or a notification
 * key that is not valid URL encoding (a bare `%`: S3 itself always writes
 * `%25`, so such a key cannot be decoded to the object it names, and is not
 * guessed at).
 */

/** The object one invocation processes. */
export interface SourceObject {
  bucket: string
  key: string
  /** The ETag the event saw, without quotes; reads are pinned to it. */
  etag?: string
  versionId?: string
}

/** What the handler was asked to do, once the event shape is known. */
export type ParsedEvent =
  | { kind: 'object'; source: SourceObject; executionId?: string }
  | { kind: 'unsupported'; reason: string; executionId?: string }

/** Reads any accepted event shape; never throws (an unreadable event is `unsupported`). */
export function parseEvent(input: unknown): ParsedEvent {
  const wrapper = asRecord(input)
  const executionId = typeof wrapper?.executionId === 'string' ? wrapper.executionId : undefined
  const event = wrapper && 'event' in wrapper ? wrapper.event : input
  const parsed = parseShape(asRecord(event))
  return executionId === undefined ? parsed : { ...parsed, executionId }
}

function parseShape(event: Record<string, unknown> | undefined): ParsedEvent {
  if (event === undefined) return unsupported('event is not a JSON object')
  if ('detail-type' in event) return fromEventBridge(event)
  if ('Records' in event) return fromNotification(event)
  if (typeof event.bucket === 'string' && typeof event.key === 'string') {
    return objectEvent('request', event.bucket, event.key, str(event.etag), str(event.versionId))
  }
  return unsupported('not an S3 Object Created event, an S3 notification, or a { bucket, key } request')
}

function fromEventBridge(event: Record<string, unknown>): ParsedEvent {
  if (event['detail-type'] !== 'Object Created' || event.source !== 'aws.s3') {
    return unsupported(`ignored EventBridge event ${String(event.source)}/${String(event['detail-type'])}`)
  }
  const detail = asRecord(event.detail)
  const bucket = str(asRecord(detail?.bucket)?.name)
  const object = asRecord(detail?.object)
  const key = str(object?.key)
  if (bucket === undefined || key === undefined)
    return unsupported('Object Created event without bucket or key')
  return objectEvent('Object Created event', bucket, key, str(object?.etag), str(object?.['version-id']))
}

function fromNotification(event: Record<string, unknown>): ParsedEvent {
  const records = Array.isArray(event.Records) ? event.Records : []
  if (records.length !== 1) return unsupported(`expected one S3 record, got ${records.length}`)
  const record = asRecord(records[0])
  const eventName = str(record?.eventName) ?? ''
  if (!eventName.startsWith('ObjectCreated:') && !eventName.startsWith('s3:ObjectCreated:')) {
    return unsupported(`ignored S3 notification ${eventName || '(no eventName)'}`)
  }
  const s3 = asRecord(record?.s3)
  const bucket = str(asRecord(s3?.bucket)?.name)
  const object = asRecord(s3?.object)
  const encodedKey = str(object?.key)
  if (bucket === undefined || encodedKey === undefined) return unsupported('S3 record without bucket or key')
  const key = decodeNotificationKey(encodedKey)
  if (key === undefined)
    return unsupported(`S3 record key is not valid URL encoding: ${JSON.stringify(encodedKey)}`)
  return objectEvent('S3 record', bucket, key, str(object?.eTag), str(object?.versionId))
}

/** A notification's key decoded (`+` is a space), or `undefined` when it is not valid URL encoding. */
function decodeNotificationKey(encoded: string): string | undefined {
  try {
    return decodeURIComponent(encoded.replaceAll('+', ' '))
  } catch {
    return undefined
  }
}

/**
 * Bucket names S3 has ever allowed: letters, digits, `.`, `-` and `_` (the
 * last and capitals only in old us-east-1 names), up to 255 characters.
 */
const POSSIBLE_BUCKET_NAME = /^[A-Za-z0-9._-]{1,255}$/

/** A lone UTF-16 surrogate: such a key cannot be URL-encoded for a request. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

function objectEvent(
  shape: string,
  bucket: string,
  key: string,
  etag?: string,
  versionId?: string,
): ParsedEvent {
  if (bucket === '') return unsupported(`${shape} with an empty bucket name`)
  if (!POSSIBLE_BUCKET_NAME.test(bucket)) {
    return unsupported(`${shape} with an invalid bucket name ${JSON.stringify(bucket)}`)
  }
  if (key === '') return unsupported(`${shape} with an empty key`)
  if (LONE_SURROGATE.test(key)) return unsupported(`${shape} with a key that is not well-formed Unicode`)
  const source: SourceObject = { bucket, key }
  if (etag) source.etag = etag.replaceAll('"', '')
  if (versionId) source.versionId = versionId
  return { kind: 'object', source }
}

function unsupported(reason: string): ParsedEvent {
  return { kind: 'unsupported', reason }
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

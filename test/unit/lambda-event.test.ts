import { describe, expect, it } from 'vitest'
import { parseEvent } from '../../lambdas/ingest/src/event.js'

const eventBridge = {
  version: '0',
  'detail-type': 'Object Created',
  source: 'aws.s3',
  detail: {
    bucket: { name: 'raw' },
    object: { key: 'incoming/shop listings.csv', size: 10, etag: 'abc', 'version-id': 'v1' },
    reason: 'PutObject',
  },
}

describe('parseEvent', () => {
  it('reads the EventBridge Object Created event, key as is', () => {
    expect(parseEvent(eventBridge)).toEqual({
      kind: 'object',
      source: { bucket: 'raw', key: 'incoming/shop listings.csv', etag: 'abc', versionId: 'v1' },
    })
  })

  it('takes the execution id from the state machine wrapper', () => {
    expect(parseEvent({ event: eventBridge, executionId: 'arn:exec' })).toMatchObject({
      kind: 'object',
      executionId: 'arn:exec',
    })
  })

  it('URL-decodes the key of an S3 notification and strips ETag quotes', () => {
    const notification = {
      Records: [
        {
          eventName: 'ObjectCreated:Put',
          s3: {
            bucket: { name: 'raw' },
            object: { key: 'incoming/shop+listings%282%29.csv', eTag: '"abc"' },
          },
        },
      ],
    }
    expect(parseEvent(notification)).toEqual({
      kind: 'object',
      source: { bucket: 'raw', key: 'incoming/shop listings(2).csv', etag: 'abc' },
    })
  })

  it('accepts a direct { bucket, key } request, as the backfill sends', () => {
    expect(parseEvent({ bucket: 'raw', key: 'incoming/a.csv' })).toEqual({
      kind: 'object',
      source: { bucket: 'raw', key: 'incoming/a.csv' },
    })
  })

  it('names what it ignores', () => {
    expect(parseEvent({ ...eventBridge, 'detail-type': 'Object Deleted' })).toEqual({
      kind: 'unsupported',
      reason: 'ignored EventBridge event aws.s3/Object Deleted',
    })
    expect(parseEvent({ Records: [] })).toMatchObject({
      kind: 'unsupported',
      reason: 'expected one S3 record, got 0',
    })
    expect(parseEvent({ Records: [{ eventName: 'ObjectRemoved:Delete' }] })).toMatchObject({
      kind: 'unsupported',
    })
    expect(parseEvent('nonsense')).toMatchObject({
      kind: 'unsupported',
      reason: 'event is not a JSON object',
    })
    expect(parseEvent({ hello: 1 })).toMatchObject({ kind: 'unsupported' })
  })
})

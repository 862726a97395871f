import fc from 'fast-check'
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

  it('answers a notification key that is not valid URL encoding (a bare %) as unsupported, naming it', () => {
    expect(parseEvent(notification('incoming/100%.csv'))).toEqual({
      kind: 'unsupported',
      reason: 'S3 record key is not valid URL encoding: "incoming/100%.csv"',
    })
    expect(parseEvent(notification('incoming/100%25.csv'))).toMatchObject({
      kind: 'object',
      source: { key: 'incoming/100%.csv' },
    })
  })

  it('answers an empty bucket name or key as unsupported, in every shape', () => {
    const emptyBucket = { ...eventBridge, detail: { ...eventBridge.detail, bucket: { name: '' } } }
    expect(parseEvent(emptyBucket)).toEqual({
      kind: 'unsupported',
      reason: 'Object Created event with an empty bucket name',
    })
    expect(parseEvent({ bucket: '', key: 'incoming/a.csv' })).toMatchObject({
      kind: 'unsupported',
      reason: 'request with an empty bucket name',
    })
    expect(parseEvent({ bucket: 'raw', key: '' })).toMatchObject({
      kind: 'unsupported',
      reason: 'request with an empty key',
    })
    expect(parseEvent(notification(''))).toMatchObject({
      kind: 'unsupported',
      reason: 'S3 record with an empty key',
    })
  })

  it('answers a bucket name or key S3 cannot hold as unsupported, before any S3 call', () => {
    expect(parseEvent({ bucket: 'arn:aws:s3:::raw', key: 'incoming/a.csv' })).toMatchObject({
      kind: 'unsupported',
      reason: 'request with an invalid bucket name "arn:aws:s3:::raw"',
    })
    expect(parseEvent({ bucket: 'raw/x', key: 'incoming/a.csv' })).toMatchObject({ kind: 'unsupported' })
    expect(parseEvent(JSON.parse('{"bucket":"raw","key":"incoming/\\ud800.csv"}'))).toMatchObject({
      kind: 'unsupported',
      reason: 'request with a key that is not well-formed Unicode',
    })
  })

  it('never throws, whatever JSON arrives', () => {
    const key = fc.oneof(fc.string(), fc.constantFrom('%', '%E0%A4%A', '+%2', 'incoming/a%.csv'))
    const anyValue = fc.oneof(fc.jsonValue(), key)
    const shaped = fc.oneof(
      fc.record(
        { bucket: anyValue, key: anyValue, etag: anyValue, versionId: anyValue },
        { requiredKeys: [] },
      ),
      fc.record({
        'detail-type': fc.constantFrom('Object Created', 'Object Deleted'),
        source: fc.constantFrom('aws.s3', 'aws.ec2'),
        detail: fc.record({ bucket: fc.record({ name: anyValue }), object: fc.record({ key: anyValue }) }),
      }),
      fc.record({
        Records: fc.array(
          fc.record({
            eventName: fc.constantFrom('ObjectCreated:Put', 's3:ObjectCreated:Copy', 'ObjectRemoved:Delete'),
            s3: fc.record({ bucket: fc.record({ name: anyValue }), object: fc.record({ key: anyValue }) }),
          }),
          { maxLength: 2 },
        ),
      }),
      fc.jsonValue(),
    )
    const wrapped = fc.oneof(shaped, fc.record({ event: shaped, executionId: anyValue }))
    fc.assert(
      fc.property(wrapped, (event) => {
        const parsed = parseEvent(event)
        if (parsed.kind === 'object') {
          expect(parsed.source.bucket).not.toBe('')
          expect(parsed.source.key).not.toBe('')
        } else {
          expect(parsed.reason).toMatch(/\S/)
        }
      }),
      { numRuns: 3000 },
    )
  })
})

function notification(key: string) {
  return {
    Records: [
      { eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'raw' }, object: { key, eTag: 'abc' } } },
    ],
  }
}

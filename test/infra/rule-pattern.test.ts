import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MAX_EVENT_PATTERN_CHARS } from '../../infra/src/ingest-stack.js'
import { isGzipCsvName, isIncomingCsv } from '../../lambdas/ingest/src/incoming-keys.js'
import { objectCreatedEvent } from '../../local/src/s3/local-s3.js'
import { matchesEventPattern } from '../helpers/eventbridge-matcher.js'
import { template } from './synth.js'

const t = template()

/** The rule that starts ingest executions: the one whose pattern listens to aws.s3, found by content, not logical id. */
function s3Rule(): { pattern: Record<string, unknown>; bucketRef: string } {
  const rules = Object.values(t.findResources('AWS::Events::Rule')).filter((rule) =>
    (rule.Properties?.EventPattern?.source ?? []).includes('aws.s3'),
  )
  expect(rules).toHaveLength(1)
  const pattern = rules[0]?.Properties.EventPattern as Record<string, unknown>
  // The bucket name is a { Ref } to the raw bucket until deploy; stand a name in for it.
  const bucketRef = JSON.stringify(pattern).match(/"Ref":"([^"]+)"/)?.[1] ?? ''
  expect(t.findResources('AWS::S3::Bucket')[bucketRef], 'the rule names a bucket of the stack').toBeDefined()
  return {
    pattern: JSON.parse(JSON.stringify(pattern).replaceAll(`{"Ref":"${bucketRef}"}`, '"raw"')),
    bucketRef,
  }
}

/** The EventBridge event S3 sends for a new object (key as is, not URL-encoded), or another detail type. */
function objectCreated(key: string, bucket = 'raw', detailType = 'Object Created') {
  const event = objectCreatedEvent({
    bucket,
    key,
    size: 5,
    etag: 'b1946ac92492d2347c6235b4d2611184',
    sequencer: '00617F08299329D189',
  })
  return { ...event, 'detail-type': detailType }
}

const PREFIX = 'incoming/'
const piece = fc.constantFrom(
  'incoming/',
  'archive/',
  'a',
  '/',
  '.csv',
  '.CSV',
  '.cSv',
  '.gz',
  '.GZ',
  '.csv.gz',
  '.txt',
  '*',
  '\\',
  '%',
  ' ',
  'é',
)
const key = fc.oneof(
  fc.array(piece, { maxLength: 6 }).map((pieces) => pieces.join('')),
  fc
    .tuple(
      fc.string({ unit: 'grapheme', maxLength: 8 }),
      fc.constantFrom(
        '.csv',
        '.CSV',
        '.Csv',
        '.csvx',
        'csv',
        '.csv.gz',
        '.CSV.Gz',
        '.csv.gzip',
        'csv.gz',
        '.gz',
      ),
    )
    .map(([name, end]) => `${PREFIX}${name}${end}`),
)

describe('the synthesized EventBridge rule', () => {
  const { pattern } = s3Rule()
  const ruleRuns = (event: unknown) => matchesEventPattern(pattern, event)

  it.each([
    ['incoming/a.csv', true],
    ['incoming/A.CSV', true],
    ['incoming/2024/shop listings.Csv', true],
    ['incoming/.csv', true],
    ['incoming/a.csv.gz', true],
    ['incoming/2024/shop listings.CSV.GZ', true],
    ['incoming/a.Csv.gZ', true],
    ['incoming/.csv.gz', true],
    ['incoming/a.gz', false],
    ['incoming/a.csv.gz.txt', false],
    ['incoming/a.tsv.gz', false],
    ['incoming/a.csv.txt', false],
    ['incoming/a.txt', false],
    ['incoming/acsv', false],
    ['archive/a.csv', false],
    ['Incoming/a.csv', false],
  ])('starts an execution for %s: %s, as the handler accepts it', (objectKey, expected) => {
    expect(ruleRuns(objectCreated(objectKey))).toBe(expected)
    expect(isIncomingCsv(objectKey, PREFIX)).toBe(expected)
  })

  it.each(['archive/a.csv.gz', 'Incoming/a.CSV.GZ', 'a.csv.gz'])(
    'starts an execution for %s, a .csv.gz outside the prefix, which the handler skips',
    (objectKey) => {
      // The one kind of key the rule lets through beyond the handler's rule (see incomingKeyEventPattern).
      expect(ruleRuns(objectCreated(objectKey))).toBe(true)
      expect(isIncomingCsv(objectKey, PREFIX)).toBe(false)
    },
  )

  it("fits EventBridge's default 2,048-character event-pattern quota, with the longest bucket name", () => {
    const deployed = JSON.stringify(pattern).replace('"raw"', JSON.stringify('b'.repeat(63)))
    expect(deployed.length).toBeLessThanOrEqual(MAX_EVENT_PATTERN_CHARS)
  })

  it('refuses at synthesis an incoming prefix too long for the pattern quota', () => {
    expect(() => template({ incomingPrefix: `${'p'.repeat(250)}/` })).toThrow(
      /context incomingPrefix is too long: the EventBridge rule's pattern would be \d+ characters/,
    )
  })

  it('ignores other buckets and other S3 events', () => {
    expect(ruleRuns(objectCreated('incoming/a.csv', 'other'))).toBe(false)
    expect(ruleRuns(objectCreated('incoming/a.csv', 'raw', 'Object Deleted'))).toBe(false)
  })

  it('agrees with the handler on every generated key, save .csv.gz keys outside the prefix', () => {
    fc.assert(
      fc.property(key, (objectKey) => {
        expect(ruleRuns(objectCreated(objectKey)), objectKey).toBe(
          isIncomingCsv(objectKey, PREFIX) || isGzipCsvName(objectKey),
        )
      }),
      { numRuns: 3000 },
    )
  })
})

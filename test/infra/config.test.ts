import { App } from 'aws-cdk-lib'
import { describe, expect, it } from 'vitest'
import { type PipelineConfig, readPipelineConfig } from '../../infra/src/config.js'
import { readConfig } from '../../lambdas/ingest/src/config.js'
import { template } from './synth.js'

/** The configuration read from `context`, as `cdk -c key=value` (strings) or cdk.json (JSON values) give it. */
function configFrom(context: Record<string, unknown>): PipelineConfig {
  return readPipelineConfig(new App({ context }).node)
}

/** The message readPipelineConfig refuses `context` with. */
function refusal(context: Record<string, unknown>): string {
  try {
    configFrom(context)
  } catch (error) {
    return (error as Error).message
  }
  throw new Error(`accepted ${JSON.stringify(context)}`)
}

/** The context keys that count something, with their ranges; each must be a whole number. */
const WHOLE_NUMBER_KEYS: readonly [string, number, number][] = [
  ['lambdaMemoryMb', 512, 10240],
  ['lambdaTimeoutMinutes', 1, 15],
  ['backfillMaxConcurrency', 1, 1000],
  ['logRetentionDays', 1, 3653],
  ['rejectedRetentionDays', 1, 3653],
  ['largeFileCpu', 1024, 16384],
  ['largeFileMemoryMiB', 4096, 16384],
  ['largeFileTimeoutMinutes', 5, 10080],
  ['largeFileThresholdBytes', 1, Number.MAX_SAFE_INTEGER],
]

describe('readPipelineConfig: numbers from context', () => {
  it('reads defaults when nothing is set', () => {
    expect(configFrom({})).toMatchObject({
      maxRejectedRatio: undefined,
      maxUnmatchedSegmentRatio: undefined,
      rejectedPercentAlarm: 10,
      lambdaMemoryMb: 1769,
      lambdaTimeoutMinutes: 15,
      backfillMaxConcurrency: 10,
      logRetentionDays: 365,
      rejectedRetentionDays: 90,
    })
  })

  it.each(WHOLE_NUMBER_KEYS)('refuses a fraction, hex or an exponent for %s (%i to %i)', (key, min, max) => {
    for (const value of ['1769.5', 1769.5, '0x800', '1e3', '+600', `${min}.0`]) {
      expect(refusal({ [key]: value }), `${key}=${value}`).toBe(
        `context ${key} must be a whole number from ${min} to ${max}, got ${JSON.stringify(String(value))}`,
      )
    }
  })

  it('reads whole numbers given as text or as JSON numbers, surrounding White_Space ignored', () => {
    expect(
      configFrom({ lambdaMemoryMb: ' 3008\u00a0', lambdaTimeoutMinutes: 10, backfillMaxConcurrency: '25' }),
    ).toMatchObject({ lambdaMemoryMb: 3008, lambdaTimeoutMinutes: 10, backfillMaxConcurrency: 25 })
    expect(
      configFrom({ largeFileThresholdBytes: String(Number.MAX_SAFE_INTEGER) }).largeFiles?.thresholdBytes,
    ).toBe(Number.MAX_SAFE_INTEGER)
    expect(refusal({ largeFileThresholdBytes: '9007199254740993' })).toMatch(
      /^context largeFileThresholdBytes must be a whole number from 1 to 9007199254740991/,
    )
  })

  it('reads ratios as plain decimals from 0 to 1 and the alarm percentage as one from 0 to 100', () => {
    expect(
      configFrom({ maxRejectedRatio: '0.2', maxUnmatchedSegmentRatio: 0.5, rejectedPercentAlarm: '12.5' }),
    ).toMatchObject({ maxRejectedRatio: 0.2, maxUnmatchedSegmentRatio: 0.5, rejectedPercentAlarm: 12.5 })
    for (const ratio of ['0x1', '1e-1', '-0', '1.01']) {
      expect(refusal({ maxRejectedRatio: ratio })).toBe(
        `context maxRejectedRatio must be a number from 0 to 1, got ${JSON.stringify(ratio)}`,
      )
    }
    expect(refusal({ rejectedPercentAlarm: '100.5' })).toBe(
      'context rejectedPercentAlarm must be a number from 0 to 100, got "100.5"',
    )
  })

  it('takes a value that is empty or only White_Space as unset, not as 0', () => {
    expect(
      configFrom({ maxRejectedRatio: ' ', rejectedPercentAlarm: '\u3000', lambdaMemoryMb: '' }),
    ).toMatchObject({ maxRejectedRatio: undefined, rejectedPercentAlarm: 10, lambdaMemoryMb: 1769 })
  })
})

describe('readPipelineConfig: the lookup URI', () => {
  it('keeps a well-formed s3://bucket/key', () => {
    expect(configFrom({ lookupUri: 's3://ref-data/lookups/category_lookup.csv' }).lookupUri).toBe(
      's3://ref-data/lookups/category_lookup.csv',
    )
  })

  it.each([
    ['ref-data/lookup.csv', 'it has no s3:// scheme'],
    ['s3://Ref_Data/lookup.csv', "'Ref_Data' is not a valid bucket name"],
    ['s3://ref-data', 'name an object'],
  ])('refuses %s at synthesis, naming the key: %s', (uri, reason) => {
    expect(refusal({ lookupUri: uri })).toContain(
      `context lookupUri must look like s3://bucket/key, got ${JSON.stringify(uri)}: ${reason}`,
    )
  })
})

describe('a ratio handed from context to the Lambda', () => {
  /** The Lambda's environment as the stack synthesizes it for `context`. */
  function lambdaEnvironment(context: Record<string, unknown>): Record<string, string> {
    const functions = template(context).findResources('AWS::Lambda::Function')
    const ingest = Object.values(functions).find(
      (fn) => fn.Properties?.Environment?.Variables?.MAX_REJECTED_RATIO !== undefined,
    )
    return ingest?.Properties.Environment.Variables ?? {}
  }

  it('reaches it in a form its own parser reads back, however small (no 5e-7 exponent)', () => {
    for (const context of [
      { maxRejectedRatio: 5e-7, maxUnmatchedSegmentRatio: 1e-9 },
      { maxRejectedRatio: '0.0000005', maxUnmatchedSegmentRatio: '0.000000001' },
    ]) {
      const env = lambdaEnvironment({ ...context, largeFiles: 'off' })
      expect(env.MAX_REJECTED_RATIO).toBe('0.0000005')
      expect(env.MAX_UNMATCHED_SEGMENT_RATIO).toBe('0.000000001')
      const read = readConfig({
        PROCESSED_BUCKET: 'processed',
        LOOKUP_URI: 's3://raw/reference/category_lookup.csv',
        MAX_REJECTED_RATIO: env.MAX_REJECTED_RATIO,
        MAX_UNMATCHED_SEGMENT_RATIO: env.MAX_UNMATCHED_SEGMENT_RATIO,
      })
      expect([read.maxRejectedRatio, read.maxUnmatchedSegmentRatio]).toEqual([5e-7, 1e-9])
    }
  })

  it('treats blank text context as unset, and takes other text as written', () => {
    expect(configFrom({ namePrefix: ' \u00a0 ', alarmEmail: '' })).toMatchObject({
      namePrefix: 'listings-ingest',
      alarmEmail: undefined,
    })
    expect(refusal({ removalPolicy: ' retain' })).toBe(
      'context removalPolicy must be retain or destroy, got " retain"',
    )
  })
})

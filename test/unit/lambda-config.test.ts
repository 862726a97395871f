import { describe, expect, it } from 'vitest'
import { readConfig } from '../../lambdas/ingest/src/config.js'
import { ConfigurationError } from '../../lambdas/ingest/src/errors.js'
import { MAX_ROW_GROUP_SIZE } from '../../shared/src/limits.js'

const base = { PROCESSED_BUCKET: 'processed', LOOKUP_URI: 's3://ref/lookups/category_lookup.csv' }

describe('readConfig', () => {
  it('reads the required settings with defaults for the rest', () => {
    expect(readConfig(base)).toEqual({
      processedBucket: 'processed',
      lookup: { bucket: 'ref', key: 'lookups/category_lookup.csv' },
      incomingPrefix: 'incoming/',
      nullMarkers: [],
      rowGroupSize: 100_000,
      memoryBudgetBytes: 1024 * 1_048_576,
    })
  })

  it("budgets 60% of the Lambda's memory for one pass, or MEMORY_BUDGET_MIB when set, refusing a bad value", () => {
    expect(readConfig({ ...base, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1769' }).memoryBudgetBytes).toBe(
      1061 * 1_048_576,
    )
    expect(
      readConfig({ ...base, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1769', MEMORY_BUDGET_MIB: '9830' })
        .memoryBudgetBytes,
    ).toBe(9830 * 1_048_576)
    expect(readConfig({ ...base, MEMORY_BUDGET_MIB: '0' }).memoryBudgetBytes).toBe(0)
    expect(() => readConfig({ ...base, MEMORY_BUDGET_MIB: 'half' })).toThrow(ConfigurationError)
    expect(() => readConfig({ ...base, MEMORY_BUDGET_MIB: 'half' })).toThrow(/MEMORY_BUDGET_MIB must be/)
  })

  it('trims null markers by the contract whitespace, keeping U+FEFF that String#trim would drop', () => {
    const config = readConfig({ ...base, NULL_VALUES: '\u3000NA\u0085,\uFEFFnull, ,' })
    expect(config.nullMarkers).toEqual(['NA', '\uFEFFnull'])
  })

  it('reads thresholds, null markers, row group size and the KMS key', () => {
    const config = readConfig({
      ...base,
      MAX_REJECTED_RATIO: '0.1',
      MAX_UNMATCHED_SEGMENT_RATIO: '0',
      NULL_VALUES: 'NA, null',
      ROW_GROUP_SIZE: '5000',
      OUTPUT_KMS_KEY_ARN: 'arn:aws:kms:eu-west-2:1:key/x',
    })
    expect(config).toMatchObject({
      maxRejectedRatio: 0.1,
      maxUnmatchedSegmentRatio: 0,
      nullMarkers: ['NA', 'null'],
      rowGroupSize: 5000,
      kmsKeyArn: 'arn:aws:kms:eu-west-2:1:key/x',
    })
  })

  it('names the variable that is missing or malformed', () => {
    expect(() => readConfig({ LOOKUP_URI: base.LOOKUP_URI })).toThrow(
      new ConfigurationError('PROCESSED_BUCKET is not set'),
    )
    expect(() => readConfig({ ...base, LOOKUP_URI: 'ref/lookup.csv' })).toThrow(
      /LOOKUP_URI must look like s3:\/\/bucket\/key/,
    )
    expect(() => readConfig({ ...base, MAX_REJECTED_RATIO: '2' })).toThrow(
      /MAX_REJECTED_RATIO must be a number from 0 to 1/,
    )
    expect(() => readConfig({ ...base, ROW_GROUP_SIZE: '1.5' })).toThrow(
      /ROW_GROUP_SIZE must be a whole number from 1 to 1048576/,
    )
  })

  it('reads numbers as the CLI does: plain decimals, surrounding White_Space ignored', () => {
    const config = readConfig({
      ...base,
      ROW_GROUP_SIZE: ' 10 ',
      MEMORY_BUDGET_MIB: '8\u0085',
      MAX_REJECTED_RATIO: '\u3000.25',
    })
    expect(config).toMatchObject({
      rowGroupSize: 10,
      memoryBudgetBytes: 8 * 1_048_576,
      maxRejectedRatio: 0.25,
    })
    for (const ratio of ['0x1', '1e-1', '+1', 'Infinity']) {
      expect(() => readConfig({ ...base, MAX_UNMATCHED_SEGMENT_RATIO: ratio })).toThrow(
        new ConfigurationError(`MAX_UNMATCHED_SEGMENT_RATIO must be a number from 0 to 1, got "${ratio}"`),
      )
    }
  })

  it('takes a variable that is empty or only White_Space as unset', () => {
    const config = readConfig({
      ...base,
      ROW_GROUP_SIZE: '\u3000',
      MEMORY_BUDGET_MIB: '',
      MAX_REJECTED_RATIO: '\u0085',
      MAX_UNMATCHED_SEGMENT_RATIO: ' ',
      NULL_VALUES: ' , ',
      // Text settings too: a blank prefix is not "every key", a blank key ARN not a key.
      INCOMING_PREFIX: '',
      OUTPUT_KMS_KEY_ARN: ' ',
    })
    expect(config).toEqual(readConfig(base))
  })

  it("falls back to the default budget when the runtime's memory size is not a plain whole number", () => {
    for (const size of ['0x800', '1e3', '1769.5', '0', '']) {
      expect(readConfig({ ...base, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: size }).memoryBudgetBytes, size).toBe(
        1024 * 1_048_576,
      )
    }
  })

  it('refuses a LOOKUP_URI whose bucket S3 could never have, saying why', () => {
    expect(() => readConfig({ ...base, LOOKUP_URI: 's3://Ref_Data/lookup.csv' })).toThrow(
      new ConfigurationError(
        `LOOKUP_URI must look like s3://bucket/key, got "s3://Ref_Data/lookup.csv": 'Ref_Data' is not a valid bucket name (3-63 lower-case letters, digits, dots and hyphens)`,
      ),
    )
    expect(() => readConfig({ ...base, LOOKUP_URI: 's3://ref' })).toThrow(
      /LOOKUP_URI must look like s3:\/\/bucket\/key, got "s3:\/\/ref": name an object/,
    )
  })

  it('bounds ROW_GROUP_SIZE by the same limit as the CLI', () => {
    expect(readConfig({ ...base, ROW_GROUP_SIZE: String(MAX_ROW_GROUP_SIZE) }).rowGroupSize).toBe(
      MAX_ROW_GROUP_SIZE,
    )
    for (const size of [String(MAX_ROW_GROUP_SIZE + 1), '2147483648', '0']) {
      expect(() => readConfig({ ...base, ROW_GROUP_SIZE: size })).toThrow(
        new ConfigurationError(`ROW_GROUP_SIZE must be a whole number from 1 to 1048576, got "${size}"`),
      )
    }
  })
})

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  CSV_EXTENSIONS,
  GZIP_CSV_EXTENSIONS,
  INCOMING_EXTENSIONS,
  incomingKeyEventPattern,
  isGzipCsvName,
  isIncomingCsv,
} from '../../lambdas/ingest/src/incoming-keys.js'
import { matchesEventPattern } from '../helpers/eventbridge-matcher.js'

/** Whether a rule filtering `detail.object.key` with the pattern would start an execution for the key. */
function ruleAccepts(prefix: string, key: string): boolean {
  return matchesEventPattern(
    { detail: { object: { key: incomingKeyEventPattern(prefix) } } },
    { detail: { object: { key } } },
  )
}

const piece = fc.constantFrom(
  'in/',
  'a',
  '/',
  '.',
  'c',
  's',
  'v',
  'C',
  'S',
  'V',
  '.csv',
  '.CsV',
  '.gz',
  '.Gz',
  'g',
  'z',
  '*',
  '\\',
  '\\*',
  '%',
)
const text = fc.oneof(
  fc.array(piece, { maxLength: 5 }).map((pieces) => pieces.join('')),
  fc.string({ unit: 'binary', maxLength: 6 }),
)

describe('the accepted-key rule', () => {
  it('accepts keys under the prefix ending in .csv in any letter case', () => {
    expect(CSV_EXTENSIONS).toHaveLength(8)
    expect(new Set(CSV_EXTENSIONS.map((extension) => extension.toLowerCase()))).toEqual(new Set(['.csv']))
    expect(isIncomingCsv('incoming/a.csv', 'incoming/')).toBe(true)
    expect(isIncomingCsv('incoming/A.CSV', 'incoming/')).toBe(true)
    expect(isIncomingCsv('incoming/.cSv', 'incoming/')).toBe(true)
    expect(isIncomingCsv('incoming/a.txt', 'incoming/')).toBe(false)
    expect(isIncomingCsv('archive/a.csv', 'incoming/')).toBe(false)
    expect(isIncomingCsv('incoming/', 'incoming/')).toBe(false)
    // The extension may not overlap the prefix, as a wildcard's parts do not.
    expect(isIncomingCsv('x.csv', 'x.cs')).toBe(false)
  })

  it('accepts gzipped CSV keys, .csv.gz in any letter case, and nothing else compressed', () => {
    expect(GZIP_CSV_EXTENSIONS).toHaveLength(32)
    expect(new Set(GZIP_CSV_EXTENSIONS.map((extension) => extension.toLowerCase()))).toEqual(
      new Set(['.csv.gz']),
    )
    expect(new Set(INCOMING_EXTENSIONS).size).toBe(40)
    for (const key of ['incoming/a.csv.gz', 'incoming/A.CSV.GZ', 'incoming/a.cSv.gZ', 'incoming/.csv.gz']) {
      expect(isIncomingCsv(key, 'incoming/'), key).toBe(true)
    }
    for (const key of ['incoming/a.gz', 'incoming/a.csv.gz.txt', 'incoming/a.csvgz', 'incoming/a.tsv.gz']) {
      expect(isIncomingCsv(key, 'incoming/'), key).toBe(false)
    }
    expect(isIncomingCsv('x.csv.gz', 'x.csv')).toBe(false)
  })

  it('is the same rule in the EventBridge pattern, save .csv.gz keys outside the prefix (wildcard escapes included)', () => {
    fc.assert(
      fc.property(
        text,
        text,
        fc.constantFrom(...INCOMING_EXTENSIONS, '', '.txt', '.gz'),
        (prefix, middle, end) => {
          for (const key of [`${prefix}${middle}${end}`, `${middle}${end}`]) {
            expect(
              ruleAccepts(prefix, key),
              `prefix ${JSON.stringify(prefix)}, key ${JSON.stringify(key)}`,
            ).toBe(isIncomingCsv(key, prefix) || isGzipCsvName(key))
          }
        },
      ),
      { numRuns: 3000 },
    )
  })

  it('keeps the wildcards the rule always had: eight, all for .csv; .csv.gz is one suffix filter', () => {
    // EventBridge refuses "too complex" wildcard rules; wildcards that share the prefix are all alive at
    // once for an input that starts with it, so their number is the rule's complexity (see incoming-keys.ts).
    const filters = incomingKeyEventPattern('incoming/')
    const wildcards = filters.filter((filter) => 'wildcard' in filter)
    expect(wildcards).toHaveLength(8)
    expect(filters.filter((filter) => !('wildcard' in filter))).toEqual([
      { suffix: { 'equals-ignore-case': '.csv.gz' } },
    ])
    expect(ruleAccepts('incoming/', 'archive/a.CSV.gz')).toBe(true)
    expect(isIncomingCsv('archive/a.CSV.gz', 'incoming/')).toBe(false)
  })

  it('escapes * and \\ in the prefix, so they match only themselves', () => {
    expect(incomingKeyEventPattern('in*\\/')[0]).toEqual({ wildcard: 'in\\*\\\\/*.csv' })
    expect(ruleAccepts('in*/', 'inbox/a.csv')).toBe(false)
    expect(ruleAccepts('in*/', 'in*/a.csv')).toBe(true)
  })
})

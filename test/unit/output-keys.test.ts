import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isIncomingCsv } from '../../lambdas/ingest/src/incoming-keys.js'
import { MAX_S3_KEY_BYTES, outputKeysFor, overlongOutputKey } from '../../lambdas/ingest/src/output-keys.js'

const PREFIX = 'incoming/'
const DAY = new Date('2026-11-28T23:59:00Z')

/** The file name part every output key shares: the Parquet key without its partition and extension. */
function outputName(sourceKey: string): string {
  const parquet = outputKeysFor(sourceKey, PREFIX, DAY).parquet
  return parquet.slice('listings/dt=2026-11-28/'.length, -'.parquet'.length)
}

/** Pieces that stress the mapping: separators, escapes and their results, extensions, case, non-ASCII. */
const tricky = fc.constantFrom(
  ...['/', '%', '_', '.', '__', '%2E', '%2F', '%25', '%5F', '2', 'E', 'F', 'c', 's', 'v', 'C', 'S', 'V'],
  ...['.csv', '.CSV', '.cSv', 'é', '😀', ' '],
)
const name = fc.oneof(
  fc.array(tricky, { minLength: 0, maxLength: 6 }).map((pieces) => pieces.join('')),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
)
const csvSuffix = fc.constantFrom('.csv', '.CSV', '.Csv', '.csV', '.cSv')
/** Keys the pipeline accepts: under the prefix, ending in a case variant of `.csv`. */
const incomingKey = fc.tuple(name, csvSuffix).map(([base, suffix]) => `${PREFIX}${base}${suffix}`)

describe('outputKeysFor', () => {
  it('derives Hive-partitioned keys from the source key and its Last-Modified date', () => {
    expect(outputKeysFor('incoming/2024/shop listings.csv', PREFIX, DAY)).toEqual({
      parquet: 'listings/dt=2026-11-28/2024%2Fshop listings.parquet',
      rejected: 'rejected/dt=2026-11-28/2024%2Fshop listings.csv',
      report: 'reports/dt=2026-11-28/2024%2Fshop listings.json',
      manifest: '_manifests/2024%2Fshop listings.json',
    })
  })

  it.each([
    ['incoming/sample.csv', 'sample'],
    ['incoming/a/b.csv', 'a%2Fb'],
    ['incoming/a__b.csv', 'a__b'],
    ['incoming/x.CSV', 'x%2ECSV'],
    ['incoming/x.CSV.csv', 'x.CSV'],
    ['incoming/shop.v2.csv', 'shop.v2'],
    ['incoming/100%.csv', '100%25'],
    ['incoming/a%2Fb.csv', 'a%252Fb'],
    ['incoming/_draft.csv', '%5Fdraft'],
    ['incoming/.hidden.csv', '%2Ehidden%2Ecsv'],
    ['incoming/.csv', '%2Ecsv'],
  ])('names the outputs of %s "%s"', (key, expected) => {
    expect(outputName(key)).toBe(expected)
  })

  it('gives two distinct accepted keys distinct outputs, case included', () => {
    fc.assert(
      fc.property(incomingKey, incomingKey, (a, b) => {
        fc.pre(a !== b)
        const [ka, kb] = [outputKeysFor(a, PREFIX, DAY), outputKeysFor(b, PREFIX, DAY)]
        for (const output of ['parquet', 'rejected', 'report', 'manifest'] as const) {
          expect(ka[output], `${output} of ${JSON.stringify(a)} and ${JSON.stringify(b)}`).not.toBe(
            kb[output],
          )
        }
      }),
      { numRuns: 5000 },
    )
  })

  it('maps a set of distinct keys to as many distinct outputs', () => {
    fc.assert(
      fc.property(fc.uniqueArray(incomingKey, { maxLength: 60 }), (keys) => {
        expect(new Set(keys.map(outputName)).size).toBe(keys.length)
      }),
      { numRuns: 500 },
    )
  })

  it('keeps every output flat in its partition and visible to Athena (no "/", no leading "." or "_")', () => {
    fc.assert(
      fc.property(incomingKey, (key) => {
        const output = outputName(key)
        expect(output).not.toBe('')
        expect(output).not.toContain('/')
        expect(output[0]).not.toMatch(/[._]/)
      }),
    )
  })

  it('is stable: the same key and date give the same keys; another day moves only the partition', () => {
    fc.assert(
      fc.property(incomingKey, (key) => {
        expect(outputKeysFor(key, PREFIX, DAY)).toEqual(outputKeysFor(key, PREFIX, new Date(DAY)))
        const nextDay = outputKeysFor(key, PREFIX, new Date('2026-11-29T00:00:01Z'))
        expect(nextDay.parquet.replace('dt=2026-11-29', 'dt=2026-11-28')).toBe(
          outputKeysFor(key, PREFIX, DAY).parquet,
        )
        expect(nextDay.manifest).toBe(outputKeysFor(key, PREFIX, DAY).manifest)
      }),
    )
  })

  it('only maps keys the pipeline accepts', () => {
    expect(isIncomingCsv('incoming/a.txt', PREFIX)).toBe(false)
    expect(() => outputKeysFor('incoming/a.txt', PREFIX, DAY)).toThrow(/not an incoming \.csv key/)
  })

  it('says which output key would exceed S3’s 1,024-byte limit', () => {
    const long = `incoming/${'é'.repeat(500)}.csv`
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(MAX_S3_KEY_BYTES)
    expect(overlongOutputKey(outputKeysFor(long, PREFIX, DAY))).toMatch(/^listings\/dt=.*\.parquet$/)
    expect(overlongOutputKey(outputKeysFor('incoming/short.csv', PREFIX, DAY))).toBeUndefined()
  })
})

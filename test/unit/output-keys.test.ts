import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isIncomingCsv } from '../../lambdas/ingest/src/incoming-keys.js'
import {
  type OutputKeys,
  outputKeysFor,
  overlongOutputKey,
  reportHtmlKey,
} from '../../lambdas/ingest/src/output-keys.js'
import { MAX_S3_KEY_BYTES } from '../../lambdas/ingest/src/s3-uri.js'

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
  ...['.csv', '.CSV', '.cSv', '.gz', '.csv.gz', '.CSV.gz', '%2Egz', 'é', '😀', ' '],
)
const name = fc.oneof(
  fc.array(tricky, { minLength: 0, maxLength: 6 }).map((pieces) => pieces.join('')),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
)
const csvSuffix = fc.constantFrom(
  ...['.csv', '.CSV', '.Csv', '.csV', '.cSv'],
  ...['.csv.gz', '.CSV.GZ', '.csv.GZ', '.Csv.gZ', '.CSV.gz'],
)
/** Keys the pipeline accepts: under the prefix, ending in a case variant of `.csv` or `.csv.gz`. */
const incomingKey = fc.tuple(name, csvSuffix).map(([base, suffix]) => `${PREFIX}${base}${suffix}`)

/** The output keys with the report's page beside them. */
function withPage(keys: OutputKeys): OutputKeys & { reportHtml: string } {
  return { ...keys, reportHtml: reportHtmlKey(keys.report) }
}

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
    ['incoming/x.csv.gz', 'x.csv%2Egz'],
    ['incoming/x.CSV.GZ', 'x.CSV%2EGZ'],
    ['incoming/x.csv.gz.csv', 'x.csv.gz'],
    ['incoming/.csv.gz', '%2Ecsv%2Egz'],
    ['incoming/_x.csv.gz', '%5Fx.csv%2Egz'],
  ])('names the outputs of %s "%s"', (key, expected) => {
    expect(outputName(key)).toBe(expected)
  })

  it('gives two distinct accepted keys distinct outputs, case and .gz included', () => {
    fc.assert(
      fc.property(incomingKey, incomingKey, (a, b) => {
        fc.pre(a !== b)
        const [ka, kb] = [withPage(outputKeysFor(a, PREFIX, DAY)), withPage(outputKeysFor(b, PREFIX, DAY))]
        for (const output of ['parquet', 'rejected', 'report', 'reportHtml', 'manifest'] as const) {
          expect(ka[output], `${output} of ${JSON.stringify(a)} and ${JSON.stringify(b)}`).not.toBe(
            kb[output],
          )
        }
      }),
      { numRuns: 5000 },
    )
  })

  it('keeps a file and its gzipped upload apart: x.csv, x.csv.gz, x.CSV.gz and x.csv.gz.csv', () => {
    const keys = ['x.csv', 'x.csv.gz', 'x.CSV.gz', 'x.csv.GZ', 'x.csv.gz.csv', 'x.gz.csv'].map((name) =>
      withPage(outputKeysFor(`${PREFIX}${name}`, PREFIX, DAY)),
    )
    for (const output of ['parquet', 'rejected', 'report', 'reportHtml', 'manifest'] as const) {
      expect(new Set(keys.map((k) => k[output])).size, output).toBe(keys.length)
    }
  })

  it("puts the report's HTML page beside the JSON, as long as it, apart from every other output", () => {
    const keys = outputKeysFor('incoming/2024/shop listings.csv', PREFIX, DAY)
    expect(reportHtmlKey(keys.report)).toBe('reports/dt=2026-11-28/2024%2Fshop listings.html')
    fc.assert(
      fc.property(fc.uniqueArray(incomingKey, { maxLength: 20 }), (sources) => {
        const all = sources.flatMap((key) => Object.values(withPage(outputKeysFor(key, PREFIX, DAY))))
        expect(new Set(all).size).toBe(all.length)
        for (const key of sources) {
          const { report } = outputKeysFor(key, PREFIX, DAY)
          expect(Buffer.byteLength(reportHtmlKey(report))).toBe(Buffer.byteLength(report))
        }
      }),
      { numRuns: 300 },
    )
    expect(() => reportHtmlKey(keys.parquet)).toThrow(RangeError)
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
    expect(() => outputKeysFor('incoming/a.txt', PREFIX, DAY)).toThrow(
      /not an incoming \.csv or \.csv\.gz key/,
    )
    expect(() => outputKeysFor('incoming/a.gz', PREFIX, DAY)).toThrow(RangeError)
  })

  it('says which output key would exceed S3’s 1,024-byte limit', () => {
    const long = `incoming/${'é'.repeat(500)}.csv`
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(MAX_S3_KEY_BYTES)
    expect(overlongOutputKey(outputKeysFor(long, PREFIX, DAY))).toMatch(/^listings\/dt=.*\.parquet$/)
    expect(overlongOutputKey(outputKeysFor('incoming/short.csv', PREFIX, DAY))).toBeUndefined()
  })
})

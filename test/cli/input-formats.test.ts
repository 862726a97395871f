import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, describe, expect, it } from 'vitest'
import {
  cli,
  expectOneLineError,
  leftovers,
  publishedWorkspace,
  removeWorkspaces,
  workspace,
  write,
} from './run-cli.js'

afterAll(removeWorkspaces)

const FIXTURES = join(import.meta.dirname, '../unit/fixtures/input-formats')

/** The published outputs' bytes, and the report without its run-specific fields. */
function outputsOf(out: string) {
  const report = JSON.parse(readFileSync(join(out, 'dq_report.json'), 'utf8'))
  const { timings_ms, started_at, finished_at, output, input, ...counts } = report
  return {
    parquet: readFileSync(join(out, 'processed/data.parquet')),
    rejected: readFileSync(join(out, 'rejected/rejected_rows.csv')),
    counts,
    listingsSha: input.listings.sha256,
  }
}

describe('gzip input (issue 13 item 2)', () => {
  it('the gzipped sample gives byte-identical outputs to the plain sample, whatever its name', () => {
    const dir = publishedWorkspace()
    const plain = outputsOf(join(dir, 'out'))
    const gzipped = gzipSync(readFileSync(join(dir, 'data/listings.csv')))
    write(dir, 'listings.csv.gz', gzipped)
    write(dir, 'misnamed.csv', gzipped)
    for (const [name, out] of [
      ['listings.csv.gz', 'gz-out'],
      ['misnamed.csv', 'misnamed-out'],
    ]) {
      const run = cli(['--quiet', '--listings', name as string, '--out', out as string], dir)
      expect(run.status, run.stderr).toBe(0)
      expect(outputsOf(join(dir, out as string))).toEqual(plain)
    }
  })

  it('reads a gzipped lookup too', () => {
    const dir = workspace()
    write(dir, 'lookup.csv.gz', gzipSync(readFileSync(join(dir, 'data/category_lookup.csv'))))
    const run = cli(['--quiet', '--lookup', 'lookup.csv.gz', '--json'], dir)
    expect(run.status, run.stderr).toBe(0)
    expect(JSON.parse(run.stdout).input.lookup.categories).toBeGreaterThan(0)
  })
})

describe('inputs it does not read: exit 2, one line naming the format and the way out, nothing written', () => {
  const sample = (dir: string) => readFileSync(join(dir, 'data/listings.csv'))
  const cases: [string, (dir: string) => Buffer, RegExp][] = [
    [
      'UTF-16 (as Excel saves "Unicode text")',
      (dir) =>
        Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(sample(dir).toString('utf8'), 'utf16le')]),
      /^listings-ingest: error: in\.csv: is UTF-16 LE text \(it starts with a byte-order mark\); the contract needs UTF-8: convert it first \(iconv -f UTF-16LE -t UTF-8\)$/,
    ],
    [
      'semicolon-separated',
      (dir) => Buffer.from(sample(dir).toString('utf8').replaceAll(',', ';')),
      /^listings-ingest: error: in\.csv: looks semicolon-separated \(header: "date;seller_id;region;category;item_id;price_gbp;title"\); the contract needs commas: export it again as comma-separated CSV$/,
    ],
    [
      'tab-separated, gzipped',
      (dir) => gzipSync(Buffer.from(sample(dir).toString('utf8').replaceAll(',', '\t'))),
      /^listings-ingest: error: in\.csv: looks tab-separated \(header: "date\\tseller_id\\tregion/,
    ],
    [
      'zip',
      () => readFileSync(join(FIXTURES, 'listings.zip')),
      /^listings-ingest: error: in\.csv: is a zip archive, not CSV; extract the CSV from it first \(unzip\), or recompress it with gzip \(gzip is read directly\)$/,
    ],
    [
      'bzip2',
      () => readFileSync(join(FIXTURES, 'listings.csv.bz2')),
      /^listings-ingest: error: in\.csv: is bzip2-compressed, which is not read; decompress it first \(bunzip2 -k\), or recompress it with gzip/,
    ],
    [
      'xz',
      () => readFileSync(join(FIXTURES, 'listings.csv.xz')),
      /^listings-ingest: error: in\.csv: is xz-compressed, which is not read; decompress it first \(xz -dk\)/,
    ],
    [
      'zstd',
      () => readFileSync(join(FIXTURES, 'listings.csv.zst')),
      /^listings-ingest: error: in\.csv: is zstd-compressed, which is not read; decompress it first \(zstd -d\)/,
    ],
    [
      'truncated gzip',
      (dir) => gzipSync(sample(dir)).subarray(0, 2000),
      /^listings-ingest: error: in\.csv: is not valid gzip: unexpected end of file \(the file is corrupt or was cut short\)$/,
    ],
  ]

  for (const [name, bytes, message] of cases) {
    it(name, () => {
      const dir = workspace()
      write(dir, 'in.csv', bytes(dir))
      const run = cli(['--listings', 'in.csv'], dir)
      expect(run.status).toBe(2)
      expectOneLineError(run, message)
      if (name === 'truncated gzip') {
        // Found only at the end of the first pass: nothing published, nothing left behind.
        expect(existsSync(join(dir, 'out/dq_report.json'))).toBe(false)
        expect(leftovers(join(dir, 'out'))).toEqual([])
      } else {
        // Diagnosed from the first bytes, before any output folder is made.
        expect(existsSync(join(dir, 'out'))).toBe(false)
      }
    })
  }

  it('a lookup in another format is diagnosed the same way', () => {
    const dir = workspace()
    write(dir, 'lookup.csv', 'category;segment\nToys;Kids\n')
    const run = cli(['--lookup', 'lookup.csv'], dir)
    expect(run.status).toBe(2)
    expectOneLineError(run, /^listings-ingest: error: lookup\.csv: looks semicolon-separated/)
  })
})

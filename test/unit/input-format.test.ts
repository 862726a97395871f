import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import JSZip from 'jszip'
import { describe, expect, it } from 'vitest'
import { type ByteSource, MemorySink } from '../../shared/src/byte-streams.js'
import { InputError } from '../../shared/src/errors.js'
import { ingest } from '../../shared/src/ingest.js'
import { decodedSource } from '../../shared/src/input-format.js'
import { textSource } from '../helpers/sources.js'

const ROOT = join(import.meta.dirname, '../..')
const FIXTURES = join(import.meta.dirname, 'fixtures/input-formats')
const SAMPLE = readFileSync(join(ROOT, 'data/listings.csv'))
const LOOKUP = readFileSync(join(ROOT, 'data/category_lookup.csv'))
const HEADER = 'date,seller_id,region,category,item_id,price_gbp'

/** Everything one read of the source yields, as one buffer. */
async function readAll(source: ByteSource): Promise<Buffer> {
  const chunks: Uint8Array[] = []
  for await (const chunk of source.open()) chunks.push(chunk)
  return Buffer.concat(chunks)
}

/** The one-line problem a read of these bytes fails with (the message after the name). */
async function problemOf(bytes: Uint8Array, name = 'in.csv', chunkSize = 7): Promise<string> {
  const error = await readAll(decodedSource(textSource(name, bytes, chunkSize))).then(
    () => undefined,
    (thrown: unknown) => thrown,
  )
  expect(error, 'the read fails').toBeInstanceOf(InputError)
  const { message, file } = error as InputError
  expect(file).toBe(name)
  expect(message).not.toContain('\n')
  return message.slice(name.length + 2)
}

/** Listings rows with varying values (compressing about 4:1 like real exports, not 400:1 like one repeated row). */
function varied(rows: number): string {
  let seed = 42
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return seed
  }
  const lines = [HEADER]
  for (let i = 0; i < rows; i++)
    lines.push(
      `2024-0${1 + (next() % 9)}-1${next() % 10},S${next() % 5000},Region ${next() % 12},Cat ${next() % 40},${next()},${(next() % 100000) / 100}`,
    )
  return `${lines.join('\n')}\n`
}

function utf16be(text: string): Buffer {
  return Buffer.from(text, 'utf16le').swap16()
}

function utf32(text: string, littleEndian: boolean): Buffer {
  const codes = [...text].map((char) => char.codePointAt(0) as number)
  const bytes = Buffer.alloc(codes.length * 4)
  codes.forEach((code, i) => {
    if (littleEndian) bytes.writeUInt32LE(code, i * 4)
    else bytes.writeUInt32BE(code, i * 4)
  })
  return bytes
}

describe('decodedSource: plain CSV and gzip', () => {
  it('passes plain CSV through byte for byte, with its size', async () => {
    const source = decodedSource(textSource('listings.csv', SAMPLE))
    expect(source.size).toBe(SAMPLE.byteLength)
    expect(await readAll(source)).toEqual(SAMPLE)
  })

  it('decompresses gzip recognised by its bytes, even under a .csv name', async () => {
    const source = decodedSource(textSource('listings.csv', gzipSync(SAMPLE), 5))
    expect(await readAll(source)).toEqual(SAMPLE)
  })

  it('reads concatenated gzip members as one text (as gunzip does)', async () => {
    const half = SAMPLE.indexOf('\n', SAMPLE.byteLength / 2) + 1
    const members = Buffer.concat([gzipSync(SAMPLE.subarray(0, half)), gzipSync(SAMPLE.subarray(half))])
    expect(await readAll(decodedSource(textSource('two.csv.gz', members, 100)))).toEqual(SAMPLE)
  })

  it("gives a gzip source's decompressed size: estimated while reading, exact after one read", async () => {
    const big = Buffer.from(varied(100_000))
    const compressed = gzipSync(big)
    const source = decodedSource(textSource('big.csv.gz', compressed, 64 * 1024))
    expect(source.size, 'before the first read: the stored size').toBe(compressed.byteLength)
    const estimates: number[] = []
    let read = 0
    for await (const chunk of source.open()) {
      read += chunk.byteLength
      // Past the first 5% (where the gzip header and the first Huffman tables weigh in) the
      // estimate is within 10% of the truth for text of uniform make-up.
      if (read > big.byteLength * 0.05) estimates.push(source.size as number)
    }
    expect(estimates.length).toBeGreaterThan(10)
    for (const estimate of estimates) expect(Math.abs(estimate / big.byteLength - 1)).toBeLessThan(0.1)
    expect(source.size).toBe(big.byteLength)
  })

  it('decompresses as a stream, in small chunks, not the whole file at once', async () => {
    const big = Buffer.from(`${HEADER}\n${'2024-01-01,S1,London,Toys,A1,5\n'.repeat(400_000)}`)
    const source = decodedSource(textSource('big.csv.gz', gzipSync(big), 1 << 20))
    let largest = 0
    let total = 0
    for await (const chunk of source.open()) {
      largest = Math.max(largest, chunk.byteLength)
      total += chunk.byteLength
    }
    expect(total).toBe(big.byteLength)
    expect(largest).toBeLessThanOrEqual(64 * 1024)
  })

  it('gives the same Parquet, rejects and counts for the gzipped sample as for the plain one', async () => {
    async function run(listings: ByteSource) {
      const parquet = new MemorySink()
      const rejected = new MemorySink()
      const report = await ingest({
        listings,
        lookup: decodedSource(textSource('lookup.csv', gzipSync(LOOKUP))),
        parquet,
        rejected,
      })
      return { report, parquet: parquet.bytes(), rejected: rejected.bytes() }
    }
    const plain = await run(decodedSource(textSource('listings.csv', SAMPLE, 4096)))
    const gzipped = await run(decodedSource(textSource('listings.csv', gzipSync(SAMPLE), 4096)))
    expect(gzipped.parquet).toEqual(plain.parquet)
    expect(gzipped.rejected).toEqual(plain.rejected)
    const { timings_ms: _a, started_at: _b, finished_at: _c, ...counts } = gzipped.report
    expect(plain.report).toMatchObject(counts)
  })

  it('refuses corrupt or cut-short gzip with one line, not a zlib stack', async () => {
    const compressed = gzipSync(SAMPLE)
    expect(await problemOf(compressed.subarray(0, compressed.byteLength - 100))).toMatch(
      /^is not valid gzip: unexpected end of file \(the file is corrupt or was cut short\)$/,
    )
    const corrupt = Buffer.from(compressed)
    corrupt.fill(0xff, 20, 60)
    expect(await problemOf(corrupt)).toMatch(
      /^is not valid gzip: .+ \(the file is corrupt or was cut short\)$/,
    )
  })

  it('passes the source\u2019s own read errors through unchanged', async () => {
    const failure = new Error('connection reset')
    const failing: ByteSource = {
      name: 'remote.csv.gz',
      async *open() {
        yield gzipSync(SAMPLE).subarray(0, 100)
        throw failure
      },
    }
    await expect(readAll(decodedSource(failing))).rejects.toBe(failure)
  })

  it('closes the source when the reader stops early', async () => {
    let closed = 0
    const counting: ByteSource = {
      name: 'listings.csv.gz',
      async *open() {
        try {
          const compressed = gzipSync(Buffer.from(`${HEADER}\n${'2024-01-01,S,R,C,I,5\n'.repeat(100_000)}`))
          for (let at = 0; at < compressed.byteLength; at += 1000) yield compressed.subarray(at, at + 1000)
        } finally {
          closed++
        }
      },
    }
    for await (const _ of decodedSource(counting).open()) break
    await new Promise((settle) => setImmediate(settle))
    expect(closed).toBe(1)
  })
})

describe('decodedSource: formats it does not read fail on the first read with one line', () => {
  const csv = `${HEADER}\n2024-01-01,S1,London,Toys,A1,5\n`

  it.each([
    ['listings.zip', /^is a zip archive, not CSV; extract the CSV from it first \(unzip\)/],
    ['listings.csv.bz2', /^is bzip2-compressed, which is not read; decompress it first \(bunzip2 -k\)/],
    ['listings.csv.xz', /^is xz-compressed, which is not read; decompress it first \(xz -dk\)/],
    ['listings.csv.zst', /^is zstd-compressed, which is not read; decompress it first \(zstd -d\)/],
  ])('%s (a real file made by the tool), by its bytes, whatever its name', async (fixture, problem) => {
    const bytes = readFileSync(join(FIXTURES, fixture))
    expect(await problemOf(bytes, 'export.csv')).toMatch(problem)
    expect(await problemOf(bytes, 'export.csv')).toMatch(
      /or recompress it with gzip \(gzip is read directly\)$/,
    )
  })

  it('an Excel workbook (a zip whose first entry is [Content_Types].xml)', async () => {
    const zip = new JSZip()
    zip.file('[Content_Types].xml', '<Types/>')
    zip.file('xl/workbook.xml', '<workbook/>')
    const xlsx = await zip.generateAsync({ type: 'uint8array' })
    expect(await problemOf(xlsx)).toBe(
      'is an Excel workbook (.xlsx) or other Office document, not CSV; save it as "CSV UTF-8" first',
    )
  })

  it.each([
    ['7z', [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0x00, 0x04], /^is a 7z archive, which is not read/],
    ['lz4', [0x04, 0x22, 0x4d, 0x18, 0x64, 0x40], /^is lz4-compressed/],
    ['.Z', [0x1f, 0x9d, 0x90], /^is compress\(1\)-compressed \(\.Z\)/],
    ['.xls', [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1], /^is an Excel 97-2003 \(\.xls\)/],
    ['Parquet', [...Buffer.from('PAR1'), 0x15, 0x04], /^is a Parquet file, not CSV$/],
  ])('%s, by its signature', async (_format, signature, problem) => {
    expect(await problemOf(Buffer.concat([Buffer.from(signature), Buffer.alloc(200, 1)]))).toMatch(problem)
  })

  it('a CSV whose header happens to start with "BZh" is still CSV', async () => {
    const text = `BZh9,${HEADER}\n`
    expect((await readAll(decodedSource(textSource('in.csv', text)))).toString()).toBe(text)
  })

  it.each([
    [
      'UTF-16 LE with a byte-order mark',
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(csv, 'utf16le')]),
      'UTF-16 LE text (it starts with a byte-order mark)',
      'UTF-16LE',
    ],
    [
      'UTF-16 BE with a byte-order mark',
      Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(csv)]),
      'UTF-16 BE text (it starts with a byte-order mark)',
      'UTF-16BE',
    ],
    [
      'UTF-16 LE without a mark',
      Buffer.from(csv, 'utf16le'),
      'UTF-16 LE text (judged by its NUL bytes)',
      'UTF-16LE',
    ],
    ['UTF-16 BE without a mark', utf16be(csv), 'UTF-16 BE text (judged by its NUL bytes)', 'UTF-16BE'],
    [
      'UTF-32 LE with a byte-order mark',
      utf32(`\ufeff${csv}`, true),
      'UTF-32 LE text (it starts with a byte-order mark)',
      'UTF-32LE',
    ],
    [
      'UTF-32 BE with a byte-order mark',
      utf32(`\ufeff${csv}`, false),
      'UTF-32 BE text (it starts with a byte-order mark)',
      'UTF-32BE',
    ],
    ['UTF-32 LE without a mark', utf32(csv, true), 'UTF-32 LE text (judged by its NUL bytes)', 'UTF-32LE'],
    ['UTF-32 BE without a mark', utf32(csv, false), 'UTF-32 BE text (judged by its NUL bytes)', 'UTF-32BE'],
  ])('%s', async (_case, bytes, what, iconvName) => {
    expect(await problemOf(bytes)).toBe(
      `is ${what}; the contract needs UTF-8: convert it first (iconv -f ${iconvName} -t UTF-8)`,
    )
  })

  it('the UTF-16 sample, as Excel saves "Unicode text", and the same gzipped', async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(SAMPLE.toString('utf8'), 'utf16le')])
    expect(await problemOf(utf16, 'listings.csv', 1 << 16)).toMatch(/^is UTF-16 LE text/)
    expect(await problemOf(gzipSync(utf16), 'listings.csv.gz')).toMatch(/^is gzip-compressed UTF-16 LE text/)
  })

  it('a UTF-8 byte-order mark is fine (the contract allows it)', async () => {
    const text = `\ufeff${csv}`
    expect((await readAll(decodedSource(textSource('in.csv', text)))).toString()).toBe(text)
  })

  it('gzip inside gzip, and a zip inside gzip', async () => {
    expect(await problemOf(gzipSync(gzipSync(SAMPLE)))).toBe(
      'is gzip inside gzip (compressed twice); decompress it once (gunzip)',
    )
    expect(await problemOf(gzipSync(readFileSync(join(FIXTURES, 'listings.zip'))))).toMatch(
      /^is gzip-compressed, and what it holds is a zip archive/,
    )
  })
})

describe('decodedSource: a header with another delimiter names the one it looks like', () => {
  it.each([
    ['semicolon', ';', '"date;seller_id;region;category;item_id;price_gbp"'],
    ['tab', '\t', '"date\\tseller_id\\tregion\\tcategory\\titem_id\\tprice_gbp"'],
    ['pipe (|)', '|', '"date|seller_id|region|category|item_id|price_gbp"'],
  ])('%s-separated', async (name, delimiter, shown) => {
    const header = HEADER.replaceAll(',', delimiter)
    const text = `${header}\n${['2024-01-01', 'S1', 'London', 'Toys', 'A1', '5,50'].join(delimiter)}\n`
    expect(await problemOf(Buffer.from(text))).toBe(
      `looks ${name}-separated (header: ${shown}); the contract needs commas: export it again as comma-separated CSV`,
    )
  })

  it('shows at most 60 bytes of a long header', async () => {
    const header = `${HEADER},${'x'.repeat(100)}`.replaceAll(',', ';')
    expect(await problemOf(Buffer.from(`${header}\n`))).toBe(
      `looks semicolon-separated (header: ${JSON.stringify(`${header.slice(0, 60)}...`)}); the contract needs commas: export it again as comma-separated CSV`,
    )
  })

  it('the semicolon-separated sample, quoted, after a byte-order mark and blank lines, gzipped', async () => {
    const semicolons = SAMPLE.toString('utf8')
      .split('\n')
      .map((line) => line.replaceAll(',', ';'))
      .join('\n')
    const quoted = `\ufeff\n  \n"date";"seller_id";"region";"category";"item_id";"price_gbp"\n${semicolons.split('\n').slice(1).join('\n')}`
    expect(await problemOf(gzipSync(Buffer.from(quoted)))).toMatch(
      /^looks semicolon-separated \(header: "\\"date\\";/,
    )
  })

  it('commas decide: a comma header with semicolons inside quotes or values is CSV', async () => {
    for (const text of [
      `"a;b",${HEADER}\n1\n`,
      `${HEADER};extra\n`,
      `${HEADER}\n2024-01-01;x\n`,
      // A header without any delimiter is left to the header check (it names the missing columns).
      'date\n',
      'date',
    ]) {
      expect((await readAll(decodedSource(textSource('in.csv', text)))).toString(), text).toBe(text)
    }
  })

  it('a semicolon header without a line break (the whole file is the header)', async () => {
    expect(await problemOf(Buffer.from(HEADER.replaceAll(',', ';')))).toMatch(/^looks semicolon-separated/)
  })

  it('a quoted line break inside the header is part of the header', async () => {
    const text = `"da\nte";"seller_id"\n`
    expect(await problemOf(Buffer.from(text))).toMatch(/^looks semicolon-separated/)
  })

  it('an empty file passes through empty (the reader says it is empty)', async () => {
    expect(await readAll(decodedSource(textSource('in.csv', '')))).toEqual(Buffer.alloc(0))
  })
})

/**
 * What an input's first bytes say it is: the table of formats the pipeline
 * refuses by their signature (zip, bzip2, xz, zstd, 7z, lz4, .Z, .xls,
 * Parquet), UTF-16/UTF-32 text by byte-order mark or NUL pattern, and a
 * header that uses another delimiter than the comma. Each check throws an
 * {@link InputError} with one line naming the format and how to convert it.
 * decodedSource (input-format.ts) applies them to a source's first read.
 */
import { InputError } from './errors.js'

/** Leading bytes examined for a format's signature. */
export const SIGNATURE_BYTES = 64
/** Leading bytes of text examined for UTF-16/UTF-32 NUL patterns. */
export const ENCODING_SAMPLE_BYTES = 256
/** A format recognised by its signature: the bytes it starts with, and what the user should do. */
interface Signature {
  readonly bytes: readonly number[]
  /** Further bytes that must follow at `offset` (narrows short signatures such as bzip2's "BZh"). */
  readonly followedBy?: { offset: number; choices: readonly (readonly number[])[] }
  readonly problem: string
}

const RECOMPRESS = 'or recompress it with gzip (gzip is read directly)'

/** Formats refused by their leading bytes (https://en.wikipedia.org/wiki/List_of_file_signatures). */
const REFUSED: readonly Signature[] = [
  {
    bytes: [0x50, 0x4b, 0x03, 0x04],
    problem: `is a zip archive, not CSV; extract the CSV from it first (unzip), ${RECOMPRESS}`,
  },
  { bytes: [0x50, 0x4b, 0x05, 0x06], problem: 'is an empty zip archive, not CSV' },
  {
    bytes: [0x42, 0x5a, 0x68], // "BZh", a block size digit, then a block or end-of-stream magic
    followedBy: {
      offset: 4,
      choices: [
        [0x31, 0x41, 0x59, 0x26, 0x53, 0x59],
        [0x17, 0x72, 0x45, 0x38, 0x50, 0x90],
      ],
    },
    problem: `is bzip2-compressed, which is not read; decompress it first (bunzip2 -k), ${RECOMPRESS}`,
  },
  {
    bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00],
    problem: `is xz-compressed, which is not read; decompress it first (xz -dk), ${RECOMPRESS}`,
  },
  {
    bytes: [0x28, 0xb5, 0x2f, 0xfd],
    problem: `is zstd-compressed, which is not read; decompress it first (zstd -d), ${RECOMPRESS}`,
  },
  {
    bytes: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c],
    problem: `is a 7z archive, which is not read; extract the CSV from it first (7z x), ${RECOMPRESS}`,
  },
  {
    bytes: [0x04, 0x22, 0x4d, 0x18],
    problem: `is lz4-compressed, which is not read; decompress it first (lz4 -d), ${RECOMPRESS}`,
  },
  {
    bytes: [0x1f, 0x9d],
    problem: `is compress(1)-compressed (.Z), which is not read; decompress it first (uncompress), ${RECOMPRESS}`,
  },
  {
    bytes: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1],
    problem: 'is an Excel 97-2003 (.xls) or other OLE2 document, not CSV; save it as "CSV UTF-8" first',
  },
  {
    bytes: [0x50, 0x41, 0x52, 0x31], // "PAR1"
    problem: 'is a Parquet file, not CSV',
  },
]

export const GZIP = [0x1f, 0x8b]
/** The name a zip's first entry has when the archive is an Office Open XML document. */
const OOXML_ENTRY = Buffer.from('[Content_Types].xml')

/** Byte-order marks of encodings the contract does not read (UTF-32 first: its LE mark starts with UTF-16's). */
const BOMS: readonly { bytes: readonly number[]; encoding: string }[] = [
  { bytes: [0xff, 0xfe, 0x00, 0x00], encoding: 'UTF-32 LE' },
  { bytes: [0x00, 0x00, 0xfe, 0xff], encoding: 'UTF-32 BE' },
  { bytes: [0xff, 0xfe], encoding: 'UTF-16 LE' },
  { bytes: [0xfe, 0xff], encoding: 'UTF-16 BE' },
]
const UTF8_BOM = [0xef, 0xbb, 0xbf]

/** Delimiters a header may use instead of commas, with the name the message gives each. */
const OTHER_DELIMITERS: readonly { byte: number; name: string }[] = [
  { byte: 0x3b, name: 'semicolon' },
  { byte: 0x09, name: 'tab' },
  { byte: 0x7c, name: 'pipe (|)' },
]
const COMMA = 0x2c
const QUOTE = 0x22
export const LF = 0x0a
export const CR = 0x0d

export function startsWith(bytes: Uint8Array, prefix: readonly number[], offset = 0): boolean {
  if (bytes.byteLength < offset + prefix.length) return false
  return prefix.every((byte, i) => bytes[offset + i] === byte)
}

export function refuseSignature(name: string, head: Uint8Array, inside = false): void {
  const found = REFUSED.find(
    (format) =>
      startsWith(head, format.bytes) &&
      (format.followedBy === undefined ||
        format.followedBy.choices.some((choice) => startsWith(head, choice, format.followedBy?.offset))),
  )
  if (found === undefined) return
  // A zip whose first entry is [Content_Types].xml is an Office document, most likely a workbook.
  const office = found.bytes[2] === 0x03 && Buffer.from(head).indexOf(OOXML_ENTRY) === 30
  const problem = office
    ? 'is an Excel workbook (.xlsx) or other Office document, not CSV; save it as "CSV UTF-8" first'
    : found.problem
  throw new InputError(name, inside ? `is gzip-compressed, and what it holds ${problem}` : problem)
}

/** Refuses UTF-16 and UTF-32 text, by byte-order mark or by NUL-byte pattern. */
export function refuseEncoding(name: string, sample: Uint8Array, inside: string): void {
  const marked = BOMS.find((bom) => startsWith(sample, bom.bytes))
  const encoding = marked?.encoding ?? encodingByNuls(sample.subarray(0, ENCODING_SAMPLE_BYTES))
  if (encoding === undefined) return
  const how = marked === undefined ? 'judged by its NUL bytes' : 'it starts with a byte-order mark'
  const from = encoding.replace(' ', '')
  throw new InputError(
    name,
    `is ${inside}${encoding} text (${how}); the contract needs UTF-8: convert it first (iconv -f ${from} -t UTF-8)`,
  )
}

/**
 * Recognises UTF-16 and UTF-32 without a byte-order mark: ASCII text in them
 * has a NUL byte beside every character, in a fixed position of each 2- or
 * 4-byte unit. UTF-8 text has no NUL bytes at all.
 */
function encodingByNuls(sample: Uint8Array): string | undefined {
  const units = Math.floor(sample.byteLength / 4)
  if (units < 2) return undefined
  const nuls = new Uint32Array(4)
  for (let i = 0; i < units * 4; i++) if (sample[i] === 0) nuls[i % 4] = (nuls[i % 4] as number) + 1
  const share = [...nuls].map((count) => count / units)
  const mostly = (i: number) => (share[i] as number) >= 0.9
  const rarely = (i: number) => (share[i] as number) <= 0.1
  if (mostly(1) && mostly(2) && mostly(3) && rarely(0)) return 'UTF-32 LE'
  if (mostly(0) && mostly(1) && mostly(2) && rarely(3)) return 'UTF-32 BE'
  if (mostly(1) && mostly(3) && rarely(0) && rarely(2)) return 'UTF-16 LE'
  if (mostly(0) && mostly(2) && rarely(1) && rarely(3)) return 'UTF-16 BE'
  return undefined
}

/**
 * The header record's bytes: the first line that is not blank, up to its
 * first line break outside quotes (after a UTF-8 byte-order mark). Undefined
 * while the record may continue beyond `text`, unless `atEnd`.
 */
export function headerRecord(text: Uint8Array, atEnd = false): Uint8Array | undefined {
  let start = startsWith(text, UTF8_BOM) ? UTF8_BOM.length : 0
  let quoted = false
  let blank = true
  for (let i = start; i < text.byteLength; i++) {
    const byte = text[i] as number
    if (byte === QUOTE) quoted = !quoted
    if (quoted || (byte !== LF && byte !== CR)) {
      if (byte !== 0x20 && byte !== 0x09) blank = false
      continue
    }
    if (!blank) return text.subarray(start, i)
    start = i + 1 // a blank line before the header: skipped, as the CSV reader does
  }
  return atEnd && !blank ? text.subarray(start) : undefined
}

/**
 * Refuses a header that has no comma outside quotes but another delimiter:
 * read as CSV it would be a single column, and the run would fail with a
 * puzzling "missing required columns".
 */
export function refuseDelimiter(name: string, header: Uint8Array): void {
  const counts = new Map<number, number>()
  let quoted = false
  for (const byte of header) {
    if (byte === QUOTE) quoted = !quoted
    else if (!quoted) counts.set(byte, (counts.get(byte) ?? 0) + 1)
  }
  if ((counts.get(COMMA) ?? 0) > 0) return
  const likely = OTHER_DELIMITERS.map((delimiter) => ({
    ...delimiter,
    count: counts.get(delimiter.byte) ?? 0,
  }))
    .filter((delimiter) => delimiter.count > 0)
    .sort((a, b) => b.count - a.count)[0]
  if (likely === undefined) return
  const shown = Buffer.from(header.subarray(0, 60)).toString('utf8')
  const more = header.byteLength > 60 ? '...' : ''
  throw new InputError(
    name,
    `looks ${likely.name}-separated (header: ${JSON.stringify(shown + more)}); the contract needs commas: export it again as comma-separated CSV`,
  )
}

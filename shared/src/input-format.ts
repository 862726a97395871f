/**
 * What an input's first bytes say it is, before the CSV reader sees it.
 *
 * Exports arrive gzipped, saved by spreadsheets as UTF-16, zipped or
 * semicolon-separated. Read as UTF-8 comma-separated text each of these fails
 * late and obscurely ("malformed CSV on line 8", "missing required columns").
 * Here gzip is decompressed on the fly, and every other format the pipeline
 * does not read fails on the first read with one line that names the format
 * and says how to convert it. The checks themselves are in
 * input-diagnosis.ts; this module decodes gzip and applies them to the first
 * bytes of each read.
 */
import { pipeline, Readable } from 'node:stream'
import { createGunzip } from 'node:zlib'
import type { ByteSource } from './byte-streams.js'
import { InputError } from './errors.js'
import {
  CR,
  ENCODING_SAMPLE_BYTES,
  GZIP,
  headerRecord,
  LF,
  refuseDelimiter,
  refuseEncoding,
  refuseSignature,
  SIGNATURE_BYTES,
  startsWith,
} from './input-diagnosis.js'

/**
 * At most this much text is held back while looking for the end of the
 * header record; a header longer than this is not examined (the CSV reader
 * then judges it as usual).
 */
const HEADER_SNIFF_BYTES = 64 * 1024

/**
 * The source as CSV text: gzip (recognised by its magic bytes, whatever the
 * name) is decompressed as a stream, in bounded memory, concatenated gzip
 * members included; other bytes pass through unchanged.
 *
 * Each read fails at its start with an {@link InputError} naming the source
 * when the bytes are a format the pipeline does not read: zip, bzip2, xz,
 * zstd, 7z, lz4, .Z, .xls or Parquet (by signature); UTF-16 or UTF-32 text (by
 * byte-order mark, or by the NUL bytes every ASCII character carries in those
 * encodings); or a header record with no comma but a semicolon, tab or pipe
 * (another delimiter). The same checks apply to the text inside a gzip file.
 *
 * `size` is the source's size for a plain file. For gzip it is the
 * decompressed size: exact once one read has reached the end, and before that
 * an estimate (the compressed size times the expansion seen so far), which is
 * undefined until the first read has started. It serves progress displays
 * and the dedup index's initial sizing, which both tolerate an estimate.
 *
 * @param source - the raw bytes, as stored
 */
export function decodedSource(source: ByteSource): ByteSource {
  const state: DecodeState = { gzip: undefined, consumed: 0, produced: 0, decodedSize: undefined }
  const decoded: ByteSource = {
    name: source.name,
    open: () => readDecoded(source, state),
  }
  Object.defineProperty(decoded, 'size', {
    enumerable: true,
    get: () => sizeOf(source, state),
  })
  return decoded
}

/** What the reads so far have learnt about a source. */
interface DecodeState {
  /** Whether the source is gzip; undefined before the first read. */
  gzip: boolean | undefined
  /** Compressed bytes the current read has decompressed. */
  consumed: number
  /** Decompressed bytes the current read has produced. */
  produced: number
  /** The decompressed size, once a read has reached the end. */
  decodedSize: number | undefined
}

function sizeOf(source: ByteSource, state: DecodeState): number | undefined {
  if (state.gzip !== true) return source.size
  if (state.decodedSize !== undefined) return state.decodedSize
  if (source.size === undefined || state.consumed === 0) return undefined
  return Math.max(state.produced, Math.round((source.size * state.produced) / state.consumed))
}

async function* readDecoded(source: ByteSource, state: DecodeState): AsyncGenerator<Uint8Array> {
  const raw = await peek(source.open(), SIGNATURE_BYTES)
  refuseSignature(source.name, raw.head)
  const gzip = startsWith(raw.head, GZIP)
  state.gzip = gzip
  if (!gzip) {
    yield* checkedText(source.name, raw.chunks, '')
    return
  }
  state.consumed = 0
  state.produced = 0
  const text = await peek(gunzip(source.name, raw.chunks, state), SIGNATURE_BYTES)
  if (startsWith(text.head, GZIP))
    throw new InputError(source.name, 'is gzip inside gzip (compressed twice); decompress it once (gunzip)')
  refuseSignature(source.name, text.head, true)
  yield* checkedText(source.name, text.chunks, 'gzip-compressed ')
  state.decodedSize = state.produced
}

/**
 * Reads at least `bytes` bytes (fewer at the end) and returns them with the
 * whole stream, those bytes included, still to be read.
 */
async function peek(
  source: AsyncIterable<Uint8Array>,
  bytes: number,
): Promise<{ head: Uint8Array; chunks: AsyncIterable<Uint8Array> }> {
  const iterator = source[Symbol.asyncIterator]()
  const held: Uint8Array[] = []
  let length = 0
  let ended = false
  while (length < bytes) {
    const next = await iterator.next()
    if (next.done) {
      ended = true
      break
    }
    held.push(next.value)
    length += next.value.byteLength
  }
  async function* chunks(): AsyncGenerator<Uint8Array> {
    try {
      yield* held.splice(0)
      if (ended) return
      for (;;) {
        const next = await iterator.next()
        if (next.done) return
        yield next.value
      }
    } finally {
      // Stopped early (an error downstream): let the source close its file or connection.
      if (!ended) await iterator.return?.()
    }
  }
  return { head: Buffer.concat(held), chunks: chunks() }
}

/**
 * Decompresses gzip as a stream. zlib's errors (corrupt or truncated data)
 * become an {@link InputError}; the source's own errors pass through as they are.
 */
async function* gunzip(
  name: string,
  compressed: AsyncIterable<Uint8Array>,
  state: DecodeState,
): AsyncGenerator<Uint8Array> {
  let sourceError: unknown
  async function* tagged(): AsyncGenerator<Uint8Array> {
    try {
      yield* compressed
    } catch (error) {
      sourceError = error
      throw error
    }
  }
  const inflater = createGunzip()
  pipeline(Readable.from(tagged(), { objectMode: false }), inflater, () => {
    // Errors surface through the iteration below.
  })
  try {
    for await (const chunk of inflater as AsyncIterable<Buffer>) {
      state.consumed = inflater.bytesWritten
      state.produced += chunk.byteLength
      yield chunk
    }
  } catch (error) {
    if (error === sourceError || error instanceof InputError) throw error
    const detail = error instanceof Error ? error.message : String(error)
    throw new InputError(name, `is not valid gzip: ${detail} (the file is corrupt or was cut short)`)
  }
}

/**
 * Passes text through after checking its encoding and its header's
 * delimiter. Holds back at least {@link ENCODING_SAMPLE_BYTES} (or the whole
 * text, if shorter), and at most {@link HEADER_SNIFF_BYTES} while the header
 * record is incomplete.
 *
 * @param inside - words placed before the diagnosis, such as "gzip-compressed "
 */
async function* checkedText(
  name: string,
  text: AsyncIterable<Uint8Array>,
  inside: string,
): AsyncGenerator<Uint8Array> {
  const held: Uint8Array[] = []
  let length = 0
  let checked = false
  // Whether a line break arrived since the last look for the header's end.
  let newBreak = false
  for await (const chunk of text) {
    if (checked) {
      yield chunk
      continue
    }
    held.push(chunk)
    length += chunk.byteLength
    newBreak ||= chunk.includes(LF) || chunk.includes(CR)
    if (length < ENCODING_SAMPLE_BYTES || (!newBreak && length < HEADER_SNIFF_BYTES)) continue
    const sample = Buffer.concat(held, length)
    refuseEncoding(name, sample, inside)
    const header = headerRecord(sample)
    newBreak = false
    if (header === undefined && length < HEADER_SNIFF_BYTES) continue
    if (header !== undefined) refuseDelimiter(name, header)
    checked = true
    held.length = 0
    yield sample
  }
  if (!checked && length > 0) {
    const sample = Buffer.concat(held, length)
    refuseEncoding(name, sample, inside)
    refuseDelimiter(name, headerRecord(sample, true) ?? sample)
    yield sample
  }
}

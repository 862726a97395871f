import { createHash } from 'node:crypto'

/**
 * A named input that can be opened more than once. The transform reads the
 * listings twice (classify, then write), so each call to `open` must yield
 * the same bytes; the second read is checked against the first's SHA-256.
 */
export interface ByteSource {
  /** How the user named the input (a path or an `s3://` URL); used in errors. */
  readonly name: string
  /** Size in bytes when known up front; lets progress show a percentage. */
  readonly size?: number
  /** Opens a fresh read from the first byte. */
  open(): AsyncIterable<Uint8Array>
}

/** Where an output's bytes go: a file, an S3 upload, memory in tests. */
export interface ByteSink {
  /** Accepts one chunk; the returned promise resolves when the sink can take more. */
  write(chunk: Uint8Array): void | Promise<void>
}

/** Size and SHA-256 of a byte stream, as the report records them. */
export interface ByteDigest {
  bytes: number
  sha256: string
}

/**
 * Passes a source through unchanged while counting and hashing its bytes.
 *
 * @param source - the bytes to pass through
 * @param onChunk - called with each chunk's length as it passes, for progress
 * @returns the pass-through iterable and a `digest()` valid once it is drained
 */
export function digestingSource(
  source: AsyncIterable<Uint8Array>,
  onChunk?: (bytes: number) => void,
): { chunks: AsyncIterable<Uint8Array>; digest: () => ByteDigest } {
  const hash = createHash('sha256')
  let bytes = 0
  let result: ByteDigest | undefined
  async function* chunks(): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      hash.update(chunk)
      bytes += chunk.byteLength
      onChunk?.(chunk.byteLength)
      yield chunk
    }
    result = { bytes, sha256: hash.digest('hex') }
  }
  return {
    chunks: chunks(),
    digest: () => {
      if (result === undefined) throw new Error('digest() called before the source was drained')
      return result
    },
  }
}

/** A sink that counts and hashes what it forwards, for the report. */
export class DigestingSink implements ByteSink {
  readonly #target: ByteSink
  readonly #hash = createHash('sha256')
  #bytes = 0

  constructor(target: ByteSink) {
    this.#target = target
  }

  write(chunk: Uint8Array): void | Promise<void> {
    this.#hash.update(chunk)
    this.#bytes += chunk.byteLength
    return this.#target.write(chunk)
  }

  /** Size and hash of everything written so far; call once, after the last write. */
  digest(): ByteDigest {
    return { bytes: this.#bytes, sha256: this.#hash.digest('hex') }
  }
}

/** A sink that keeps everything in memory; for tests and small outputs. */
export class MemorySink implements ByteSink {
  readonly chunks: Uint8Array[] = []

  write(chunk: Uint8Array): void {
    this.chunks.push(chunk.slice())
  }

  /** Everything written, as one buffer. */
  bytes(): Buffer {
    return Buffer.concat(this.chunks)
  }
}

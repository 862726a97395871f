/**
 * What turns row groups into Parquet bytes: the {@link RowGroupEncoder}
 * contract both encoders keep, and {@link InThreadEncoder}, which encodes on
 * the calling thread. The worker-thread encoder (parquet-worker.ts) runs an
 * `InThreadEncoder` on its thread; the writer (parquet-writer.ts) picks one.
 * Both depend on this module, and it on neither.
 */
import type { KeyValue } from 'hyparquet-writer'
import { ByteWriter, ParquetWriter } from 'hyparquet-writer'
import { snappyCompressor } from 'hysnappy'
import type { ByteSink } from './byte-streams.js'
import { appendRowGroup } from './column-chunks.js'
import { LISTINGS_PARQUET_SCHEMA } from './parquet.js'
import { footerOf, typeEmptyFooterLists } from './parquet-footer.js'
import type { RowGroupColumns } from './row-group-columns.js'

/** Turns row groups into Parquet bytes, in order; the file's footer on finish. */
export interface RowGroupEncoder {
  /** Takes a row group; resolves when the encoder can take another. */
  write(columns: RowGroupColumns, rows: number): Promise<void>
  /** Writes the footer; resolves when every byte has reached the sink. */
  finish(): Promise<void>
  /** Stops without finishing the file; for runs that failed. */
  abort(): Promise<void>
}

/** Footer contents, shared by both encoders. */
export interface FooterOptions {
  metadata: Record<string, string>
  createdBy: string
}

/** Footer contents for a writer's options. */
export function footerOptions(options: {
  metadata?: Record<string, string>
  createdBy?: string
}): FooterOptions {
  return { metadata: options.metadata ?? {}, createdBy: options.createdBy ?? 'listings-ingest' }
}

/** Encodes on the calling thread with hyparquet-writer's building blocks, streaming to the sink. */
export class InThreadEncoder implements RowGroupEncoder {
  readonly #writer: ParquetWriter

  constructor(sink: ByteSink, footer: FooterOptions) {
    const kvMetadata: KeyValue[] = Object.entries(footer.metadata).map(([key, value]) => ({ key, value }))
    this.#writer = new ParquetWriter({
      writer: new SinkWriter(sink),
      schema: LISTINGS_PARQUET_SCHEMA,
      codec: 'SNAPPY',
      compressors: snappyCompressors(),
      kvMetadata,
      createdBy: footer.createdBy,
    })
  }

  async write(columns: RowGroupColumns, rows: number): Promise<void> {
    await appendRowGroup(this.#writer, columns, rows)
  }

  async finish(): Promise<void> {
    await this.#writer.finish()
  }

  async abort(): Promise<void> {}
}

/**
 * Snappy through hysnappy's WebAssembly build: about ten times the speed of
 * hyparquet-writer's JavaScript Snappy, and, being WASM inlined in the
 * module, the same code on x64 and on the arm64 Lambda. One instance per
 * encoder: its memory grows to the largest page and is reused.
 */
function snappyCompressors(): { SNAPPY: (input: Uint8Array) => Uint8Array } {
  return { SNAPPY: snappyCompressor() }
}

/**
 * A hyparquet-writer `Writer` that hands its buffer to a sink after every row
 * group (the library calls `flush` there) and at the end, instead of holding
 * the whole file in memory as `ByteWriter` does. On finish the buffer ends
 * with the whole footer, which it corrects (see {@link typeEmptyFooterLists})
 * before handing it over.
 */
class SinkWriter extends ByteWriter {
  readonly #sink: ByteSink

  constructor(sink: ByteSink) {
    super(1 << 20)
    this.#sink = sink
  }

  flush(): void | Promise<void> {
    if (this.index === 0) return
    // Hand over the filled buffer and start a fresh one, rather than copying.
    const filled = new Uint8Array(this.buffer, 0, this.index)
    this.buffer = new ArrayBuffer(this.buffer.byteLength)
    this.view = new DataView(this.buffer)
    this.index = 0
    return this.#sink.write(filled)
  }

  override finish(): void | Promise<void> {
    typeEmptyFooterLists(footerOf(new Uint8Array(this.buffer, 0, this.index)))
    return this.flush()
  }
}

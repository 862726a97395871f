import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import type { ByteSink } from './byte-streams.js'
import type { RowGroupColumns } from './row-group-columns.js'
import { type FooterOptions, InThreadEncoder, type RowGroupEncoder } from './row-group-encoder.js'

const ROLE = 'listings-parquet-encoder'

type ToWorker = { type: 'write'; columns: RowGroupColumns; rows: number } | { type: 'finish' }
type FromWorker =
  | { type: 'bytes'; chunk: Uint8Array }
  | { type: 'written' }
  | { type: 'finished' }
  | { type: 'failed'; message: string }

/**
 * Encodes row groups on a worker thread, so the main thread goes on parsing
 * while the previous row group is compressed. The worker sends the encoded
 * bytes back; they reach the sink in order, on the main thread. One row group
 * is encoded while the next fills, never more, which bounds memory.
 */
export class WorkerEncoder implements RowGroupEncoder {
  readonly #worker: Worker
  readonly #sink: ByteSink
  #sinkQueue: Promise<void> = Promise.resolve()
  #failure: Error | undefined
  /**
   * The row group on the worker, if any: settles once its bytes are queued
   * for the sink (the worker's `written` reply), or rejects when anything
   * fails. A row group is posted only after the previous one settled.
   */
  #inFlight: Deferred | undefined
  #closing = false
  /** Settles when the worker has written the footer, or as soon as anything fails. */
  readonly #finished = deferred()

  /**
   * @param module - a bundle that calls {@link runParquetWorker} off the main thread
   * @param sink - receives the file's bytes, in order
   */
  constructor(module: URL, sink: ByteSink, footer: FooterOptions) {
    this.#sink = sink
    this.#worker = new Worker(module, { workerData: { role: ROLE, footer } })
    // A failed run must not be kept alive by an idle encoder.
    this.#worker.unref()
    this.#worker.on('message', (message: FromWorker) => this.#receive(message))
    this.#worker.on('error', (error) => this.#fail(error))
    this.#worker.on('exit', (code) => {
      if (!this.#closing) this.#fail(new Error(`Parquet encoder thread exited with code ${code}`))
    })
  }

  async write(columns: RowGroupColumns, rows: number): Promise<void> {
    await this.#idle()
    this.#inFlight = deferred()
    // Every column is typed arrays: hand them over rather than copy them.
    this.#worker.postMessage({ type: 'write', columns, rows } satisfies ToWorker, transferList(columns))
  }

  async finish(): Promise<void> {
    try {
      await this.#idle()
      this.#worker.postMessage({ type: 'finish' } satisfies ToWorker)
      await this.#finished.promise
      await this.#sinkQueue
    } finally {
      await this.#close()
    }
    if (this.#failure) throw this.#failure
  }

  async abort(): Promise<void> {
    await this.#close()
  }

  /** Resolves when no row group is on the worker; rejects once anything has failed. */
  async #idle(): Promise<void> {
    await this.#inFlight?.promise
    if (this.#failure) throw this.#failure
  }

  async #close(): Promise<void> {
    this.#closing = true
    await this.#worker.terminate()
  }

  #receive(message: FromWorker): void {
    if (message.type === 'bytes') {
      this.#sinkQueue = this.#sinkQueue.then(() => this.#sink.write(message.chunk))
      this.#sinkQueue.catch((error: Error) => this.#fail(error))
    } else if (message.type === 'written') {
      // The row group counts as done once its bytes are queued for the sink, in order.
      const written = this.#inFlight
      void this.#sinkQueue.then(
        () => written?.resolve(),
        () => undefined,
      )
    } else if (message.type === 'finished') {
      this.#finished.resolve()
    } else {
      this.#fail(new Error(message.message))
    }
  }

  #fail(error: Error): void {
    this.#failure ??= error
    this.#inFlight?.reject(this.#failure)
    this.#finished.reject(this.#failure)
  }
}

/** A promise with its settle functions; Promise.withResolvers, which Node 20 lacks. */
interface Deferred {
  promise: Promise<void>
  resolve: () => void
  reject: (error: Error) => void
}

/** A {@link Deferred} whose rejection is never reported as unhandled: its owner observes it later, or not at all after an abort. */
function deferred(): Deferred {
  let resolve: () => void = () => undefined
  let reject: (error: Error) => void = () => undefined
  const promise = new Promise<void>((onResolve, onReject) => {
    resolve = onResolve
    reject = onReject
  })
  promise.catch(() => undefined)
  return { promise, resolve, reject }
}

/**
 * The worker side: call it at the top of a bundle's entry when
 * `isMainThread` is false. Returns whether this thread is a Parquet encoder
 * (and so must not run the entry's own main).
 */
export function runParquetWorker(): boolean {
  if (isMainThread || parentPort === null || (workerData as { role?: string } | undefined)?.role !== ROLE)
    return false
  const port = parentPort
  const sink: ByteSink = {
    write(chunk) {
      // Transfer rather than copy: the encoder hands over a fresh buffer each flush.
      const owned =
        chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength ? chunk : chunk.slice()
      port.postMessage({ type: 'bytes', chunk: owned } satisfies FromWorker, [owned.buffer as ArrayBuffer])
    },
  }
  const encoder = new InThreadEncoder(sink, (workerData as { footer: FooterOptions }).footer)
  let queue = Promise.resolve()
  port.on('message', (message: ToWorker) => {
    queue = queue
      .then(async () => {
        if (message.type === 'write') {
          await encoder.write(message.columns, message.rows)
          port.postMessage({ type: 'written' } satisfies FromWorker)
        } else {
          await encoder.finish()
          port.postMessage({ type: 'finished' } satisfies FromWorker)
        }
      })
      .catch((error: unknown) => {
        port.postMessage({
          type: 'failed',
          message: error instanceof Error ? error.message : String(error),
        } satisfies FromWorker)
      })
  })
  return true
}

/** The buffers of a row group's columns, each once (a full buffer may back several views). */
function transferList(columns: RowGroupColumns): ArrayBuffer[] {
  const { date, price_gbp, item_id, seller_id, region, category, segment } = columns
  const views = [date, price_gbp, item_id.bytes, item_id.offsets]
  for (const strings of [seller_id, region, category, segment])
    views.push(strings.ids, strings.values.bytes, strings.values.offsets)
  return [...new Set(views.map((view) => view.buffer as ArrayBuffer))]
}

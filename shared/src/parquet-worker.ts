import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import type { ByteSink } from './byte-streams.js'
import { type FooterOptions, InThreadEncoder, type RowGroupColumns, type RowGroupEncoder } from './parquet.js'

const ROLE = 'listings-parquet-encoder'

/**
 * A string column as distinct values and one index per row (-1 for null):
 * cloning a few thousand distinct strings to the other thread instead of
 * one string per row.
 */
interface InternedStrings {
  distinct: string[]
  indexes: Int32Array
}

/** A row group as it crosses to the worker: typed arrays transferred, strings interned or packed. */
interface WireColumns extends Omit<RowGroupColumns, 'seller_id' | 'region' | 'category' | 'segment'> {
  seller_id: InternedStrings
  region: InternedStrings
  category: InternedStrings
  segment: InternedStrings
}

type ToWorker = { type: 'write'; columns: WireColumns; rows: number } | { type: 'finish' }
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
  #inFlight = 0
  #waiters: { resolve: () => void; reject: (error: Error) => void; until: (inFlight: number) => boolean }[] =
    []
  #closing = false
  /** Settles when the worker has written the footer, or as soon as anything fails. */
  #finished: Promise<void>
  #settleFinished: { resolve: () => void; reject: (error: Error) => void } = {
    resolve: () => undefined,
    reject: () => undefined,
  }

  /**
   * @param module - a bundle that calls {@link runParquetWorker} off the main thread
   * @param sink - receives the file's bytes, in order
   */
  constructor(module: URL, sink: ByteSink, footer: FooterOptions) {
    this.#sink = sink
    this.#finished = new Promise((resolve, reject) => {
      this.#settleFinished = { resolve, reject }
    })
    // Observed by finish(); this keeps an early failure from being unhandled.
    this.#finished.catch(() => undefined)
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
    await this.#waitUntil((inFlight) => inFlight < 1)
    this.#inFlight++
    const { date, price_gbp, item_id } = columns
    const wire: WireColumns = {
      date,
      price_gbp,
      item_id,
      seller_id: intern(columns.seller_id),
      region: intern(columns.region),
      category: intern(columns.category),
      segment: intern(columns.segment),
    }
    const transfer = [
      date.buffer,
      price_gbp.buffer,
      item_id.bytes.buffer as ArrayBuffer,
      item_id.offsets.buffer as ArrayBuffer,
    ]
    for (const column of [wire.seller_id, wire.region, wire.category, wire.segment])
      transfer.push(column.indexes.buffer as ArrayBuffer)
    this.#worker.postMessage({ type: 'write', columns: wire, rows } satisfies ToWorker, transfer)
  }

  async finish(): Promise<void> {
    try {
      await this.#waitUntil((inFlight) => inFlight === 0)
      this.#worker.postMessage({ type: 'finish' } satisfies ToWorker)
      await this.#finished
      await this.#sinkQueue
    } finally {
      await this.#close()
    }
    if (this.#failure) throw this.#failure
  }

  async abort(): Promise<void> {
    await this.#close()
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
      void this.#sinkQueue.then(
        () => {
          this.#inFlight--
          this.#wake()
        },
        () => undefined,
      )
    } else if (message.type === 'finished') {
      this.#settleFinished.resolve()
    } else {
      this.#fail(new Error(message.message))
    }
  }

  #waitUntil(until: (inFlight: number) => boolean): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure)
    if (until(this.#inFlight)) return Promise.resolve()
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject, until }))
  }

  #wake(): void {
    const ready = this.#waiters.filter((waiter) => waiter.until(this.#inFlight))
    this.#waiters = this.#waiters.filter((waiter) => !ready.includes(waiter))
    for (const waiter of ready) waiter.resolve()
  }

  #fail(error: Error): void {
    this.#failure ??= error
    for (const waiter of this.#waiters.splice(0)) waiter.reject(this.#failure)
    this.#settleFinished.reject(this.#failure)
  }
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
          const { columns } = message
          await encoder.write(
            {
              ...columns,
              seller_id: expand(columns.seller_id) as string[],
              region: expand(columns.region) as string[],
              category: expand(columns.category) as string[],
              segment: expand(columns.segment),
            },
            message.rows,
          )
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

function intern(values: readonly (string | null)[]): InternedStrings {
  const positions = new Map<string, number>()
  const distinct: string[] = []
  const indexes = new Int32Array(values.length)
  for (let i = 0; i < values.length; i++) {
    const value = values[i]
    if (value === null || value === undefined) {
      indexes[i] = -1
      continue
    }
    let position = positions.get(value)
    if (position === undefined) {
      position = distinct.push(value) - 1
      positions.set(value, position)
    }
    indexes[i] = position
  }
  return { distinct, indexes }
}

function expand({ distinct, indexes }: InternedStrings): (string | null)[] {
  const values = new Array<string | null>(indexes.length)
  for (let i = 0; i < indexes.length; i++) {
    const index = indexes[i] as number
    values[i] = index < 0 ? null : (distinct[index] as string)
  }
  return values
}

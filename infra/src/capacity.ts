import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { repositoryRoot } from './paths.js'

/**
 * How large a file one run can take, derived from the measured capacity in
 * docs/performance.json (written by `npm run bench`) and the memory model in
 * docs/performance.md. The ingest state machine sends files up to
 * {@link runCapacity}'s `bytes` (of the Lambda's memory and timeout) to the Lambda and larger ones to the
 * Fargate task (context `largeFileThresholdBytes` overrides it).
 *
 * A run holds, per distinct `(date, item_id)` key, the dedup index in its
 * heap; time grows linearly with rows. So for a given heap and time limit:
 *
 *     rows_by_memory = heap_bytes / HEAP_BYTES_PER_ROW × MEMORY_MARGIN
 *     rows_by_time   = rows_per_second_one_core × timeout_seconds × TIME_MARGIN
 *     bytes          = min(rows_by_memory, rows_by_time) × csv_bytes_per_row, rounded down to 100 MB
 *
 * Files whose rows are much shorter than the measured average hold more rows
 * per byte: lower the threshold for them.
 */

/** The figures of docs/performance.json this model reads. */
export interface MeasuredCapacity {
  /** Rows in the measured run. */
  rows: number
  /** Wall time of that run on one core (the Lambda's one vCPU), in seconds. */
  seconds: number
  /** Average size of a CSV row in the measured file, in bytes. */
  csvBytesPerRow: number
}

/** The measured figures, read from docs/performance.json. */
export function measuredCapacity(): MeasuredCapacity {
  const json = JSON.parse(readFileSync(join(repositoryRoot(), 'docs/performance.json'), 'utf8')) as Record<
    string,
    unknown
  >
  const figure = (name: keyof MeasuredCapacity): number => {
    const value = json[name]
    if (typeof value !== 'number' || !(value > 0))
      throw new Error(`docs/performance.json: ${name} must be a positive number`)
    return value
  }
  return { rows: figure('rows'), seconds: figure('seconds'), csvBytesPerRow: figure('csvBytesPerRow') }
}

/**
 * The memory and margin model.
 *
 * - `heapFraction`: the heap limit (`--max-old-space-size`) is this share of
 *   the memory; the rest is Node, buffers, the encoder thread.
 * - `heapBytesPerRow`: heap per distinct key at the limit. docs/performance.md:
 *   the 1,415 MB heap of a 1,769 MB Lambda is reached near 40M rows, 37 bytes a row.
 * - `memoryMargin`, `timeMargin`: the share of each limit a run may plan to use;
 *   time gets the larger margin because S3 reads are slower and noisier than
 *   the benchmark's local disk.
 */
export const CAPACITY_MODEL = {
  heapFraction: 0.8,
  heapBytesPerRow: 37,
  memoryMargin: 0.75,
  timeMargin: 0.5,
} as const

/** The heap limit, in MiB, a runtime with this much memory gets (its `--max-old-space-size`). */
export function heapLimitMiB(memoryMiB: number): number {
  return Math.floor(memoryMiB * CAPACITY_MODEL.heapFraction)
}

/** What one run can take: rows and bytes, and which limit decides. */
export interface RunCapacity {
  rows: number
  bytes: number
  limitedBy: 'memory' | 'time'
}

const ROUND_BYTES = 100_000_000

/**
 * The largest file one run can take with this much memory and time.
 *
 * @param memoryMiB - the runtime's memory
 * @param timeoutSeconds - how long a run may take; `Infinity` for none
 */
export function runCapacity(
  memoryMiB: number,
  timeoutSeconds: number,
  measured: MeasuredCapacity = measuredCapacity(),
): RunCapacity {
  const { heapBytesPerRow, memoryMargin, timeMargin } = CAPACITY_MODEL
  const byMemory = ((heapLimitMiB(memoryMiB) * 2 ** 20) / heapBytesPerRow) * memoryMargin
  const byTime = (measured.rows / measured.seconds) * timeoutSeconds * timeMargin
  const rows = Math.floor(Math.min(byMemory, byTime))
  const bytes = Math.floor((rows * measured.csvBytesPerRow) / ROUND_BYTES) * ROUND_BYTES
  return { rows, bytes, limitedBy: byMemory <= byTime ? 'memory' : 'time' }
}

/**
 * Fargate prices used for the cost figures (US East (N. Virginia), Linux on
 * ARM/Graviton, on demand, as published on aws.amazon.com/fargate/pricing;
 * check them for your region). Storage up to 20 GiB is included.
 */
export const FARGATE_ARM_PRICES_USD = {
  perVcpuHour: 0.03238,
  perGbHour: 0.00356,
  perPublicIpv4Hour: 0.005,
} as const

/** Time and cost of one large-file run, estimated from the measured one-core throughput. */
export function largeFileRunEstimate(
  fileBytes: number,
  task: { vcpu: number; memoryGiB: number; publicIp: boolean },
  measured: MeasuredCapacity = measuredCapacity(),
): { rows: number; minutes: number; usd: number } {
  const rows = fileBytes / measured.csvBytesPerRow
  // One core's throughput (the encoder thread's overlap is not counted), plus a minute to pull and start.
  const minutes = rows / (measured.rows / measured.seconds) / 60 + 1
  const hours = minutes / 60
  const prices = FARGATE_ARM_PRICES_USD
  const usd =
    hours *
    (task.vcpu * prices.perVcpuHour +
      task.memoryGiB * prices.perGbHour +
      (task.publicIp ? prices.perPublicIpv4Hour : 0))
  return { rows: Math.round(rows), minutes, usd }
}

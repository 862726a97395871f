import type { IngestProgress } from '../../shared/src/index.js'

const REDRAW_MS = 200
const MB = 1024 * 1024

/**
 * Draws a one-line progress display on a terminal: phase, percentage of the
 * file, rows and throughput. Redraws at most five times a second.
 */
export class ProgressLine {
  readonly #stream: NodeJS.WriteStream
  #phase: IngestProgress['phase'] | undefined
  #phaseStart = 0
  #lastDraw = 0
  #drawn = false

  constructor(stream: NodeJS.WriteStream) {
    this.#stream = stream
  }

  update(progress: IngestProgress): void {
    const now = performance.now()
    if (progress.phase !== this.#phase) {
      this.#phase = progress.phase
      this.#phaseStart = now
    }
    const done = progress.totalBytes !== undefined && progress.bytesRead >= progress.totalBytes
    if (!done && now - this.#lastDraw < REDRAW_MS) return
    this.#lastDraw = now
    this.#drawn = true
    this.#stream.write(`\r\x1b[2K${describe(progress, (now - this.#phaseStart) / 1000)}`)
  }

  /** Clears the line so that what follows starts clean. */
  clear(): void {
    if (this.#drawn) this.#stream.write('\r\x1b[2K')
    this.#drawn = false
  }
}

/** One line of text for a progress update. */
export function describe(progress: IngestProgress, elapsedSeconds: number): string {
  const { phase, bytesRead, totalBytes, rows } = progress
  const label = phase === 'classify' ? 'pass 1/2 classify' : 'pass 2/2 write'
  const rate = elapsedSeconds > 0 ? bytesRead / MB / elapsedSeconds : 0
  const share = totalBytes
    ? ` ${bar(bytesRead / totalBytes)} ${Math.floor((100 * bytesRead) / totalBytes)}%`
    : ''
  return `${label}${share}  ${rows.toLocaleString('en-GB')} rows  ${rate.toFixed(1)} MB/s`
}

function bar(fraction: number, width = 24): string {
  const filled = Math.min(width, Math.max(0, Math.round(fraction * width)))
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`
}

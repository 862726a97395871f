import type { IngestProgress } from '../../shared/src/index.js'

const REDRAW_MS = 200
/** Columns assumed when the terminal does not say. */
const DEFAULT_COLUMNS = 80
const BAR_WIDTH = 20
/**
 * How long writing takes compared with reading, for the time left while
 * reading. A run that fits its memory budget (the usual case) reads once and
 * then encodes its buffered rows: measured at 0.9 times the read on 300,000
 * rows. A run too big for the budget reads the file a second time, about 2.5
 * times the first read; its estimate is corrected as soon as that read starts.
 */
export const WRITE_FACTOR = 1
/** Before this share of a read, or this many milliseconds, rates are too noisy to extrapolate. */
const MIN_FRACTION = 0.01
const MIN_ELAPSED_MS = 1000

/**
 * The stages the display shows, in order: reading and checking rows; then
 * either encoding the buffered rows (one pass) or reading the file a second
 * time to write them (two passes), which ends in finishing the Parquet file;
 * then publishing.
 */
export type ProgressStage = 'classify' | 'encode' | 'reread' | 'finishing' | 'publishing'

/** Everything the progress line shows; {@link renderProgress} draws it. */
export interface ProgressState {
  /** Names the file when a run has several, e.g. `[2/5] day2.csv.gz`. */
  label: string | undefined
  stage: ProgressStage
  /** Bytes of listings text read in this stage. */
  bytesRead: number
  /** The listings' size in bytes (for gzip, estimated until the first read ends), if known. */
  totalBytes: number | undefined
  /** Rows read (classify, reread) or written (encode) in this stage. */
  rows: number
  /** When the current stage began (milliseconds on the same clock as `now`). */
  stageStartedAt: number
  /** How long the first read took, once it is over. */
  classifyMs: number | undefined
}

/**
 * One line describing the run, at most `width - 1` characters (so it never
 * wraps, even on terminals that wrap at the last column). Counts say what
 * they count: rows read while reading, rows written while encoding. Time
 * left covers the whole run: while reading it adds an estimate of the
 * writing (see {@link WRITE_FACTOR}).
 *
 * @param state - where the run is
 * @param width - the terminal's columns
 * @param now - the current time, on the clock of `state.stageStartedAt`
 */
export function renderProgress(state: ProgressState, width: number, now: number): string {
  const room = Math.max(1, width - 1)
  const label = state.label === undefined ? undefined : `${state.label} `
  const stage = STAGE_TEXT[state.stage]
  const reading = state.stage === 'classify' || state.stage === 'reread'
  const fraction =
    reading && state.totalBytes !== undefined && state.totalBytes > 0
      ? Math.min(1, state.bytesRead / state.totalBytes)
      : undefined
  const percent = fraction === undefined ? undefined : `${Math.min(99, Math.floor(fraction * 100))}%`
  const bar = fraction === undefined ? undefined : progressBar(fraction)
  const rows =
    state.stage === 'publishing'
      ? undefined
      : `${state.rows.toLocaleString('en-GB')} rows ${state.stage === 'encode' ? 'written' : 'read'}`
  const left = timeLeft(state, fraction, now)
  // Dropped in this order until the line fits; then it is cut.
  const parts = { label, stage, percent, bar, rows, left }
  for (const drop of ['bar', 'rows', 'label', 'left'] as const) {
    if (line(parts).length <= room) break
    parts[drop] = undefined
  }
  return line(parts).slice(0, room)
}

const STAGE_TEXT: Record<ProgressStage, string> = {
  classify: 'reading',
  encode: 'writing Parquet',
  reread: 'writing (second read)',
  finishing: 'finishing the Parquet file...',
  publishing: 'publishing the outputs...',
}

function line(parts: Record<string, string | undefined>): string {
  const { label, ...rest } = parts
  return `${label ?? ''}${Object.values(rest)
    .filter((part) => part !== undefined)
    .join('  ')}`
}

function progressBar(fraction: number): string {
  const filled = Math.min(BAR_WIDTH, Math.max(0, Math.round(fraction * BAR_WIDTH)))
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`
}

function timeLeft(state: ProgressState, fraction: number | undefined, now: number): string | undefined {
  const elapsed = now - state.stageStartedAt
  let remaining: number | undefined
  if (state.stage === 'encode' && state.classifyMs !== undefined) {
    remaining = state.classifyMs * WRITE_FACTOR - elapsed
  } else if (fraction !== undefined && elapsed >= MIN_ELAPSED_MS && fraction >= MIN_FRACTION) {
    const readMs = elapsed / fraction
    remaining = readMs - elapsed + (state.stage === 'classify' ? readMs * WRITE_FACTOR : 0)
  }
  return remaining === undefined || remaining < 1000 ? undefined : `~${duration(remaining)} left`
}

/** `45s`, `3m05s`, `1h02m`. */
export function duration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000))
  if (seconds < 60) return `${seconds}s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`
}

/**
 * Draws {@link renderProgress} on a terminal, redrawn in place at most five
 * times a second (and at once when the stage changes), fitted to the
 * terminal's current width.
 */
export class ProgressLine {
  readonly #stream: NodeJS.WriteStream
  readonly #clock: () => number
  readonly #state: ProgressState
  #lastDraw = Number.NEGATIVE_INFINITY
  #drawn = false

  /**
   * @param stream - a terminal
   * @param label - names the file when a run has several
   * @param clock - milliseconds, for tests
   */
  constructor(stream: NodeJS.WriteStream, label?: string, clock: () => number = () => performance.now()) {
    this.#stream = stream
    this.#clock = clock
    this.#state = {
      label,
      stage: 'classify',
      bytesRead: 0,
      totalBytes: undefined,
      rows: 0,
      stageStartedAt: clock(),
      classifyMs: undefined,
    }
  }

  /**
   * Takes a progress report from the transform. The write phase is told
   * apart by its first report: when the file is already read to the end, the
   * rows are being encoded from memory (one pass) and `rows` counts rows
   * written; otherwise the file is being read again (two passes) and `rows`
   * counts rows read, until the read ends and the Parquet file is finished.
   */
  update(progress: IngestProgress): void {
    const now = this.#clock()
    const state = this.#state
    // With no size known, the first read's last report says how long the file is.
    const readToEnd =
      progress.bytesRead >=
      (progress.totalBytes ?? (state.stage === 'classify' ? state.bytesRead : Number.POSITIVE_INFINITY))
    let stage: ProgressStage
    if (progress.phase === 'classify') stage = 'classify'
    else if (state.stage === 'classify') stage = readToEnd ? 'encode' : 'reread'
    else if (state.stage === 'reread' && readToEnd) stage = 'finishing'
    else stage = state.stage
    const changed = stage !== state.stage
    if (state.stage === 'classify' && stage !== 'classify') state.classifyMs = now - state.stageStartedAt
    if (changed) state.stageStartedAt = now
    Object.assign(state, {
      stage,
      bytesRead: progress.bytesRead,
      totalBytes: progress.totalBytes,
      rows: progress.rows,
    })
    if (changed || now - this.#lastDraw >= REDRAW_MS) this.#draw(now)
  }

  /** Shows that the run is publishing its outputs (after the transform returned). */
  publishing(): void {
    this.#state.stage = 'publishing'
    this.#draw(this.#clock())
  }

  /** Clears the line so that what follows starts clean. */
  clear(): void {
    if (this.#drawn) this.#stream.write('\r\x1b[2K')
    this.#drawn = false
  }

  #draw(now: number): void {
    this.#lastDraw = now
    this.#drawn = true
    const width = this.#stream.columns || DEFAULT_COLUMNS
    this.#stream.write(`\r\x1b[2K${renderProgress(this.#state, width, now)}`)
  }
}

import type { IngestProgress } from '../../shared/src/index.js'

const REDRAW_MS = 200
/** Columns assumed when the terminal does not say. */
const DEFAULT_COLUMNS = 80
const BAR_WIDTH = 20
/**
 * How much longer the second pass (parse again, encode and write Parquet)
 * takes than the first (parse and check), for the time-left estimate during
 * the first pass: measured at 2.5 on 300,000 rows with the encoder on a
 * second core. Once the second pass is under way its own rate takes over.
 */
export const WRITE_PASS_FACTOR = 2.5
/** Before this share of a pass is read, or this many milliseconds, rates are too noisy to extrapolate. */
const MIN_FRACTION = 0.01
const MIN_ELAPSED_MS = 1000

/** What a progress update may carry: rows written in the second pass, when the transform reports them. */
export type ProgressUpdate = IngestProgress & { rowsWritten?: number }

/** The stages the display shows, in order. */
export type ProgressStage = 'classify' | 'write' | 'finishing' | 'publishing'

/** Everything the progress line shows; {@link renderProgress} draws it. */
export interface ProgressState {
  /** Names the file when a run has several, e.g. `[2/5] day2.csv.gz`. */
  label: string | undefined
  stage: ProgressStage
  /** Bytes of listings text read in this pass. */
  bytesRead: number
  /** The listings' size in bytes (for gzip, estimated until the first pass ends), if known. */
  totalBytes: number | undefined
  /** Rows read in this pass. */
  rows: number
  /** Rows written to Parquet so far in the second pass, when known. */
  rowsWritten: number | undefined
  /** When the current pass began (milliseconds on the same clock as `now`). */
  stageStartedAt: number
  /** How long the first pass took, once it is over. */
  classifyMs: number | undefined
}

/**
 * One line describing the run, at most `width - 1` characters (so it never
 * wraps, even on terminals that wrap at the last column). Counts say what
 * they count: rows read in the first pass, rows written in the second (or
 * rows read, if the transform does not report writes). Time left covers the
 * whole run: during the first pass it adds an estimate of the second.
 *
 * @param state - where the run is
 * @param width - the terminal's columns
 * @param now - the current time, on the clock of `state.stageStartedAt`
 */
export function renderProgress(state: ProgressState, width: number, now: number): string {
  const room = Math.max(1, width - 1)
  const label = state.label === undefined ? undefined : `${state.label} `
  const stage = STAGE_TEXT[state.stage]
  const fraction =
    state.totalBytes !== undefined && state.totalBytes > 0
      ? Math.min(1, state.bytesRead / state.totalBytes)
      : undefined
  const reading = state.stage === 'classify' || state.stage === 'write'
  const percent =
    reading && fraction !== undefined ? `${Math.min(99, Math.floor(fraction * 100))}%` : undefined
  const bar = reading && fraction !== undefined ? progressBar(fraction) : undefined
  const rows = state.stage === 'publishing' ? undefined : rowCount(state)
  const left = reading ? timeLeft(state, fraction, now) : undefined
  // Dropped in this order until the line fits; then it is cut.
  const parts = { label, stage, percent, bar, rows, left }
  for (const drop of ['bar', 'rows', 'label', 'left'] as const) {
    if (line(parts).length <= room) break
    parts[drop] = undefined
  }
  return line(parts).slice(0, room)
}

const STAGE_TEXT: Record<ProgressStage, string> = {
  classify: 'pass 1/2 check',
  write: 'pass 2/2 write',
  finishing: 'pass 2/2 finishing the Parquet file...',
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

function rowCount(state: ProgressState): string {
  const written = state.stage !== 'classify' && state.rowsWritten !== undefined
  const count = written ? (state.rowsWritten as number) : state.rows
  return `${count.toLocaleString('en-GB')} rows ${written ? 'written' : 'read'}`
}

function timeLeft(state: ProgressState, fraction: number | undefined, now: number): string | undefined {
  const elapsed = now - state.stageStartedAt
  if (fraction === undefined || elapsed < MIN_ELAPSED_MS || fraction < MIN_FRACTION) return undefined
  const passMs = elapsed / fraction
  const remaining = passMs - elapsed + (state.stage === 'classify' ? passMs * WRITE_PASS_FACTOR : 0)
  return `~${duration(remaining)} left`
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
      rowsWritten: undefined,
      stageStartedAt: clock(),
      classifyMs: undefined,
    }
  }

  /** Takes a progress report from the transform. */
  update(progress: ProgressUpdate): void {
    const now = this.#clock()
    const state = this.#state
    const done = progress.totalBytes !== undefined && progress.bytesRead >= progress.totalBytes
    const stage: ProgressStage = progress.phase === 'classify' ? 'classify' : done ? 'finishing' : 'write'
    const changed = stage !== state.stage
    if (progress.phase === 'write' && state.stage === 'classify') {
      state.classifyMs = now - state.stageStartedAt
      state.stageStartedAt = now
    }
    Object.assign(state, {
      stage,
      bytesRead: progress.bytesRead,
      totalBytes: progress.totalBytes,
      rows: progress.rows,
      rowsWritten: progress.rowsWritten,
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

import { describe, expect, it } from 'vitest'
import {
  duration,
  ProgressLine,
  type ProgressState,
  renderProgress,
  WRITE_PASS_FACTOR,
} from '../../local/src/progress.js'

const MB = 1024 * 1024

function state(overrides: Partial<ProgressState> = {}): ProgressState {
  return {
    label: undefined,
    stage: 'classify',
    bytesRead: 25 * MB,
    totalBytes: 100 * MB,
    rows: 250_000,
    rowsWritten: undefined,
    stageStartedAt: 0,
    classifyMs: undefined,
    ...overrides,
  }
}

describe('renderProgress: one line that says what it counts', () => {
  it('pass 1: share of the file, rows read, and time left for the whole run', () => {
    // A quarter read in 10 s: 30 s more for pass 1, then pass 2 at 2.5 times pass 1's 40 s.
    expect(WRITE_PASS_FACTOR).toBe(2.5)
    expect(renderProgress(state(), 120, 10_000)).toBe(
      'pass 1/2 check  25%  [#####...............]  250,000 rows read  ~2m10s left',
    )
  })

  it('pass 2: rows written when the transform reports them, else rows read (never read rows called written)', () => {
    const writing = state({ stage: 'write', bytesRead: 50 * MB, rows: 500_000, stageStartedAt: 40_000 })
    expect(renderProgress({ ...writing, rowsWritten: 420_000 }, 120, 60_000)).toBe(
      'pass 2/2 write  50%  [##########..........]  420,000 rows written  ~20s left',
    )
    expect(renderProgress(writing, 120, 60_000)).toContain('500,000 rows read')
  })

  it('never shows 100% while reading, and says what it does once the file is read', () => {
    expect(renderProgress(state({ bytesRead: 100 * MB - 1 }), 120, 10_000)).toContain(' 99% ')
    const finishing = renderProgress(state({ stage: 'finishing', bytesRead: 100 * MB }), 120, 10_000)
    expect(finishing).toBe('pass 2/2 finishing the Parquet file...  250,000 rows read')
    expect(renderProgress(state({ stage: 'publishing' }), 120, 10_000)).toBe('publishing the outputs...')
  })

  it('no share, bar or time left when the size is unknown; no time left in the first second', () => {
    expect(renderProgress(state({ totalBytes: undefined }), 120, 10_000)).toBe(
      'pass 1/2 check  250,000 rows read',
    )
    expect(renderProgress(state(), 120, 900)).not.toContain('left')
  })

  it('names the file when a run has several', () => {
    expect(renderProgress(state({ label: '[2/5] day2.csv.gz' }), 120, 10_000)).toMatch(
      /^\[2\/5\] day2\.csv\.gz pass 1\/2 check {2}25%/,
    )
  })

  it('fits any width: drops the bar, then the rows, then the label, then cuts; never longer than width - 1', () => {
    const busy = state({ label: '[12/40] a-long-daily-export-name.csv.gz', rowsWritten: 1 })
    const seen = new Set<string>()
    for (let width = 1; width <= 140; width++) {
      for (const stage of ['classify', 'write', 'finishing', 'publishing'] as const) {
        const line = renderProgress({ ...busy, stage }, width, 10_000)
        expect(line.length, `${stage} at ${width} columns`).toBeLessThanOrEqual(Math.max(1, width - 1))
        expect(line).not.toContain('\n')
        seen.add(line)
      }
    }
    expect(renderProgress(busy, 50, 10_000)).toBe('pass 1/2 check  25%  ~2m10s left')
    expect(renderProgress(busy, 80, 10_000)).toBe(
      '[12/40] a-long-daily-export-name.csv.gz pass 1/2 check  25%  ~2m10s left',
    )
  })
})

describe('duration', () => {
  it.each([
    [0, '0s'],
    [44_600, '45s'],
    [185_000, '3m05s'],
    [3_720_000, '1h02m'],
    [-5, '0s'],
  ])('%d ms is %s', (ms, text) => {
    expect(duration(ms)).toBe(text)
  })
})

/** A terminal stand-in: records what is written, with a width. */
function terminal(columns: number) {
  const writes: string[] = []
  const stream = { columns, write: (text: string) => writes.push(text) } as unknown as NodeJS.WriteStream
  return { stream, writes }
}

describe('ProgressLine', () => {
  it('redraws in place at most five times a second, and at once when the stage changes', () => {
    let now = 0
    const { stream, writes } = terminal(60)
    const line = new ProgressLine(stream, undefined, () => now)
    const update = (phase: 'classify' | 'write', bytesRead: number) =>
      line.update({ phase, bytesRead, totalBytes: 1000, rows: bytesRead })
    update('classify', 10)
    now = 100
    update('classify', 20) // too soon: not drawn
    now = 250
    update('classify', 30)
    now = 260
    update('write', 10) // a new stage: drawn at once
    now = 270
    update('write', 1000) // everything read: "finishing", drawn at once
    line.publishing()
    line.clear()
    expect(writes.map((text) => text.replace('\r\x1b[2K', ''))).toEqual([
      'pass 1/2 check  1%  [....................]  10 rows read',
      'pass 1/2 check  3%  [#...................]  30 rows read',
      'pass 2/2 write  1%  [....................]  10 rows read',
      'pass 2/2 finishing the Parquet file...  1,000 rows read',
      'publishing the outputs...',
      '',
    ])
    for (const text of writes) expect(text.startsWith('\r\x1b[2K')).toBe(true)
  })

  it('fits the width the terminal has at each redraw (it may be resized)', () => {
    const { stream, writes } = terminal(100)
    const line = new ProgressLine(stream, '[1/3] a.csv', () => 0)
    line.update({ phase: 'classify', bytesRead: 1, totalBytes: 10, rows: 1 })
    ;(stream as { columns: number }).columns = 20
    line.publishing()
    expect(writes.at(-1)).toBe('\r\x1b[2Kpublishing the outp')
    expect((writes.at(-1) as string).length - 5).toBe(19)
  })

  it('clears nothing when it drew nothing', () => {
    const { stream, writes } = terminal(80)
    new ProgressLine(stream).clear()
    expect(writes).toEqual([])
  })
})

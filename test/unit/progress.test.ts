import { describe, expect, it } from 'vitest'
import {
  duration,
  ProgressLine,
  type ProgressState,
  renderProgress,
  WRITE_FACTOR,
} from '../../local/src/progress.js'

const MB = 1024 * 1024

function state(overrides: Partial<ProgressState> = {}): ProgressState {
  return {
    label: undefined,
    stage: 'classify',
    bytesRead: 25 * MB,
    totalBytes: 100 * MB,
    rows: 250_000,
    stageStartedAt: 0,
    classifyMs: undefined,
    ...overrides,
  }
}

describe('renderProgress: one line that says what it counts', () => {
  it('reading: share of the file, rows read, and time left for the whole run', () => {
    // A quarter read in 10 s: 30 s more to read, then writing estimated at WRITE_FACTOR times the 40 s read.
    expect(WRITE_FACTOR).toBe(1)
    expect(renderProgress(state(), 120, 10_000)).toBe(
      'reading  25%  [#####...............]  250,000 rows read  ~1m10s left',
    )
  })

  it('writing from memory (one pass): rows written, time left from how long reading took', () => {
    const encoding = state({
      stage: 'encode',
      bytesRead: 100 * MB,
      rows: 120_000,
      stageStartedAt: 40_000,
      classifyMs: 40_000,
    })
    expect(renderProgress(encoding, 120, 50_000)).toBe('writing Parquet  120,000 rows written  ~30s left')
    // Past the estimate: no time left is shown rather than a wrong one.
    expect(renderProgress(encoding, 120, 90_000)).toBe('writing Parquet  120,000 rows written')
  })

  it('reading again to write (two passes): share of the second read and rows read in it', () => {
    const rereading = state({ stage: 'reread', bytesRead: 50 * MB, rows: 500_000, stageStartedAt: 40_000 })
    expect(renderProgress(rereading, 120, 60_000)).toBe(
      'writing (second read)  50%  [##########..........]  500,000 rows read  ~20s left',
    )
  })

  it('never shows 100% while reading, and says what it does once the file is read', () => {
    expect(renderProgress(state({ bytesRead: 100 * MB - 1 }), 120, 10_000)).toContain(' 99% ')
    const finishing = renderProgress(state({ stage: 'finishing', bytesRead: 100 * MB }), 120, 10_000)
    expect(finishing).toBe('finishing the Parquet file...  250,000 rows read')
    expect(renderProgress(state({ stage: 'publishing' }), 120, 10_000)).toBe('publishing the outputs...')
  })

  it('no share, bar or time left when the size is unknown; no time left in the first second', () => {
    expect(renderProgress(state({ totalBytes: undefined }), 120, 10_000)).toBe('reading  250,000 rows read')
    expect(renderProgress(state(), 120, 900)).not.toContain('left')
  })

  it('names the file when a run has several', () => {
    expect(renderProgress(state({ label: '[2/5] day2.csv.gz' }), 120, 10_000)).toMatch(
      /^\[2\/5\] day2\.csv\.gz reading {2}25%/,
    )
  })

  it('fits any width: drops the bar, then the rows, then the label, then cuts; never longer than width - 1', () => {
    const busy = state({ label: '[12/40] a-long-daily-export-name.csv.gz', classifyMs: 1 })
    for (let width = 1; width <= 140; width++) {
      for (const stage of ['classify', 'encode', 'reread', 'finishing', 'publishing'] as const) {
        const line = renderProgress({ ...busy, stage }, width, 10_000)
        expect(line.length, `${stage} at ${width} columns`).toBeLessThanOrEqual(Math.max(1, width - 1))
        expect(line).not.toContain('\n')
      }
    }
    expect(renderProgress(busy, 50, 10_000)).toBe('reading  25%  ~1m10s left')
    expect(renderProgress(busy, 80, 10_000)).toBe(
      '[12/40] a-long-daily-export-name.csv.gz reading  25%  ~1m10s left',
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
    const { stream, writes } = terminal(70)
    const line = new ProgressLine(stream, undefined, () => now)
    const update = (phase: 'classify' | 'write', bytesRead: number, rows: number) =>
      line.update({ phase, bytesRead, totalBytes: 1000, rows })
    update('classify', 10, 10)
    now = 100
    update('classify', 20, 20) // too soon: not drawn
    now = 250
    update('classify', 30, 30)
    now = 260
    update('write', 10, 10) // a second read: drawn at once
    now = 270
    update('write', 1000, 1000) // read to the end: finishing, drawn at once
    line.publishing()
    line.clear()
    expect(writes.map((text) => text.replace('\r\x1b[2K', ''))).toEqual([
      'reading  1%  [....................]  10 rows read',
      'reading  3%  [#...................]  30 rows read',
      'writing (second read)  1%  [....................]  10 rows read',
      'finishing the Parquet file...  1,000 rows read',
      'publishing the outputs...',
      '',
    ])
    for (const text of writes) expect(text.startsWith('\r\x1b[2K')).toBe(true)
  })

  it('one pass: the first write report comes with the file read, and counts rows written', () => {
    let now = 0
    const { stream, writes } = terminal(70)
    const line = new ProgressLine(stream, undefined, () => now)
    line.update({ phase: 'classify', bytesRead: 1000, totalBytes: 1000, rows: 900 })
    now = 5
    line.update({ phase: 'write', bytesRead: 1000, totalBytes: 1000, rows: 400 })
    expect(writes.at(-1)).toBe('\r\x1b[2Kwriting Parquet  400 rows written')
  })

  it('one pass with no size known: told apart by the first read having ended where the write starts', () => {
    const { stream, writes } = terminal(70)
    const line = new ProgressLine(stream, undefined, () => 0)
    line.update({ phase: 'classify', bytesRead: 5000, totalBytes: undefined, rows: 900 })
    line.update({ phase: 'write', bytesRead: 5000, totalBytes: undefined, rows: 400 })
    expect(writes.at(-1)).toBe('\r\x1b[2Kwriting Parquet  400 rows written')
    const again = terminal(70)
    const twoPass = new ProgressLine(again.stream, undefined, () => 0)
    twoPass.update({ phase: 'classify', bytesRead: 5000, totalBytes: undefined, rows: 900 })
    twoPass.update({ phase: 'write', bytesRead: 1000, totalBytes: undefined, rows: 180 })
    expect(again.writes.at(-1)).toBe('\r\x1b[2Kwriting (second read)  180 rows read')
  })

  it('fits the width the terminal has at each redraw (it may be resized)', () => {
    const { stream, writes } = terminal(100)
    const line = new ProgressLine(stream, '[1/3] a.csv', () => 0)
    line.update({ phase: 'classify', bytesRead: 1, totalBytes: 10, rows: 1 })
    ;(stream as { columns: number }).columns = 20
    line.publishing()
    expect(writes.at(-1)).toBe('\r\x1b[2Kpublishing the outp')
  })

  it('clears nothing when it drew nothing', () => {
    const { stream, writes } = terminal(80)
    new ProgressLine(stream).clear()
    expect(writes).toEqual([])
  })
})

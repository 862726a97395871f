import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { UsageError } from '../../local/src/args.js'
import { expandListings, outputNames, patternMatcher } from '../../local/src/inputs.js'
import { InputError } from '../../shared/src/index.js'

let dir: string
let cwd: string

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ingest-inputs-'))
  mkdirSync(join(dir, 'exports'))
  mkdirSync(join(dir, 'exports', 'nested.csv'))
  mkdirSync(join(dir, 'empty'))
  for (const name of ['b.csv', 'a.CSV', 'c.csv.gz', 'notes.txt', '.hidden.csv', 'Z.csv', 'd.csv.bz2'])
    writeFileSync(join(dir, 'exports', name), 'x')
  writeFileSync(join(dir, 'star*.csv'), 'x')
  symlinkSync(join(dir, 'exports', 'b.csv'), join(dir, 'link-to-b.csv'))
  cwd = process.cwd()
  process.chdir(dir)
})

afterAll(() => {
  process.chdir(cwd)
  rmSync(dir, { recursive: true, force: true })
})

function thrown(action: () => unknown): Error {
  try {
    action()
  } catch (error) {
    return error as Error
  }
  throw new Error('did not throw')
}

describe('expandListings', () => {
  it('one file keeps the contract layout: outputs straight in --out', () => {
    expect(expandListings(['exports/b.csv'])).toEqual([{ path: 'exports/b.csv', outputName: undefined }])
    // Even a missing one: reading it reports "no such file".
    expect(expandListings(['missing.csv'])).toEqual([{ path: 'missing.csv', outputName: undefined }])
  })

  it('a folder: its .csv and .csv.gz files (any case, not hidden, not folders), in code point order', () => {
    expect(expandListings(['exports'])).toEqual([
      { path: 'exports/Z.csv', outputName: 'Z' },
      { path: 'exports/a.CSV', outputName: 'a' },
      { path: 'exports/b.csv', outputName: 'b' },
      { path: 'exports/c.csv.gz', outputName: 'c' },
    ])
  })

  it('a quoted pattern: * and ? in the file name', () => {
    expect(expandListings(['exports/*.csv*']).map((input) => input.path)).toEqual([
      'exports/Z.csv',
      'exports/b.csv',
      'exports/c.csv.gz',
      // What the pattern names is read, and diagnosed there (bzip2 is not read).
      'exports/d.csv.bz2',
    ])
    expect(expandListings(['exports/?.csv']).map((input) => input.path)).toEqual([
      'exports/Z.csv',
      'exports/b.csv',
    ])
    expect(expandListings(['exports/.h*']).map((input) => input.path)).toEqual(['exports/.hidden.csv'])
  })

  it('a file whose name has a * in it is that file, not a pattern', () => {
    expect(expandListings(['star*.csv'])).toEqual([{ path: 'star*.csv', outputName: undefined }])
  })

  it('several values: each file once (the same file by two paths too), each into its own folder', () => {
    expect(expandListings(['exports/b.csv', 'exports', 'link-to-b.csv'])).toEqual([
      { path: 'exports/b.csv', outputName: 'b' },
      { path: 'exports/Z.csv', outputName: 'Z' },
      { path: 'exports/a.CSV', outputName: 'a' },
      { path: 'exports/c.csv.gz', outputName: 'c' },
    ])
  })

  it('a folder holding one file still uses a folder per file (the layout follows the command, not the count)', () => {
    mkdirSync(join(dir, 'one'))
    writeFileSync(join(dir, 'one', 'only.csv'), 'x')
    expect(expandListings(['one'])).toEqual([{ path: 'one/only.csv', outputName: 'only' }])
  })

  it('refuses a folder without CSV files, a pattern matching nothing, and a wildcard in a folder name', () => {
    const empty = thrown(() => expandListings(['empty']))
    expect(empty).toBeInstanceOf(InputError)
    expect(empty.message).toBe('empty: folder has no .csv or .csv.gz files')
    const none = thrown(() => expandListings(['exports/*.parquet']))
    expect(none).toBeInstanceOf(InputError)
    expect(none.message).toBe('exports/*.parquet: no file matches this pattern')
    const nowhere = thrown(() => expandListings(['nowhere/*.csv']))
    expect(nowhere.message).toBe('nowhere: no such file or directory')
    const wild = thrown(() => expandListings(['ex*/b.csv']))
    expect(wild).toBeInstanceOf(UsageError)
    expect(wild.message).toBe(
      '--listings ex*/b.csv: wildcards (* ?) may only appear in the file name, not in folder names',
    )
  })
})

describe('patternMatcher', () => {
  it.each([
    ['*.csv', 'a.csv', true],
    ['*.csv', 'a.csv.gz', false],
    ['day-??.csv', 'day-01.csv', true],
    ['day-??.csv', 'day-1.csv', false],
    ['a+b(1).csv', 'a+b(1).csv', true],
    ['a+b(1).csv', 'aab1.csv', false],
    ['*', '.hidden', false],
    ['.*', '.hidden', true],
    ['[x].csv', '[x].csv', true],
    ['*.csv', 'ünïcode.csv', true],
  ])('%s against %s: %s', (pattern, name, matches) => {
    expect(patternMatcher(pattern)(name)).toBe(matches)
  })
})

describe('outputNames', () => {
  it('is the file name without .csv, .csv.gz or .gz', () => {
    const inputs = ['in/day1.csv', 'in/day2.csv.gz', 'in/day3.CSV.GZ', 'in/day4.gz']
    expect(outputNames(inputs)).toEqual(['day1', 'day2', 'day3', 'day4'])
  })

  it('is safe: no separators, spaces, leading dots or reserved names; at most 80 characters', () => {
    expect(
      outputNames([
        'a b&c.csv',
        '..x.csv',
        '.csv',
        'processed.csv',
        'Rejected.csv',
        `${'n'.repeat(200)}.csv`,
      ]),
    ).toEqual(['a_b_c', 'x', 'listings', 'processed-2', 'Rejected-2', 'n'.repeat(80)])
    expect(outputNames(['données.csv'])).toEqual(['données'])
  })

  it('is unique, ignoring case (for case-insensitive file systems)', () => {
    const inputs = ['a/day.csv', 'b/day.csv.gz', 'c/DAY.csv', 'd/day-2.csv']
    expect(outputNames(inputs)).toEqual(['day', 'day-2', 'DAY-3', 'day-2-2'])
  })
})

import { describe, expect, it } from 'vitest'
import { parseCliArgs, UsageError } from '../../local/src/args.js'

/** The message parseCliArgs refuses `argv` with. */
function refusal(argv: string[]): string {
  try {
    parseCliArgs(argv)
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError)
    return (error as UsageError).message
  }
  throw new Error(`accepted ${JSON.stringify(argv)}`)
}

describe('parseCliArgs', () => {
  it('leaves the paths not given to the defaults (the sample and out/, see invocation.ts)', () => {
    expect(parseCliArgs([])).toMatchObject({
      listings: [],
      lookup: undefined,
      out: undefined,
      rowGroupSize: 100_000,
      version: false,
    })
  })

  it('takes --listings more than once, in order', () => {
    expect(parseCliArgs(['--listings', 'b.csv', '--listings', 'a/*.csv.gz']).listings).toEqual([
      'b.csv',
      'a/*.csv.gz',
    ])
  })

  it('--version and -V ask for the version', () => {
    expect(parseCliArgs(['--version']).version).toBe(true)
    expect(parseCliArgs(['-V']).version).toBe(true)
  })

  it('explains a stray argument as the unquoted glob it usually is', () => {
    expect(refusal(['--listings', 'a.csv', 'b.csv'])).toBe(
      "unexpected argument 'b.csv': to ingest several files repeat --listings, name a folder, or quote a pattern (--listings 'exports/*.csv')",
    )
  })

  it('bounds --row-group-size to what a reader can hold, 1,048,576 rows', () => {
    expect(parseCliArgs(['--row-group-size', '1048576']).rowGroupSize).toBe(1_048_576)
    for (const size of ['1048577', '2147483648', '100000000', '9007199254740993']) {
      expect(refusal(['--row-group-size', size])).toBe(
        `--row-group-size must be a whole number from 1 to 1048576, got "${size}"`,
      )
    }
    expect(refusal(['--row-group-size', '0'])).toMatch(/from 1 to 1048576/)
    expect(refusal(['--row-group-size', '1e3'])).toMatch(/from 1 to 1048576/)
  })

  it('reads --memory-budget as whole MiB (0 forces two passes) and refuses anything else in one line', () => {
    expect(parseCliArgs([]).memoryBudgetBytes).toBe(1024 * 1_048_576)
    expect(parseCliArgs(['--memory-budget', '0']).memoryBudgetBytes).toBe(0)
    expect(parseCliArgs(['--memory-budget', '256']).memoryBudgetBytes).toBe(256 * 1_048_576)
    for (const budget of ['+1', '1.5', '1e3', '1048577', 'lots']) {
      expect(refusal(['--memory-budget', budget])).toBe(
        `--memory-budget must be a whole number of MiB from 0 to 1048576, got "${budget}"`,
      )
    }
  })

  it('reads --null-values as comma-separated markers, trimmed by the contract White_Space, empty ones dropped', () => {
    // U+00A0 and U+3000 are White_Space; U+FEFF is not (String#trim would drop it).
    expect(
      parseCliArgs(['--null-values', '\u00a0NA\u00a0, null,,', '--null-values', '\uFEFFx\u3000']).nullMarkers,
    ).toEqual(['NA', 'null', '\uFEFFx'])
    expect(parseCliArgs([]).nullMarkers).toEqual([])
  })

  it('refuses a --null-values that names no marker at all', () => {
    for (const list of ['', ' , ', ',']) {
      expect(refusal(['--null-values', list])).toBe(
        `--null-values must name at least one marker (comma-separated), got ${JSON.stringify(list)}`,
      )
    }
  })

  it('reads a ratio as a plain decimal from 0 to 1, ignoring surrounding White_Space', () => {
    expect(parseCliArgs(['--max-rejected-ratio', '\u00a00.25 ']).maxRejectedRatio).toBe(0.25)
    expect(parseCliArgs(['--max-unmatched-segment-ratio', '.5']).maxUnmatchedSegmentRatio).toBe(0.5)
    expect(parseCliArgs(['--max-rejected-ratio', '1']).maxRejectedRatio).toBe(1)
    expect(parseCliArgs(['--max-rejected-ratio', '0']).maxRejectedRatio).toBe(0)
    // Number() takes the first five (hex, an exponent, signs, blank text as 0).
    for (const ratio of ['0x1', '1e-1', '+0.5', '-0', ' ', '', '1.5', 'Infinity', '0,5', '1_0']) {
      expect(refusal([`--max-rejected-ratio=${ratio}`])).toBe(
        `--max-rejected-ratio must be a number from 0 to 1, got ${JSON.stringify(ratio)}`,
      )
    }
  })

  it('reads whole-number flags with surrounding White_Space trimmed, as the Lambda reads its environment', () => {
    expect(parseCliArgs(['--row-group-size', ' 5000\u3000']).rowGroupSize).toBe(5000)
    expect(parseCliArgs(['--memory-budget', '\u0085256']).memoryBudgetBytes).toBe(256 * 1_048_576)
    expect(refusal(['--row-group-size', ' '])).toBe(
      '--row-group-size must be a whole number from 1 to 1048576, got " "',
    )
    expect(refusal(['--row-group-size', '0x10'])).toMatch(/from 1 to 1048576/)
  })

  it.each(['--listings', '--lookup', '--out', '--row-group-size', '--memory-budget', '--null-values'])(
    'says in one line that %s needs a value, when it is last or followed by a flag',
    (flag) => {
      for (const argv of [[flag], [flag, '--quiet']]) {
        const message = refusal(argv)
        expect(message).toBe(`${flag} needs a value`)
      }
    },
  )

  it('keeps every other parser message to one line', () => {
    expect(refusal(['--colour'])).not.toContain('\n')
    expect(refusal(['stray'])).not.toContain('\n')
  })
})

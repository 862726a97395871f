import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  describeDecimal,
  describeWholeNumber,
  isBlank,
  parseDecimal,
  parseNullMarkers,
  parseRatio,
  parseWholeNumber,
  plainDecimal,
  RATIO_DESCRIPTION,
} from '../../shared/src/setting-values.js'

/** Characters a setting's text is made of: digits, the notations Number() knows, whitespace and look-alikes. */
const settingText = fc
  .array(
    fc.constantFrom(
      ...'0123456789',
      '.',
      '+',
      '-',
      'e',
      'x',
      '_',
      ',',
      ' ',
      '\t',
      '\u00a0',
      '\u0085',
      '\u3000',
      '\uFEFF',
      '\u200b',
      'Infinity',
      '9007199254740993',
    ),
    { maxLength: 12 },
  )
  .map((parts) => parts.join(''))

/** The contract's whitespace, written out, for the model (shared/src/whitespace.ts is the implementation). */
const WHITE_SPACE =
  /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g

/** A range's upper end: small, or no bound short of the safe integers, or none at all. */
const upperBound = fc.oneof(
  fc.nat(2000),
  fc.constant(Number.MAX_SAFE_INTEGER),
  fc.constant(Number.POSITIVE_INFINITY),
)

describe('parseWholeNumber', () => {
  const range = { min: 1, max: 1_048_576 }

  it('reads decimal digits, ignoring surrounding White_Space', () => {
    expect(parseWholeNumber('5000', range)).toBe(5000)
    expect(parseWholeNumber(' 10 ', range)).toBe(10)
    expect(parseWholeNumber('\u00a010\u3000', range)).toBe(10)
    expect(parseWholeNumber('007', range)).toBe(7)
  })

  it.each([
    ['', 'blank'],
    [' ', 'blank'],
    ['0x10', 'hex'],
    ['1e3', 'an exponent'],
    ['+1', 'a sign'],
    ['-1', 'a sign'],
    ['1.0', 'a point'],
    ['1_000', 'a separator'],
    ['Infinity', 'not digits'],
    ['\uFEFF1', 'U+FEFF, which is not White_Space'],
    ['0', 'below the range'],
    ['1048577', 'above the range'],
  ])('refuses %j (%s), all of which Number() reads or rounds', (text) => {
    expect(parseWholeNumber(text, range)).toBeUndefined()
  })

  it('refuses digits past Number.MAX_SAFE_INTEGER rather than round them', () => {
    const any = { min: 0, max: Number.MAX_SAFE_INTEGER }
    expect(parseWholeNumber('9007199254740991', any)).toBe(Number.MAX_SAFE_INTEGER)
    expect(parseWholeNumber('9007199254740992', any)).toBeUndefined()
    expect(parseWholeNumber('9007199254740993', { min: 0, max: Number.POSITIVE_INFINITY })).toBeUndefined()
  })

  it('agrees with a model: White_Space trimmed, /^\\d+$/, the exact value (BigInt) a safe integer in range', () => {
    fc.assert(
      fc.property(settingText, fc.nat(2000), upperBound, (text, a, b) => {
        const bounds = { min: Math.min(a, b), max: Math.max(a, b) }
        const trimmed = text.replace(WHITE_SPACE, '')
        const exact = /^\d+$/.test(trimmed) ? BigInt(trimmed) : undefined
        const expected =
          exact !== undefined &&
          exact <= BigInt(Number.MAX_SAFE_INTEGER) &&
          exact >= BigInt(bounds.min) &&
          (bounds.max === Number.POSITIVE_INFINITY || exact <= BigInt(bounds.max))
            ? Number(exact)
            : undefined
        expect(parseWholeNumber(text, bounds)).toBe(expected)
      }),
      { numRuns: 3000 },
    )
  })
})

describe('parseDecimal and parseRatio', () => {
  it('read plain decimals with a point on either side, ignoring surrounding White_Space', () => {
    expect(parseRatio('0.25')).toBe(0.25)
    expect(parseRatio('.5')).toBe(0.5)
    expect(parseRatio('1.')).toBe(1)
    expect(parseRatio('\u3000 0 \u0085')).toBe(0)
    expect(parseDecimal('12.5', { min: 0, max: 100 })).toBe(12.5)
  })

  it.each(['', ' ', '.', '0x1', '1e-1', '+0.5', '-0', 'Infinity', 'NaN', '0,5', '0..5', '1.5', '1 0'])(
    'parseRatio refuses %j',
    (text) => {
      expect(parseRatio(text)).toBeUndefined()
    },
  )

  it('agrees with a model: White_Space trimmed, digits with at most one point, Number() of that in range', () => {
    fc.assert(
      fc.property(settingText, (text) => {
        const trimmed = text.replace(WHITE_SPACE, '')
        const plain = /^\d*\.?\d*$/.test(trimmed) && /\d/.test(trimmed)
        const value = Number(trimmed)
        const expected = plain && value >= 0 && value <= 100 ? value : undefined
        expect(parseDecimal(text, { min: 0, max: 100 })).toBe(expected)
      }),
      { numRuns: 3000 },
    )
  })
})

describe('plainDecimal', () => {
  it('spells exponents out, so the setting parsers read the value back', () => {
    expect(plainDecimal(5e-7)).toBe('0.0000005')
    expect(plainDecimal(1.25e-10)).toBe('0.000000000125')
    expect(plainDecimal(1e21)).toBe('1000000000000000000000')
    expect(plainDecimal(1.5e22)).toBe('15000000000000000000000')
    expect(plainDecimal(0.2)).toBe('0.2')
    expect(plainDecimal(1769)).toBe('1769')
    expect(plainDecimal(0)).toBe('0')
    expect(plainDecimal(-2.5e-7)).toBe('-0.00000025')
    expect(() => plainDecimal(Number.NaN)).toThrow(RangeError)
  })

  it('round-trips every ratio and every non-negative double through parseDecimal', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), (value) => {
        expect(parseRatio(plainDecimal(value))).toBe(Object.is(value, -0) ? 0 : value)
      }),
    )
    fc.assert(
      fc.property(fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }), (value) => {
        expect(parseDecimal(plainDecimal(value), { min: 0, max: Number.MAX_VALUE })).toBe(
          Object.is(value, -0) ? 0 : value,
        )
      }),
    )
  })
})

describe('the range descriptions', () => {
  it('say what the parsers accept, as every entry point words it', () => {
    expect(describeWholeNumber({ min: 1, max: 1_048_576 })).toBe('a whole number from 1 to 1048576')
    expect(describeWholeNumber({ min: 0, max: 1_048_576 }, 'MiB')).toBe(
      'a whole number of MiB from 0 to 1048576',
    )
    expect(describeDecimal({ min: 0, max: 100 })).toBe('a number from 0 to 100')
    expect(RATIO_DESCRIPTION).toBe('a number from 0 to 1')
  })
})

describe('parseNullMarkers', () => {
  it('splits comma-separated lists, trims each marker by White_Space and drops empty ones', () => {
    expect(parseNullMarkers(['NA, null', '\u00a0N/A\u3000,,'])).toEqual(['NA', 'null', 'N/A'])
    expect(parseNullMarkers([' , ', ''])).toEqual([])
    expect(parseNullMarkers([])).toEqual([])
  })

  it('keeps U+FEFF (not White_Space), letter case, order and repeats', () => {
    expect(parseNullMarkers(['\uFEFFnull,NA,na,NA'])).toEqual(['\uFEFFnull', 'NA', 'na', 'NA'])
  })
})

describe('isBlank', () => {
  it('is true for text that is empty or only White_Space, and false for U+FEFF', () => {
    expect(isBlank('')).toBe(true)
    expect(isBlank(' \t\u0085\u00a0\u3000')).toBe(true)
    expect(isBlank('\uFEFF')).toBe(false)
    expect(isBlank(' 0 ')).toBe(false)
  })
})

import { describe, expect, it } from 'vitest'
import { isWhiteSpace, trimWhiteSpace } from '../../shared/src/whitespace.js'

/** The contract's whitespace: the Unicode White_Space property, listed code point by code point. */
const WHITE_SPACE = [
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005,
  0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]

/** Look-alikes that are not White_Space and must be kept: BOM / zero-width no-break space, separators, zero-width marks. */
const NOT_WHITE_SPACE = [
  0x00, 0x08, 0x0e, 0x1c, 0x1d, 0x1e, 0x1f, 0x7f, 0x180e, 0x200b, 0x200c, 0x200d, 0x2060, 0xfeff,
]

const hex = (code: number) => `U+${code.toString(16).toUpperCase().padStart(4, '0')}`

describe('isWhiteSpace', () => {
  it('is true for exactly the 25 code points of the contract', () => {
    for (const code of WHITE_SPACE) expect(isWhiteSpace(code), hex(code)).toBe(true)
    for (const code of NOT_WHITE_SPACE) expect(isWhiteSpace(code), hex(code)).toBe(false)
  })

  it('agrees with the Unicode White_Space property on every code point', () => {
    const property = /^\p{White_Space}$/u
    const disagreements: string[] = []
    for (let code = 0; code <= 0x10ffff; code++) {
      if (code >= 0xd800 && code <= 0xdfff) continue
      if (isWhiteSpace(code) !== property.test(String.fromCodePoint(code))) disagreements.push(hex(code))
    }
    expect(disagreements).toEqual([])
    expect(WHITE_SPACE.every((code) => property.test(String.fromCodePoint(code)))).toBe(true)
  })
})

describe('trimWhiteSpace', () => {
  it('trims every White_Space code point from both ends', () => {
    for (const code of WHITE_SPACE) {
      const space = String.fromCodePoint(code)
      expect(trimWhiteSpace(`${space}${space}a b${space}`), hex(code)).toBe('a b')
      expect(trimWhiteSpace(space.repeat(3)), hex(code)).toBe('')
    }
  })

  it('keeps every look-alike that is not White_Space, where String.prototype.trim differs', () => {
    for (const code of NOT_WHITE_SPACE) {
      const kept = String.fromCodePoint(code)
      expect(trimWhiteSpace(` ${kept}a${kept} `), hex(code)).toBe(`${kept}a${kept}`)
    }
    // The two code points where JavaScript's trim() and the contract part ways.
    expect('\u0085x\u0085'.trim()).toBe('\u0085x\u0085')
    expect(trimWhiteSpace('\u0085x\u0085')).toBe('x')
    expect('\ufeffx\ufeff'.trim()).toBe('x')
    expect(trimWhiteSpace('\ufeffx\ufeff')).toBe('\ufeffx\ufeff')
  })

  it('keeps inner whitespace, and returns the same string when there is nothing to trim', () => {
    expect(trimWhiteSpace('\u3000New\u00a0York\u3000')).toBe('New\u00a0York')
    const untouched = 'Electronics'
    expect(trimWhiteSpace(untouched)).toBe(untouched)
    expect(trimWhiteSpace('')).toBe('')
    expect(trimWhiteSpace('😀 ')).toBe('😀')
  })
})

import { describe, expect, it } from 'vitest'
import { EMPTY, grow, hashBytes, rehashed, sameBytes } from '../../shared/src/open-addressing.js'

const bytes = (text: string) => Buffer.from(text, 'utf8')

describe('hashBytes', () => {
  it('hashes a range of bytes with a seed, as an unsigned 32-bit number', () => {
    const hash = hashBytes(7, bytes('xA1y'), 1, 3)
    expect(hash).toBe(hashBytes(7, bytes('A1'), 0, 2))
    expect(Number.isInteger(hash) && hash >= 0 && hash < 2 ** 32).toBe(true)
  })

  it('tells apart the same bytes under another seed, and other bytes under the same seed', () => {
    const hashes = new Set([
      hashBytes(1, bytes('A1'), 0, 2),
      hashBytes(2, bytes('A1'), 0, 2),
      hashBytes(1, bytes('A2'), 0, 2),
      hashBytes(1, bytes(''), 0, 0),
    ])
    expect(hashes.size).toBe(4)
  })
})

describe('sameBytes', () => {
  it('compares a range of one buffer with the bytes of another at an offset', () => {
    expect(sameBytes(bytes('--abc'), 2, 5, bytes('abcd'), 0)).toBe(true)
    expect(sameBytes(bytes('--abc'), 2, 5, bytes('xabd'), 1)).toBe(false)
    expect(sameBytes(bytes('a'), 0, 0, bytes(''), 0)).toBe(true)
  })
})

describe('grow', () => {
  it('copies into a longer array of the same type, zero-filled beyond', () => {
    const larger = grow(new Uint16Array([1, 2, 65_535]), 5)
    expect(larger).toBeInstanceOf(Uint16Array)
    expect([...larger]).toEqual([1, 2, 65_535, 0, 0])
  })
})

describe('rehashed', () => {
  it('places every id of the old table again, probing past collisions, and no other', () => {
    const old = new Int32Array([EMPTY, 3, EMPTY, 0, 5, EMPTY, 1, EMPTY])
    // Every id hashes to slot 6: in the old table's order they take 6 and 7, then wrap round to 0 and 1.
    expect([...rehashed(old, 8, () => 6)]).toEqual([5, 1, EMPTY, EMPTY, EMPTY, EMPTY, 3, 0])
  })

  it('grows a table to the size asked for, each id at its own hash when nothing collides', () => {
    const table = rehashed(new Int32Array([2, EMPTY, 0, 1]), 16, (id) => id * 5)
    expect(table).toHaveLength(16)
    expect([table[0], table[5], table[10]]).toEqual([0, 1, 2])
  })
})

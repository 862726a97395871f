import { describe, expect, it } from 'vitest'
import { byteRange, internStrings, packStrings, plainByteArrays } from '../../shared/src/row-group-columns.js'

const text = (bytes: Uint8Array | undefined) =>
  bytes === undefined ? undefined : Buffer.from(bytes).toString()

describe('packStrings', () => {
  it('packs the first `count` strings as UTF-8 with their offsets', () => {
    const packed = packStrings(['a', 'Café', '', 'unused'], 3)
    expect(text(packed.bytes)).toBe('aCafé')
    expect([...packed.offsets]).toEqual([0, 1, 6, 6])
  })

  it('gives a buffer of its own, so it can be transferred to a worker', () => {
    const packed = packStrings(['x'], 1)
    expect(packed.bytes.byteOffset).toBe(0)
    expect(packed.bytes.buffer.byteLength).toBe(1)
  })
})

describe('internStrings', () => {
  it('numbers distinct values in order of first appearance, -1 for null', () => {
    const column = internStrings(['b', null, 'a', 'b', 'a', 'ignored'], 5)
    expect([...column.ids]).toEqual([0, -1, 1, 0, 1])
    expect(text(column.values.bytes)).toBe('ba')
  })

  it('gives a column of nulls no values', () => {
    const column = internStrings([null, null], 2)
    expect([...column.ids]).toEqual([-1, -1])
    expect([...column.values.offsets]).toEqual([0])
  })
})

describe('byteRange', () => {
  it('finds the least and greatest value in unsigned byte order, which is code point order', () => {
    const range = byteRange(packStrings(['b', 'é', 'ab', 'a', 'z'], 5))
    expect({ min: text(range.min), max: text(range.max) }).toEqual({ min: 'a', max: 'é' })
  })

  it('has no range for no values', () => {
    expect(byteRange(packStrings([], 0))).toEqual({})
  })
})

describe('plainByteArrays', () => {
  it('writes each value of a range with its 4-byte little-endian length before it', () => {
    const page = plainByteArrays(packStrings(['skip', 'ab', 'é'], 3), 1, 3)
    expect([...page]).toEqual([2, 0, 0, 0, 0x61, 0x62, 2, 0, 0, 0, 0xc3, 0xa9])
  })
})

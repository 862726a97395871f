import { describe, expect, it } from 'vitest'
import { ByteInterner, LocalDictionary } from '../../shared/src/byte-interner.js'

/** Interns `text` (as UTF-8, inside padding so the range is honoured); returns its id. */
function intern(interner: ByteInterner, text: string): number {
  const padded = Buffer.from(`<<${text}>>`, 'utf8')
  return interner.intern(padded, 2, padded.length - 2)
}

describe('ByteInterner', () => {
  it('numbers distinct byte strings from 0 in order of first sight, and gives each back', () => {
    const interner = new ByteInterner()
    expect(['Toys', 'Garden', 'Toys', '', 'Café ☕', 'Garden'].map((text) => intern(interner, text))).toEqual(
      [0, 1, 0, 2, 3, 1],
    )
    expect(interner.size).toBe(4)
    expect(interner.textOf(3)).toBe('Café ☕')
    expect(interner.lengthOf(3)).toBe(Buffer.byteLength('Café ☕'))
    expect(Buffer.from(interner.bytesOf(0)).toString()).toBe('Toys')
  })

  it('compares bytes exactly: case, trailing spaces and composed forms are other values', () => {
    const interner = new ByteInterner()
    const ids = ['é', 'e\u0301', 'E', 'e', 'e '].map((text) => intern(interner, text))
    expect(new Set(ids).size).toBe(5)
  })

  it('keeps every id through its table and arena growing', () => {
    const interner = new ByteInterner()
    for (let i = 0; i < 5000; i++) expect(intern(interner, `value ${i} ${'x'.repeat(i % 40)}`)).toBe(i)
    for (let i = 0; i < 5000; i += 97) expect(intern(interner, `value ${i} ${'x'.repeat(i % 40)}`)).toBe(i)
    expect(interner.textOf(4999)).toBe(`value 4999 ${'x'.repeat(4999 % 40)}`)
    expect(interner.bytes).toBeGreaterThan(0)
  })

  it('copies a value into a buffer, returning where it ends', () => {
    const interner = new ByteInterner()
    intern(interner, 'ab')
    const target = new Uint8Array(4)
    expect(interner.copyInto(0, target, 1)).toBe(3)
    expect([...target]).toEqual([0, 0x61, 0x62, 0])
  })
})

describe('LocalDictionary', () => {
  it("renumbers a row group's values in order of first appearance and gives its dictionary", () => {
    const interner = new ByteInterner()
    for (const text of ['a', 'b', 'c']) intern(interner, text)
    const dictionary = new LocalDictionary(interner)
    const ids = Int32Array.from([2, 0, 2, 1], (id) => dictionary.local(id))
    const column = dictionary.take(ids)
    expect([...column.ids]).toEqual([0, 1, 0, 2])
    expect(Buffer.from(column.values.bytes).toString()).toBe('cab')
    expect([...column.values.offsets]).toEqual([0, 1, 2, 3])
  })

  it('starts each row group afresh', () => {
    const interner = new ByteInterner()
    for (const text of ['a', 'b']) intern(interner, text)
    const dictionary = new LocalDictionary(interner)
    dictionary.take(Int32Array.from([dictionary.local(0), dictionary.local(1)]))
    const second = dictionary.take(Int32Array.from([dictionary.local(1)]))
    expect([...second.ids]).toEqual([0])
    expect(Buffer.from(second.values.bytes).toString()).toBe('b')
  })
})

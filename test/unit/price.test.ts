import { describe, expect, it } from 'vitest'
import { parsePrice } from '../../shared/src/price.js'

describe('parsePrice', () => {
  it('accepts every plain decimal form the contract lists', () => {
    const cases: [string, number][] = [
      ['12', 12],
      ['+3', 3],
      ['.5', 0.5],
      ['5.', 5],
      ['1e3', 1000],
      ['12.50', 12.5],
      ['1E-2', 0.01],
      ['007', 7],
      ['+.5e+1', 5],
    ]
    for (const [text, value] of cases) expect(parsePrice(text), text).toEqual({ ok: true, value })
  })

  it('calls non-numeric text non_numeric_price', () => {
    const texts = [
      'abc',
      '1,200.00',
      '£5',
      '0x10',
      'NaN',
      'Infinity',
      '-Infinity',
      '1_000',
      '1e',
      '.',
      '+',
      '1.2.3',
      '5 GBP',
      '１２',
    ]
    for (const text of texts) {
      expect(parsePrice(text), text).toEqual({ ok: false, problem: 'non_numeric_price' })
    }
  })

  it('calls overflow to infinity non_finite_price', () => {
    expect(parsePrice('1e400')).toEqual({ ok: false, problem: 'non_finite_price' })
    expect(parsePrice('-1e999')).toEqual({ ok: false, problem: 'non_finite_price' })
  })

  it('calls zero, negatives and underflow to zero non_positive_price', () => {
    for (const text of ['0', '0.00', '-0', '+0', '-5', '-.1', '1e-400', '0e5']) {
      expect(parsePrice(text), text).toEqual({ ok: false, problem: 'non_positive_price' })
    }
  })

  it('keeps the smallest positive doubles', () => {
    expect(parsePrice('5e-324')).toEqual({ ok: true, value: 5e-324 })
  })
})

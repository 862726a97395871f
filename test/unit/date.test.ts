import { describe, expect, it } from 'vitest'
import { formatIsoDate, parseIsoDate } from '../../shared/src/date.js'

describe('parseIsoDate', () => {
  it('returns days since the epoch for real dates', () => {
    expect(parseIsoDate('1970-01-01')).toBe(0)
    expect(parseIsoDate('1970-01-02')).toBe(1)
    expect(parseIsoDate('1969-12-31')).toBe(-1)
    expect(parseIsoDate('2024-01-05')).toBe(19727)
  })

  it('accepts 29 February only in leap years', () => {
    expect(parseIsoDate('2024-02-29')).toBe(19782)
    expect(parseIsoDate('2000-02-29')).not.toBeUndefined()
    expect(parseIsoDate('2023-02-29')).toBeUndefined()
    expect(parseIsoDate('1900-02-29')).toBeUndefined()
  })

  it('refuses days past the end of the month and out-of-range months', () => {
    for (const text of ['2024-04-31', '2024-06-31', '2024-13-01', '2024-00-10', '2024-01-00', '2024-01-32']) {
      expect(parseIsoDate(text), text).toBeUndefined()
    }
  })

  it('refuses anything not written exactly YYYY-MM-DD', () => {
    const malformed = [
      '2024-1-5',
      '2024/01/05',
      '2024-01-05T00:00:00',
      '05/01/2024',
      '20240105',
      ' 2024-01-05',
      '2024-01-05 ',
      '+2024-01-05',
      '２０２４-01-05',
      '',
    ]
    for (const text of malformed) expect(parseIsoDate(text), text).toBeUndefined()
  })

  it('keeps four-digit years below 100 literal (no 19xx mapping)', () => {
    expect(formatIsoDate(parseIsoDate('0099-03-01') as number)).toBe('0099-03-01')
  })
})

describe('formatIsoDate', () => {
  it('is the inverse of parseIsoDate', () => {
    for (const text of ['1970-01-01', '2024-02-29', '1999-12-31', '2100-03-01', '1600-02-29']) {
      expect(formatIsoDate(parseIsoDate(text) as number)).toBe(text)
    }
  })
})

import { describe, expect, it } from 'vitest'
import { InputError } from '../../shared/src/errors.js'
import {
  headerRecord,
  refuseDelimiter,
  refuseEncoding,
  refuseSignature,
} from '../../shared/src/input-diagnosis.js'

const bytes = (text: string) => Buffer.from(text, 'utf8')
const shown = (value: Uint8Array | undefined) =>
  value === undefined ? undefined : Buffer.from(value).toString()

describe('refuseSignature', () => {
  it('names a refused format by its leading bytes, and says when it was inside gzip', () => {
    const parquet = bytes('PAR1\u0015\u0004')
    expect(() => refuseSignature('x.csv', parquet)).toThrow(
      new InputError('x.csv', 'is a Parquet file, not CSV'),
    )
    expect(() => refuseSignature('x.csv', parquet, true)).toThrow(
      'x.csv: is gzip-compressed, and what it holds is a Parquet file, not CSV',
    )
  })

  it('lets text through, including text that starts like a short signature', () => {
    expect(() => refuseSignature('x.csv', bytes('date,seller_id\n'))).not.toThrow()
    expect(() => refuseSignature('x.csv', bytes('BZh9 is a header,b\n'))).not.toThrow()
  })
})

describe('refuseEncoding', () => {
  it('recognises UTF-16 by its NUL bytes when there is no byte-order mark', () => {
    expect(() => refuseEncoding('x.csv', Buffer.from('date,price\n', 'utf16le'), '')).toThrow(
      'x.csv: is UTF-16 LE text (judged by its NUL bytes)',
    )
  })

  it('accepts UTF-8, with or without its byte-order mark', () => {
    expect(() => refuseEncoding('x.csv', bytes('\ufeffdate,price\nCafé,1\n'), '')).not.toThrow()
  })
})

describe('headerRecord', () => {
  it('is the first non-blank line, up to a line break outside quotes, after a byte-order mark', () => {
    expect(shown(headerRecord(bytes('\ufeff\n  \n"a\nb";c\nrest')))).toBe('"a\nb";c')
  })

  it('is undefined while the record may go on, unless the text is all there is', () => {
    expect(headerRecord(bytes('a;b'))).toBeUndefined()
    expect(shown(headerRecord(bytes('a;b'), true))).toBe('a;b')
  })
})

describe('refuseDelimiter', () => {
  it('refuses a header with no comma outside quotes but another delimiter, naming the likeliest', () => {
    expect(() => refuseDelimiter('x.csv', bytes('a;b;c|d'))).toThrow(
      'x.csv: looks semicolon-separated (header: "a;b;c|d")',
    )
  })

  it('lets a header with a comma through, whatever else it holds', () => {
    expect(() => refuseDelimiter('x.csv', bytes('"a;b",c;d'))).not.toThrow()
    expect(() => refuseDelimiter('x.csv', bytes('single'))).not.toThrow()
  })
})

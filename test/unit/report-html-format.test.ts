import { describe, expect, it } from 'vitest'
import { bytes, count, groupDigits, percent, place, text } from '../../shared/src/report-html-format.js'

describe('number formats', () => {
  it.each([
    [0, '0'],
    [999, '999'],
    [1000, '1,000'],
    [1234567, '1,234,567'],
    [-1234, '-1,234'],
    [1.5, '1.5'],
  ])('groupDigits(%s) is %s', (value, shown) => {
    expect(groupDigits(value)).toBe(shown)
  })

  it.each([
    [0, '0.00 %'],
    [0.0975, '9.75 %'],
    [1, '100.00 %'],
    [1e-7, '&lt; 0.01 %'],
  ])('percent(%s) is %s', (ratio, shown) => {
    expect(percent(ratio)).toBe(shown)
  })
})

describe('values as markup', () => {
  it('gives a count as grouped digits in a <data> element with its exact value and field', () => {
    expect(count(12345, 'reasons.missing_field')).toBe(
      '<data value="12345" data-field="reasons.missing_field">12,345</data>',
    )
  })

  it('adds binary units to a size of a KiB or more', () => {
    expect(bytes(1000, 'f')).toBe('<data value="1000" data-field="f">1,000</data> bytes')
    expect(bytes(1_572_864, 'f')).toBe(
      '<data value="1572864" data-field="f">1,572,864</data> bytes (1.5 MiB)',
    )
  })

  it('escapes markup and shows control characters as their code point', () => {
    expect(text('<b>"A&B\'s"</b>\u001c')).toBe(
      '&lt;b&gt;&quot;A&amp;B&#39;s&quot;&lt;/b&gt;<span class="control">U+001C</span>',
    )
  })

  it('links only a relative path, percent-encoding each segment; anything else is text', () => {
    expect(place('rejected/a b#1.csv')).toBe(
      '<a href="rejected/a%20b%231.csv"><code>rejected/a b#1.csv</code></a>',
    )
    for (const target of ['s3://bucket/key', '/abs/path', 'C:\\out', '//host/x', ''])
      expect(place(target)).toBe(`<code class="uri">${text(target)}</code>`)
  })
})

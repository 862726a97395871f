import { describe, expect, it } from 'vitest'
import { LISTING_COLUMNS, REJECT_REASONS } from '../../shared/src/contract.js'
import type { PublishedReport } from '../../shared/src/published-report.js'
import { renderDqReportHtml } from '../../shared/src/report-html.js'

/** A zero count for each of `keys`. */
function zeros<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((key) => [key, 0])) as Record<K, number>
}

/** A published report of a small run that passed, as the CLI writes it. */
function passedReport(overrides: Partial<PublishedReport> = {}): PublishedReport {
  return {
    schema_version: 1,
    status: 'succeeded',
    source_rows: 12345,
    valid_rows_after_clean: 12000,
    rows_after_dedup: 11990,
    dropped_missing_required: 300,
    dropped_non_positive_price: 45,
    duplicates_removed: 10,
    rows_without_segment: 7,
    rejected_rows: 345,
    reasons: {
      too_many_fields: 1,
      missing_field: 290,
      invalid_encoding: 2,
      invalid_date: 7,
      non_numeric_price: 40,
      non_finite_price: 1,
      non_positive_price: 4,
    },
    missing_fields: { date: 90, seller_id: 50, region: 50, category: 50, item_id: 40, price_gbp: 10 },
    invalid_encoding_fields: { date: 0, seller_id: 2, region: 0, category: 0, item_id: 0, price_gbp: 0 },
    ratios: { rejected: 345 / 12345, without_segment: 7 / 11990 },
    unmatched_category_count: 1,
    unmatched_categories: [{ category: 'Antiques', rows: 7 }],
    rows_with_empty_segment: 0,
    thresholds: { max_rejected_ratio: 0.05, max_unmatched_segment_ratio: null, breaches: [] },
    null_markers: [],
    input: {
      listings: {
        name: 'data/listings.csv',
        bytes: 1_234_567,
        sha256: 'a'.repeat(64),
        columns: ['date', 'seller_id', 'region', 'category', 'item_id', 'price_gbp'],
        ignored_columns: [],
      },
      lookup: {
        name: 'data/category_lookup.csv',
        bytes: 500,
        sha256: 'b'.repeat(64),
        rows: 12,
        categories: 11,
        ignored_empty_category: 0,
        repeated_categories: 1,
        ignored_columns: [],
      },
    },
    output: {
      run_id: '20261129T054704Z-1-abcdef',
      parquet: {
        published: true,
        path: 'out/processed/data.parquet',
        rows: 11990,
        row_groups: 1,
        compression: 'SNAPPY',
        bytes: 300_000,
        sha256: 'c'.repeat(64),
      },
      rejected: { rows: 345, bytes: 40_000, sha256: 'd'.repeat(64), path: 'out/rejected/rejected_rows.csv' },
    },
    timings_ms: { lookup: 1, classify: 2, write: 3, total: 6 },
    started_at: '2026-11-29T05:47:04.307Z',
    finished_at: '2026-11-29T05:47:04.451Z',
    ...overrides,
  }
}

const LINKS = { rejected: 'rejected/rejected_rows.csv', report: 'dq_report.json' }

/** The `<data>` elements of the page: field name to the exact value and the text shown. */
function dataElements(html: string): { field: string; value: string; shown: string }[] {
  return [...html.matchAll(/<data value="([^"]*)" data-field="([^"]*)">([^<]*)<\/data>/g)].map((m) => ({
    value: m[1] as string,
    field: m[2] as string,
    shown: m[3] as string,
  }))
}

describe('renderDqReportHtml', () => {
  it('gives every count as text and as the exact value, named by its JSON field', () => {
    const html = renderDqReportHtml(passedReport(), LINKS)
    const source = dataElements(html).find((d) => d.field === 'source_rows')
    expect(source).toEqual({ field: 'source_rows', value: '12345', shown: '12,345' })
    const rejected = dataElements(html).find((d) => d.field === 'ratios.rejected')
    expect(rejected?.value).toBe(String(345 / 12345))
    expect(rejected?.shown).toBe('2.79 %')
    const fields = new Set(dataElements(html).map((d) => d.field))
    for (const field of [
      'reasons.missing_field',
      'missing_fields.date',
      'unmatched_categories.0.rows',
      'thresholds.max_rejected_ratio',
      'output.parquet.rows',
      'output.parquet.row_groups',
      'output.rejected.rows',
      'input.listings.bytes',
      'invalid_encoding_fields.seller_id',
    ]) {
      expect(fields, field).toContain(field)
    }
  })

  it('makes no request: no script, stylesheet, image, font or remote URL, and a CSP that forbids them', () => {
    const html = renderDqReportHtml(passedReport(), LINKS)
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(|src=|https?:/i)
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`)
  })

  it('escapes category names and file names, so data cannot inject markup', () => {
    const hostile = `<img src=x onerror="alert(1)">&amp;'</td><script>alert(2)</script>`
    const html = renderDqReportHtml(
      passedReport({
        unmatched_categories: [{ category: hostile, rows: 7 }],
        input: {
          ...passedReport().input,
          listings: { ...passedReport().input.listings, name: `"><script>x</script>.csv` },
        },
      }),
      LINKS,
    )
    expect(html).not.toMatch(/<img|<script|<\/td><script/i)
    expect(html).toContain(
      '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;amp;&#39;&lt;/td&gt;&lt;script&gt;alert(2)&lt;/script&gt;',
    )
    expect(html).toContain('<title>Data-quality report: &quot;&gt;&lt;script&gt;x&lt;/script&gt;.csv</title>')
  })

  it('shows control characters in a value as their code point', () => {
    const html = renderDqReportHtml(
      passedReport({ unmatched_categories: [{ category: 'Toys\u001cGames\u0000', rows: 7 }] }),
      LINKS,
    )
    expect(html).toContain('Toys<span class="control">U+001C</span>Games<span class="control">U+0000</span>')
    expect(html.includes('\u0000') || html.includes('\u001c')).toBe(false)
  })

  it('links a relative rejects path (each segment percent-encoded) and shows an s3:// URI as text', () => {
    const cli = renderDqReportHtml(passedReport(), { rejected: 'shop #1/rejected/rejected_rows.csv' })
    expect(cli).toContain(
      '<a href="shop%20%231/rejected/rejected_rows.csv"><code>shop #1/rejected/rejected_rows.csv</code></a>',
    )
    const lambda = renderDqReportHtml(passedReport(), {
      rejected: 's3://processed/rejected/dt=2026-11-29/listings.csv',
    })
    expect(lambda).toContain('<code class="uri">s3://processed/rejected/dt=2026-11-29/listings.csv</code>')
    expect(lambda).not.toContain('<a href')
    const absolute = renderDqReportHtml(passedReport(), { rejected: '/srv/out/rejected/rejected_rows.csv' })
    expect(absolute).not.toContain('<a href')
  })

  it('after a breach, says plainly that the Parquet was not published and which one is live', () => {
    const breach = {
      status: 'threshold_breached' as const,
      thresholds: {
        max_rejected_ratio: 0.01,
        max_unmatched_segment_ratio: null,
        breaches: [{ threshold: 'max_rejected_ratio' as const, limit: 0.01, actual: 345 / 12345 }],
      },
    }
    const withLive = renderDqReportHtml(
      passedReport({
        ...breach,
        output: {
          ...passedReport().output,
          parquet: { published: false, live: 's3://processed/listings/dt=2026-11-28/shop.parquet' },
        },
      }),
      LINKS,
    )
    expect(withLive).toContain('data-status="threshold_breached"')
    expect(withLive).toContain("This run's Parquet was <em>not</em> published.")
    expect(withLive).toContain('s3://processed/listings/dt=2026-11-28/shop.parquet')
    expect(withLive).toContain('max_rejected_ratio 2.79 % &gt; 1.00 %')
    expect(withLive).toContain('<tr class="breached" data-threshold="max_rejected_ratio">')
    expect(withLive).not.toContain('output.parquet.rows')

    const noneLive = renderDqReportHtml(
      passedReport({
        ...breach,
        output: { ...passedReport().output, parquet: { published: false, live: null } },
      }),
      LINKS,
    )
    expect(noneLive).toContain('No Parquet is published for this input.')
  })

  it('says "1 row was" and "1 distinct category is", not "1 rows were"', () => {
    const html = renderDqReportHtml(
      passedReport({ rows_after_dedup: 1, rejected_rows: 1, unmatched_category_count: 1 }),
      LINKS,
    )
    expect(html).toContain('data-field="rows_after_dedup">1</data> row was published to Parquet.')
    expect(html).toContain('data-field="rejected_rows">1</data> row was rejected:')
    expect(html).toContain(
      'data-field="unmatched_category_count">1</data> distinct category is not in the lookup',
    )
    expect(html).not.toMatch(/>1<\/data> rows were/)
  })

  it('renders a run with no rows without dividing by zero', () => {
    const zero = passedReport({
      source_rows: 0,
      valid_rows_after_clean: 0,
      rows_after_dedup: 0,
      dropped_missing_required: 0,
      dropped_non_positive_price: 0,
      duplicates_removed: 0,
      rows_without_segment: 0,
      rejected_rows: 0,
      reasons: zeros(REJECT_REASONS),
      missing_fields: zeros(LISTING_COLUMNS),
      invalid_encoding_fields: zeros(LISTING_COLUMNS),
      ratios: { rejected: 0, without_segment: 0 },
      unmatched_category_count: 0,
      unmatched_categories: [],
    })
    const html = renderDqReportHtml(zero, LINKS)
    expect(html).not.toMatch(/NaN|Infinity|undefined/)
    expect(html).toContain('No row was rejected.')
    expect(html).toContain('Every category was in the lookup')
  })

  it('lists past the charted categories, and says how many the report did not list', () => {
    const many = Array.from({ length: 100 }, (_, i) => ({ category: `c${i}`, rows: 200 - i }))
    const html = renderDqReportHtml(
      passedReport({ unmatched_category_count: 130, unmatched_categories: many }),
      LINKS,
    )
    const fields = dataElements(html).map((d) => d.field)
    expect(fields).toContain('unmatched_categories.99.rows')
    expect(html).toContain('the report lists the 100 most frequent; 30 more are not listed')
  })
})

/**
 * The data-quality report as one HTML page, for people: the JSON report is
 * for programs. The page is self-contained and makes no request at all: CSS
 * and SVG are inline, it names no font, script, image or stylesheet, and a
 * Content-Security-Policy of `default-src 'none'` makes any stray reference
 * fail closed rather than reach the network. Every number on it is text in a
 * `<data>` element whose `value` is the JSON's number and whose
 * `data-field` names it (`source_rows`, `reasons.missing_field`,
 * `unmatched_categories.0.rows`, ...), so a reader, a screen reader and a
 * test all get the same figures; the SVG bars beside them are decoration
 * (`aria-hidden`). Every string from the data (file names, categories,
 * paths) is HTML-escaped, and control characters are shown as `U+001C`.
 *
 * Length: over 250 lines on purpose: it is the page's template, one function per
 * section in page order, read top to bottom as the page is. The value
 * formatting (report-html-format.ts) and the stylesheet and bars
 * (report-html-style.ts) are apart.
 */
import { bucketOf, LISTING_COLUMNS, REJECT_REASONS, type RejectReason } from './contract.js'
import type { PublishedParquet, PublishedReport } from './published-report.js'
import {
  bytes,
  count,
  fileName,
  hash,
  percent,
  place,
  plural,
  ratioData,
  text,
} from './report-html-format.js'
import { barTable, ratioBar, STYLE, section } from './report-html-style.js'

/**
 * Where the page points to. A relative path (`rejected/rejected_rows.csv`,
 * `/`-separated) becomes a link, relative to the page; anything else (an
 * `s3://` URI, an absolute path) is shown as text to copy, since a browser
 * cannot open it from the page.
 */
export interface ReportLinks {
  /** The rejected-rows file. */
  rejected: string
  /**
   * The JSON report this page shows.
   * @default undefined (not shown)
   */
  report?: string
}

/** What each reject reason means, in the words the page uses. */
export const REJECT_REASON_LABELS: Readonly<Record<RejectReason, string>> = {
  too_many_fields: 'More fields than the header',
  missing_field: 'A required field is empty or absent',
  invalid_encoding: 'A required field is not valid UTF-8',
  invalid_date: 'Date is not a real YYYY-MM-DD date',
  non_numeric_price: 'Price is not a number',
  non_finite_price: 'Price is not finite',
  non_positive_price: 'Price is zero or less',
}

/** How many unmatched categories get a bar; the table below the chart lists all the report names. */
export const UNMATCHED_CHARTED = 20

/**
 * Renders the data-quality report as one self-contained HTML page.
 *
 * @param report - the report as published (with `output.parquet.published`)
 * @param links - where the rejects file (and the JSON) are, seen from the page
 * @returns the page, UTF-8 text starting with `<!doctype html>`
 */
export function renderDqReportHtml(report: PublishedReport, links: ReportLinks): string {
  const breached = report.status === 'threshold_breached'
  const title = `Data-quality report: ${report.input.listings.name}`
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="referrer" content="no-referrer">
<title>${text(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header>
<h1>Data-quality report <span class="file">${text(report.input.listings.name)}</span></h1>
${statusBanner(report, breached)}
<p class="when">Run ${report.output.run_id === undefined ? '' : `<code>${text(report.output.run_id)}</code> `}from ${text(report.started_at)} to ${text(report.finished_at)} (${count(report.timings_ms.total, 'timings_ms.total')} ms)</p>
</header>
${rowFlow(report)}
${thresholdSection(report)}
${rejectSection(report, links)}
${missingSection(report)}
${unmatchedSection(report)}
${factsSection(report, links)}
</main>
</body>
</html>
`
}

/** The one sentence that says what happened, first on the page. */
function statusBanner(report: PublishedReport, breached: boolean): string {
  const parquet = report.output.parquet
  if (!breached && parquet.published) {
    return `<p class="status ok" data-status="succeeded"><strong>Passed.</strong> ${count(report.rows_after_dedup, 'rows_after_dedup')} ${plural(report.rows_after_dedup, 'row was', 'rows were')} published to Parquet.</p>`
  }
  const breaches = report.thresholds.breaches
    .map((b) => `${text(b.threshold)} ${percent(b.actual)} &gt; ${percent(b.limit)}`)
    .join('; ')
  return `<p class="status breach" data-status="threshold_breached"><strong>Threshold breached${breaches ? ` (${breaches})` : ''}.</strong> ${notPublished(parquet)} The rejects and this report were published.</p>`
}

/** After a breach: plainly, that this run's Parquet was withheld and which one readers still find. */
function notPublished(parquet: PublishedParquet): string {
  const live = parquet.published ? null : parquet.live
  const kept =
    live === null
      ? 'No Parquet is published for this input.'
      : `The live Parquet is still <code data-field="output.parquet.live">${text(live)}</code>, from an earlier run.`
  return `This run's Parquet was <em>not</em> published. ${kept}`
}

/** Source rows to output rows, step by step. */
function rowFlow(r: PublishedReport): string {
  const rows: [string, string, number][] = [
    ['source_rows', 'Source rows read', r.source_rows],
    ['rejected_rows', 'Rejected (in the rejects file)', r.rejected_rows],
    ['valid_rows_after_clean', 'Valid after cleaning', r.valid_rows_after_clean],
    ['duplicates_removed', 'Duplicates removed (same date and item_id)', r.duplicates_removed],
    ['rows_after_dedup', 'Rows after deduplication', r.rows_after_dedup],
    ['rows_without_segment', 'Of these, without a segment', r.rows_without_segment],
    ['rows_with_empty_segment', 'Of these, category with an empty segment', r.rows_with_empty_segment],
  ]
  return section(
    'rows',
    'Rows',
    barTable(
      rows.map(([field, label, value]) => ({ field, label: text(label), value })),
      r.source_rows,
      'Count',
    ),
  )
}

/** Each ratio against its limit. */
function thresholdSection(r: PublishedReport): string {
  const limits = [
    {
      threshold: 'max_rejected_ratio',
      ratio: 'rejected',
      label: 'Rejected rows / source rows',
      actual: r.ratios.rejected,
      limit: r.thresholds.max_rejected_ratio,
    },
    {
      threshold: 'max_unmatched_segment_ratio',
      ratio: 'without_segment',
      label: 'Rows without segment / rows after deduplication',
      actual: r.ratios.without_segment,
      limit: r.thresholds.max_unmatched_segment_ratio,
    },
  ] as const
  const scale = Math.max(...limits.map((l) => Math.max(l.actual, l.limit ?? 0)))
  const top = scale === 0 ? 1 : Math.min(1, scale * 1.25)
  const body = limits
    .map((l) => {
      const breached = r.thresholds.breaches.some((b) => b.threshold === l.threshold)
      const verdict =
        l.limit === null ? 'no limit set' : breached ? 'over the limit: breached' : 'within the limit'
      return `<tr class="${breached ? 'breached' : ''}" data-threshold="${l.threshold}">
<th scope="row">${text(l.label)}</th>
<td class="num">${ratioData(l.actual, `ratios.${l.ratio}`)}</td>
<td class="num">${l.limit === null ? `<span data-field="thresholds.${l.threshold}" data-value="null">none</span>` : ratioData(l.limit, `thresholds.${l.threshold}`)}</td>
<td>${verdict}</td>
<td class="chart">${ratioBar(l.actual, l.limit, top, breached)}</td>
</tr>`
    })
    .join('\n')
  return section(
    'thresholds',
    'Thresholds',
    `<p class="note">A ratio breaches its limit when it is strictly greater; a breach withholds the Parquet. Bars run from 0 to ${percent(top)}.</p>
<table>
<thead><tr><th scope="col">Ratio</th><th scope="col" class="num">Actual</th><th scope="col" class="num">Limit</th><th scope="col">Verdict</th><th scope="col"><span class="visually-hidden">Chart</span></th></tr></thead>
<tbody>
${body}
</tbody>
</table>`,
  )
}

function rejectSection(r: PublishedReport, links: ReportLinks): string {
  const bars = REJECT_REASONS.map((reason) => ({
    field: `reasons.${reason}`,
    label: `${text(REJECT_REASON_LABELS[reason])} <code>${reason}</code> <span class="bucket">${bucketOf(reason)}</span>`,
    value: r.reasons[reason],
  }))
  const intro =
    r.rejected_rows === 0
      ? '<p>No row was rejected.</p>'
      : `<p>${count(r.rejected_rows, 'rejected_rows')} ${plural(r.rejected_rows, 'row was', 'rows were')} rejected: ${count(r.dropped_missing_required, 'dropped_missing_required')} in <code>dropped_missing_required</code> and ${count(r.dropped_non_positive_price, 'dropped_non_positive_price')} in <code>dropped_non_positive_price</code>. Each row is in the rejects file with its line number and reason: ${place(links.rejected)}.</p>`
  return section('rejects', 'Rejects by reason', `${intro}\n${barTable(bars, r.rejected_rows, 'Rows')}`)
}

function missingSection(r: PublishedReport): string {
  const missing = LISTING_COLUMNS.map((column) => ({
    field: `missing_fields.${column}`,
    label: `<code>${column}</code>`,
    value: r.missing_fields[column],
  }))
  const encoding = LISTING_COLUMNS.map((column) => ({
    field: `invalid_encoding_fields.${column}`,
    label: `<code>${column}</code>`,
    value: r.invalid_encoding_fields[column],
  }))
  const encodingTotal = r.reasons.invalid_encoding
  return section(
    'missing',
    'Missing values by column',
    `<p>Rows rejected as <code>missing_field</code>, by the first required column that was empty or absent.${
      r.null_markers.length > 0
        ? ` Values counted as missing besides empty ones: ${r.null_markers.map((m) => `<code>${text(m)}</code>`).join(', ')}.`
        : ''
    }</p>
${barTable(missing, r.reasons.missing_field, 'Rows')}
${
  encodingTotal === 0
    ? ''
    : `<h3>Invalid UTF-8 by column</h3>
<p>Rows rejected as <code>invalid_encoding</code>, by the first required column whose bytes are not UTF-8.</p>
${barTable(encoding, encodingTotal, 'Rows')}`
}`,
  )
}

function unmatchedSection(r: PublishedReport): string {
  const listed = r.unmatched_categories
  if (r.unmatched_category_count === 0) {
    return section(
      'unmatched',
      'Unmatched categories',
      `<p>Every category was in the lookup (${count(0, 'unmatched_category_count')} unmatched).</p>`,
    )
  }
  const bars = listed.slice(0, UNMATCHED_CHARTED).map((u, index) => ({
    field: `unmatched_categories.${index}.rows`,
    label: `<span class="category" data-category-index="${index}">${text(u.category)}</span>`,
    value: u.rows,
  }))
  const rest = listed.slice(UNMATCHED_CHARTED)
  const restTable =
    rest.length === 0
      ? ''
      : `<details><summary>${rest.length} more listed in the report</summary>
<table><thead><tr><th scope="col">Category</th><th scope="col" class="num">Rows</th></tr></thead><tbody>
${rest
  .map(
    (u, i) =>
      `<tr><th scope="row"><span class="category" data-category-index="${i + UNMATCHED_CHARTED}">${text(u.category)}</span></th><td class="num">${count(u.rows, `unmatched_categories.${i + UNMATCHED_CHARTED}.rows`)}</td></tr>`,
  )
  .join('\n')}
</tbody></table></details>`
  const unlisted = r.unmatched_category_count - listed.length
  return section(
    'unmatched',
    'Unmatched categories',
    `<p>${count(r.unmatched_category_count, 'unmatched_category_count')} distinct ${plural(r.unmatched_category_count, 'category is', 'categories are')} not in the lookup; their rows have no segment. Output rows per category, most first${unlisted > 0 ? ` (the report lists the ${listed.length} most frequent; ${unlisted} more are not listed)` : ''}.</p>
${barTable(bars, Math.max(...listed.map((u) => u.rows)), 'Rows')}
${restTable}`,
  )
}

/** The input and output files: names, sizes, hashes, rows. */
function factsSection(r: PublishedReport, links: ReportLinks): string {
  const { listings, lookup } = r.input
  const parquet = r.output.parquet
  const rejected = r.output.rejected
  const input = `<h3>Input</h3>
<table class="facts">
<tbody>
<tr><th scope="row">Listings</th><td>${fileName(listings.name)}${r.source ? ` <span class="note">(s3://${text(r.source.bucket)}/${text(r.source.key)}, ETag ${text(r.source.etag)}${r.source.versionId ? `, version ${text(r.source.versionId)}` : ''})</span>` : ''}</td></tr>
<tr><th scope="row">Size</th><td>${bytes(listings.bytes, 'input.listings.bytes')}</td></tr>
<tr><th scope="row">SHA-256</th><td>${hash(listings.sha256, 'input.listings.sha256')}</td></tr>
<tr><th scope="row">Columns</th><td>${listings.columns.map((c) => `<code>${text(c)}</code>`).join(', ')}${listings.ignored_columns.length > 0 ? ` <span class="note">(ignored: ${listings.ignored_columns.map((c) => `<code>${text(c)}</code>`).join(', ')})</span>` : ''}</td></tr>
<tr><th scope="row">Lookup</th><td>${fileName(lookup.name)}</td></tr>
<tr><th scope="row">Size</th><td>${bytes(lookup.bytes, 'input.lookup.bytes')}</td></tr>
<tr><th scope="row">SHA-256</th><td>${hash(lookup.sha256, 'input.lookup.sha256')}</td></tr>
<tr><th scope="row">Lookup rows</th><td>${count(lookup.rows, 'input.lookup.rows')} rows, ${count(lookup.categories, 'input.lookup.categories')} categories (${count(lookup.ignored_empty_category, 'input.lookup.ignored_empty_category')} with an empty category ignored, ${count(lookup.repeated_categories, 'input.lookup.repeated_categories')} repeated)</td></tr>
</tbody>
</table>`
  const parquetRows = parquet.published
    ? `<tr><th scope="row">Parquet</th><td><strong>Published</strong>${parquet.path === undefined ? '' : ` at <code data-field="output.parquet.path">${text(parquet.path)}</code>`}</td></tr>
<tr><th scope="row">Rows</th><td>${count(parquet.rows, 'output.parquet.rows')} in ${count(parquet.row_groups, 'output.parquet.row_groups')} row group${parquet.row_groups === 1 ? '' : 's'}, ${text(parquet.compression)}</td></tr>
<tr><th scope="row">Size</th><td>${bytes(parquet.bytes, 'output.parquet.bytes')}</td></tr>
<tr><th scope="row">SHA-256</th><td>${hash(parquet.sha256, 'output.parquet.sha256')}</td></tr>`
    : `<tr><th scope="row">Parquet</th><td><strong>Not published</strong> (threshold breached). ${
        parquet.live === null
          ? 'No Parquet is live for this input.'
          : `Live: <code>${text(parquet.live)}</code>${parquet.live_source_version ? ` <span class="note">(source ETag ${text(parquet.live_source_version.etag)})</span>` : ''}, an earlier run's.`
      }</td></tr>`
  const output = `<h3>Output</h3>
<table class="facts">
<tbody>
${parquetRows}
<tr><th scope="row">Rejects</th><td>${place(links.rejected)}</td></tr>
<tr><th scope="row">Rejected rows</th><td>${count(rejected.rows, 'output.rejected.rows')}</td></tr>
<tr><th scope="row">Size</th><td>${bytes(rejected.bytes, 'output.rejected.bytes')}</td></tr>
<tr><th scope="row">SHA-256</th><td>${hash(rejected.sha256, 'output.rejected.sha256')}</td></tr>
${links.report === undefined ? '' : `<tr><th scope="row">JSON report</th><td>${place(links.report)}</td></tr>`}
</tbody>
</table>`
  const timings = `<p class="note">Timings: lookup ${count(r.timings_ms.lookup, 'timings_ms.lookup')} ms, classify ${count(r.timings_ms.classify, 'timings_ms.classify')} ms, write ${count(r.timings_ms.write, 'timings_ms.write')} ms. Report schema version ${count(r.schema_version, 'schema_version')}.</p>`
  return section('files', 'Files', `${input}\n${output}\n${timings}`)
}

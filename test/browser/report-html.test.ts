import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nextManifest, reportLocations } from '../../lambdas/ingest/src/live-version.js'
import { outputKeysFor } from '../../lambdas/ingest/src/output-keys.js'
import { LISTING_COLUMNS, REJECT_REASONS } from '../../shared/src/contract.js'
import { type PublishedReport, publishedReport } from '../../shared/src/published-report.js'
import { type ReportLinks, renderDqReportHtml } from '../../shared/src/report-html.js'
import { cli, HEADER, removeWorkspaces, workspace, write } from '../cli/run-cli.js'
import { runOnText } from '../helpers/sources.js'

/*
 * The HTML report in a real browser: Debian's Chromium, driven by
 * playwright-core with no browser download. Each page is rendered from the
 * JSON report the built CLI prints (--json), opened from a file, and checked
 * for console errors, page errors and requests (there must be none but the
 * page itself), and for every number on it against the JSON.
 */

const CHROMIUM = '/usr/bin/chromium'
const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]
/** Set to a folder to keep full-page screenshots of each page for a look (never compared). */
const SCREENSHOTS = process.env.REPORT_SCREENSHOTS_DIR

const installed = existsSync(CHROMIUM)
if (!installed && process.env.CI) {
  throw new Error(
    `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium), as .ci/run does`,
  )
}

/** What loading one page produced, besides the page. */
interface Visit {
  page: Page
  problems: string[]
  requests: string[]
}

describe.skipIf(!installed)('the HTML data-quality report in Chromium', () => {
  let browser: Browser
  let dir: string

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS })
    dir = workspace()
  })

  afterAll(async () => {
    await browser?.close()
    removeWorkspaces()
  })

  /** Runs the built CLI with --json and returns the report it published. */
  function runReport(args: string[], expectedStatus: number): PublishedReport {
    const run = cli(['--quiet', '--json', ...args], dir)
    expect(run.status, run.stderr).toBe(expectedStatus)
    return JSON.parse(run.stdout) as PublishedReport
  }

  /** Writes the page for `report` and opens it, recording every console error, page error and request. */
  async function visit(
    name: string,
    report: PublishedReport,
    links: ReportLinks = { rejected: 'rejected/rejected_rows.csv', report: 'dq_report.json' },
  ): Promise<Visit> {
    const file = join(dir, `${name}.html`)
    writeFileSync(file, renderDqReportHtml(report, links))
    return open(name, file)
  }

  /** Opens a page file, recording every console error, page error and request. */
  async function open(name: string, file: string): Promise<Visit> {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } })
    const problems: string[] = []
    const requests: string[] = []
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning')
        problems.push(`console ${message.type()}: ${message.text()}`)
    })
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
    page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`))
    page.on('request', (request) => requests.push(request.url()))
    const response = await page.goto(pathToFileURL(file).href, { waitUntil: 'load' })
    expect(response?.ok() ?? true).toBe(true)
    if (SCREENSHOTS) {
      mkdirSync(SCREENSHOTS, { recursive: true })
      await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true })
    }
    expect(requests, 'the page itself is the only request').toEqual([pathToFileURL(file).href])
    return { page, problems, requests }
  }

  /** Every `<data>` on the page: the JSON field it names, its exact value, the text shown, whether it is visible. */
  async function numbersOn(page: Page) {
    const elements = page.locator('data[data-field]')
    const found = await elements.evaluateAll((nodes) =>
      nodes.map((node) => ({
        field: node.getAttribute('data-field') ?? '',
        value: (node as unknown as { value: string }).value,
        shown: node.textContent ?? '',
        // Laid out (offsetParent) or inside the collapsed list of further categories.
        visible:
          (node as unknown as { offsetParent: unknown }).offsetParent !== null ||
          node.closest('details') !== null,
      })),
    )
    return found
  }

  /** The value at a dotted path (`reasons.missing_field`, `unmatched_categories.0.rows`) of the report. */
  function at(report: PublishedReport, path: string): unknown {
    return path.split('.').reduce<unknown>((value, key) => (value as Record<string, unknown>)?.[key], report)
  }

  /**
   * Asserts that every number the page shows equals the JSON's, and that the
   * page shows each of `fields`: counts shown digit for digit (thousands
   * grouped), ratios as percentages to 0.01.
   */
  async function expectNumbersMatch(page: Page, report: PublishedReport, fields: string[]): Promise<void> {
    const numbers = await numbersOn(page)
    for (const number of numbers) {
      const expected = at(report, number.field)
      expect(typeof expected, number.field).toBe('number')
      expect(Number(number.value), number.field).toBe(expected)
      expect(number.visible, `${number.field} is visible`).toBe(true)
      if (number.shown.endsWith('%')) {
        const shown = number.shown.startsWith('<') ? 0 : Number.parseFloat(number.shown) / 100
        expect(Math.abs(shown - (expected as number)), number.field).toBeLessThanOrEqual(0.00005 + 1e-12)
      } else {
        expect(number.shown.replaceAll(',', ''), number.field).toBe(String(expected))
      }
    }
    const shown = new Set(numbers.map((n) => n.field))
    for (const field of fields) expect(shown, `the page shows ${field}`).toContain(field)
  }

  /** Fields every page shows, whatever the run. */
  const ALWAYS = [
    'source_rows',
    'valid_rows_after_clean',
    'rows_after_dedup',
    'duplicates_removed',
    'rows_without_segment',
    'rejected_rows',
    'unmatched_category_count',
    'ratios.rejected',
    'ratios.without_segment',
    ...REJECT_REASONS.map((reason) => `reasons.${reason}`),
    ...LISTING_COLUMNS.map((column) => `missing_fields.${column}`),
    'input.listings.bytes',
    'input.lookup.bytes',
    'input.lookup.rows',
    'output.rejected.rows',
    'output.rejected.bytes',
  ]

  it('shows the sample run: no errors, no requests, every number equal to the JSON', async () => {
    const report = runReport([], 0)
    const { page, problems } = await visit('sample', report)
    expect(problems).toEqual([])
    await expectNumbersMatch(page, report, [
      ...ALWAYS,
      'dropped_missing_required',
      'dropped_non_positive_price',
      'output.parquet.rows',
      'output.parquet.row_groups',
      'output.parquet.bytes',
      ...report.unmatched_categories.map((_, i) => `unmatched_categories.${i}.rows`),
    ])
    expect(await page.locator('[data-status]').getAttribute('data-status')).toBe('succeeded')
    const categories = await page.locator('.category').allTextContents()
    expect(categories).toEqual(report.unmatched_categories.map((u) => u.category))
    for (const field of ['input.listings.sha256', 'output.parquet.sha256', 'output.rejected.sha256']) {
      expect(await page.locator(`[data-field="${field}"]`).textContent(), field).toBe(at(report, field))
    }
    const rejects = page.locator('a[href="rejected/rejected_rows.csv"]')
    expect(await rejects.count()).toBeGreaterThan(0)
    await page.close()
  })

  it('is published by the CLI beside dq_report.json, with numbers equal to it and a working link to the rejects', async () => {
    const out = join(dir, 'published')
    const report = runReport(['--out', out], 0)
    const file = join(out, 'dq_report.html')
    expect(existsSync(file)).toBe(true)
    expect(JSON.parse(readFileSync(join(out, 'dq_report.json'), 'utf8'))).toEqual(report)
    const { page, problems } = await open('published', file)
    expect(problems).toEqual([])
    await expectNumbersMatch(page, report, [...ALWAYS, 'output.parquet.rows'])
    const href = await page.locator('a[href="rejected/rejected_rows.csv"]').first().getAttribute('href')
    expect(existsSync(join(out, href ?? 'missing'))).toBe(true)
    await page.close()
  })

  it('shows a breach: the Parquet not published, what is live, the breached ratio, numbers equal', async () => {
    runReport([], 0) // an earlier good run, so a Parquet is live
    const report = runReport(['--max-rejected-ratio', '0.05'], 3)
    expect(report.output.parquet.published).toBe(false)
    const { page, problems } = await visit('breach', report)
    expect(problems).toEqual([])
    await expectNumbersMatch(page, report, [...ALWAYS, 'thresholds.max_rejected_ratio'])
    const status = page.locator('[data-status]')
    expect(await status.getAttribute('data-status')).toBe('threshold_breached')
    expect(await status.textContent()).toMatch(/Threshold breached .*This run's Parquet was not published\./s)
    const live = report.output.parquet.published ? undefined : report.output.parquet.live
    expect(live).toEqual(expect.any(String))
    expect(await page.locator('[data-field="output.parquet.live"]').textContent()).toBe(live)
    expect(await page.locator('tr.breached').getAttribute('data-threshold')).toBe('max_rejected_ratio')
    expect(await page.locator('[data-field^="output.parquet.rows"]').count()).toBe(0)
    await page.close()
  })

  it('shows a run with no rows', async () => {
    write(dir, 'empty.csv', `${HEADER}\n`)
    const report = runReport(['--listings', 'empty.csv', '--out', 'out-empty'], 0)
    expect(report.source_rows).toBe(0)
    const { page, problems } = await visit('zero', report)
    expect(problems).toEqual([])
    await expectNumbersMatch(page, report, [...ALWAYS, 'output.parquet.rows'])
    expect(await page.locator('main').textContent()).not.toMatch(/NaN|Infinity|undefined/)
    await page.close()
  })

  it('shows category names that are HTML as text, running nothing and loading nothing', async () => {
    const hostile = [
      '<img src=x onerror="console.error(1)">',
      '</td><script>console.error(2)</script>',
      '"><svg onload=console.error(3)>',
      'A&amp;B',
    ]
    const rows = hostile.map(
      (category, i) => `2024-01-0${i + 1},s${i},UK,"${category.replaceAll('"', '""')}",i${i},1.5`,
    )
    write(dir, 'hostile.csv', `${HEADER}\n${rows.join('\n')}\n`)
    const report = runReport(['--listings', 'hostile.csv', '--out', 'out-hostile'], 0)
    const { page, problems } = await visit('hostile', report)
    expect(problems).toEqual([])
    expect(await page.locator('.category').allTextContents()).toEqual(
      report.unmatched_categories.map((u) => u.category),
    )
    expect(report.unmatched_categories.map((u) => u.category).sort()).toEqual([...hostile].sort())
    expect(await page.locator('img, script, main svg:not(.bar)').count()).toBe(0)
    await page.close()
  })

  it("shows the Lambda's page after a breach: the live Parquet's s3:// URI and the rejects' as text", async () => {
    // The report as the Lambda publishes it (publish-outputs.ts): a good version, then a breaching one.
    const [listings, lookup] = [readFileSync('data/listings.csv'), readFileSync('data/category_lookup.csv')]
    const good = (await runOnText(listings, lookup)).report
    const breach = (await runOnText(listings, lookup, { thresholds: { maxRejectedRatio: 0.05 } })).report
    const keys = outputKeysFor('incoming/listings.csv', 'incoming/', new Date('2026-11-29T06:00:00Z'))
    const v1 = { bucket: 'raw', key: 'incoming/listings.csv', etag: 'etag-v1', versionId: 'v1' }
    const v2 = { ...v1, etag: 'etag-v2', versionId: 'v2' }
    const before = nextManifest(undefined, { source: v1, keys, report: good })
    const manifest = nextManifest(before, { source: v2, keys, report: breach })
    const report = { ...publishedReport(breach, reportLocations(keys, 'processed', manifest)), source: v2 }
    const { page, problems } = await visit('lambda-breach', report, {
      rejected: report.output.rejected.path,
      report: `s3://processed/${keys.report}`,
    })
    expect(problems).toEqual([])
    await expectNumbersMatch(page, report, [...ALWAYS, 'thresholds.max_rejected_ratio'])
    expect(await page.locator('[data-field="output.parquet.live"]').textContent()).toBe(
      `s3://processed/${keys.parquet}`,
    )
    expect(await page.locator('a').count()).toBe(0)
    expect(await page.locator('code.uri').allTextContents()).toEqual([
      `s3://processed/${keys.rejected}`,
      `s3://processed/${keys.rejected}`,
      `s3://processed/${keys.report}`,
    ])
    expect(await page.locator('main').textContent()).toContain('source ETag etag-v1')
    await page.close()
  })
})

import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { fencedBlocks, prose, userDocs } from './markdown.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const readme = readFileSync(join(root, 'README.md'), 'utf8')
const scripts = Object.keys(
  (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
    .scripts,
)

/** The README's shell commands, one per line, comments removed. */
function readmeCommands(): string[] {
  return fencedBlocks(readme, ['sh'])
    .flatMap((block) => block.split('\n'))
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '')
}

/** The integer at the start of a README table cell, and the `N word` pairs in its text. */
function cell(row: string): { value: number; text: string } {
  const text = row.split('|')[2]?.trim() ?? ''
  return { value: Number(/^\d+/.exec(text)?.[0]), text }
}

/** The README's sample table: report field → its cell. */
function sampleTable(): Map<string, { value: number; text: string }> {
  const rows = readme.split('\n').filter((line) => /^\|\s*`\w+`\s*\|/.test(line))
  return new Map(rows.map((row) => [/`(\w+)`/.exec(row)?.[1] ?? '', cell(row)]))
}

describe('the README says only what the code does', () => {
  it('stays short (under 10 KiB): what it is, quick start, CLI, layout, links; the rest is in docs/', () => {
    expect(Buffer.byteLength(readme)).toBeLessThan(10 * 1024)
  })

  it('names only npm scripts that package.json defines', () => {
    const named = userDocs(root).flatMap((doc) =>
      [...doc.text.matchAll(/npm run ([\w:-]+)/g)].map((match) => `${doc.path}: ${match[1]}`),
    )
    expect(named.length).toBeGreaterThan(5)
    expect(named.filter((entry) => !scripts.includes(entry.split(': ')[1] ?? ''))).toEqual([])
  })

  it('documents every CLI flag that --help lists, and no other', () => {
    const help = spawnSync(process.execPath, [join(root, 'bin/listings-ingest.mjs'), '--help'], {
      encoding: 'utf8',
    }).stdout
    const helpFlags = new Set([...help.matchAll(/^\s+(?:-\w, )?(--[\w-]+)/gm)].map((match) => match[1]))
    const tableFlags = new Set(
      [...prose(readme).matchAll(/^\|\s*(?:`-\w`, )?`(--[\w-]+)/gm)].map((match) => match[1]),
    )
    expect(helpFlags.size).toBeGreaterThan(10)
    expect([...tableFlags].sort()).toEqual([...helpFlags].sort())
  })

  it("runs the quick start's and the CLI section's local commands as written", { timeout: 60_000 }, () => {
    const commands = readmeCommands()
    expect(commands).toContain('npm run ingest')
    const out = mkdtempSync(join(tmpdir(), 'readme-'))
    const full = commands.find((line) => line.startsWith('npm run ingest -- --listings data/'))
    expect(full).toBeDefined()
    // The one change: the output folder, so the run does not touch the clone's out/.
    const args = (full ?? '').replace(/--out \S+/, `--out ${out}`).split(/\s+/)
    const run = spawnSync(args[0] ?? 'npm', args.slice(1), { cwd: root, encoding: 'utf8', env: process.env })
    expect(run.stderr).not.toMatch(/error/i)
    expect(run.status).toBe(0)
    const version = spawnSync('npx', ['listings-ingest', '--version'], { cwd: root, encoding: 'utf8' })
    expect(version.status).toBe(0)
    expect(version.stdout.trim()).toMatch(/^listings-ingest \d+\.\d+\.\d+/)

    const report = JSON.parse(readFileSync(join(out, 'dq_report.json'), 'utf8')) as Record<
      string,
      unknown
    > & {
      reasons: Record<string, number>
      unmatched_categories: { category: string; rows: number }[]
      rows_with_empty_segment: number
    }
    const table = sampleTable()
    expect([...table.keys()]).toEqual([
      'source_rows',
      'valid_rows_after_clean',
      'rows_after_dedup',
      'dropped_missing_required',
      'dropped_non_positive_price',
      'rows_without_segment',
    ])
    for (const [field, { value }] of table) expect({ field, value }).toEqual({ field, value: report[field] })

    const says = (field: string, pattern: RegExp) => Number(pattern.exec(table.get(field)?.text ?? '')?.[1])
    expect(says('rows_after_dedup', /(\d+) duplicates removed/)).toBe(report.duplicates_removed)
    expect(says('dropped_missing_required', /(\d+) missing fields/)).toBe(report.reasons.missing_field)
    expect(says('dropped_missing_required', /(\d+) with too many fields/)).toBe(
      report.reasons.too_many_fields,
    )
    expect(says('dropped_missing_required', /(\d+) invalid dates/)).toBe(report.reasons.invalid_date)
    expect(says('dropped_non_positive_price', /(\d+) non-numeric/)).toBe(report.reasons.non_numeric_price)
    expect(says('dropped_non_positive_price', /(\d+) non-finite/)).toBe(report.reasons.non_finite_price)
    expect(says('dropped_non_positive_price', /(\d+) zero or negative/)).toBe(
      report.reasons.non_positive_price,
    )
    expect(says('rows_without_segment', /(\d+) `Crafts` rows have an empty segment/)).toBe(
      report.rows_with_empty_segment,
    )
    for (const { category, rows } of report.unmatched_categories) {
      expect(table.get('rows_without_segment')?.text).toContain(`\`${category}\` ${rows}`)
    }
    const published = readme.match(/out\/processed\/data\.parquet\s+(\d+) rows[\s\S]*?(\d+) rejected rows/)
    expect([Number(published?.[1]), Number(published?.[2])]).toEqual([
      report.rows_after_dedup,
      report.rejected_rows,
    ])
  })
})

/** The first capture of `pattern` (a global RegExp) in every tracked TypeScript source under `folder`. */
function namesInSources(folder: string, pattern: RegExp): Set<string> {
  const sources = execFileSync('git', ['ls-files', folder], { cwd: root, encoding: 'utf8' })
    .split('\n')
    .filter((path) => path.endsWith('.ts'))
  return new Set(
    sources.flatMap((path) =>
      [...readFileSync(join(root, path), 'utf8').matchAll(pattern)].map((match) => match[1] ?? ''),
    ),
  )
}

describe('the docs and the CDK context agree', () => {
  /** The context keys the stack reads, from its sources (`whole('key'…`, `text('key')`, `tryGetContext('key')`…). */
  const readKeys = namesInSources('infra/src', /\b(?:text|whole|decimal|ratio|tryGetContext)\('([A-Za-z]+)'/g)
  const docs = userDocs(root)

  it('every -c key=value in the docs is a key the stack reads', () => {
    expect(readKeys.size).toBeGreaterThan(15)
    const named = docs.flatMap((doc) =>
      [...doc.text.matchAll(/-c ([A-Za-z]+)=/g)].map((match) => match[1] ?? ''),
    )
    expect(named.length).toBeGreaterThan(5)
    expect(named.filter((key) => !readKeys.has(key))).toEqual([])
  })

  it('every key the stack reads is documented', () => {
    const text = docs.map((doc) => doc.text).join('\n')
    expect([...readKeys].filter((key) => !text.includes(`\`${key}\``))).toEqual([])
  })
})

describe("the docs and the Lambda's environment agree", () => {
  it('every variable the object-processing program reads is documented', () => {
    const read = namesInSources('lambdas/ingest/src', /\benv(?:\.|, '|\[')([A-Z][A-Z0-9_]+)/g)
    expect(read.size).toBeGreaterThan(8)
    const text = userDocs(root)
      .map((doc) => doc.text)
      .join('\n')
    expect([...read].filter((name) => !text.includes(`\`${name}\``) && !text.includes(`${name}=`))).toEqual(
      [],
    )
  })
})

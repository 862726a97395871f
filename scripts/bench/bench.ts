import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { DuckDBInstance } from '@duckdb/node-api'

/**
 * `npm run bench -- --rows 1000000 [--shape long-ids] [--cpus 1] [--seed 1] [--repeat 5]`
 *
 * Generates deterministic messy listings (cached under .bench/), then runs
 * on the same file, in interleaved pairs (ours, DuckDB, ours, DuckDB, ...):
 * our CLI, started with the Node flags `npm run ingest` uses, and DuckDB
 * executing the same contract in SQL. Interleaving puts both tools of a pair
 * under the same machine load, so the ratio of each pair means something on
 * a shared, noisy machine, and the median of those ratios is the figure.
 * Checks both agree on the five counts and on every row and its position,
 * and prints each pair, the medians, peak RSS and the load average. Exits 1
 * if the outputs disagree.
 *
 * Length: over 250 lines, a script read top to bottom (arguments, data,
 * interleaved pairs, checks, the printout); DuckDB's side of the contract is
 * duckdb-contract.ts.
 */
const USAGE = `Usage: npm run bench -- [--rows N] [--shape S] [--seed S] [--cpus C] [--repeat R] [--lookup FILE]

Runs our CLI and DuckDB (the same contract in SQL) on one generated file in
interleaved pairs, checks that they agree on counts, rows and order, and
prints each pair's wall times and ratio, the medians, peak RSS and the load.
  --rows N       rows to generate (default 1000000; cached under .bench/)
  --shape S      generator shape: sample (default) or long-ids (longer ids,
                 more distinct keys, fewer duplicates)
  --seed S       generator seed (default 1)
  --cpus C       pin both tools to C cores with taskset (default: all)
  --repeat R     interleaved pairs to run; medians are reported (default 1)
  --lookup FILE  category lookup (default data/category_lookup.csv)
  -h, --help     show this help`

/** One line and the usage hint, exit 2: a bad flag is not a crash. */
function usageError(message: string): never {
  process.stderr.write(`bench: ${message} (see --help)\n`)
  process.exit(2)
}

function parseBenchArgs() {
  try {
    return parseArgs({
      options: {
        rows: { type: 'string', default: '1000000' },
        seed: { type: 'string', default: '1' },
        shape: { type: 'string', default: 'sample' },
        cpus: { type: 'string' },
        lookup: { type: 'string', default: 'data/category_lookup.csv' },
        repeat: { type: 'string', default: '1' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values
  } catch (error) {
    return usageError(error instanceof Error ? error.message : String(error))
  }
}
const values = parseBenchArgs()
if (values.help) {
  process.stdout.write(`${USAGE}\n`)
  process.exit(0)
}
const repeat = Number(values.repeat)
if (!Number.isInteger(repeat) || repeat < 1) usageError('--repeat must be a positive whole number')
const rows = Number(values.rows)
const pinned = values.cpus === undefined ? undefined : Number(values.cpus)
if (!Number.isSafeInteger(rows) || rows < 1) usageError('--rows must be a positive whole number')
if (pinned !== undefined && !(Number.isInteger(pinned) && pinned >= 1 && pinned <= cpus().length)) {
  usageError(`--cpus must be from 1 to ${cpus().length}`)
}

const SHAPES = ['sample', 'long-ids']
if (!SHAPES.includes(values.shape)) usageError(`--shape must be one of ${SHAPES.join(', ')}`)

const work = resolve('.bench')
mkdirSync(work, { recursive: true })
const shapeSuffix = values.shape === 'sample' ? '' : `-${values.shape}`
const listings = join(work, `listings-${rows}-seed${values.seed}${shapeSuffix}.csv`)
if (!existsSync(listings)) {
  process.stderr.write(`generating ${listings}...\n`)
  const generated = spawnSync(
    process.execPath,
    [
      'scripts/generate-listings.mjs',
      '--rows',
      String(rows),
      '--seed',
      String(values.seed),
      '--shape',
      values.shape,
      '--out',
      listings,
    ],
    { stdio: 'inherit' },
  )
  if (generated.status !== 0) throw new Error('data generation failed')
}
const bytes = statSync(listings).size
const lookup = resolve(values.lookup)

interface Run {
  tool: string
  wallSeconds: number
  maxRssMb: number
  parquet: string
  counts: Record<string, number>
}

/** Runs a child, pinned to the first `pinned` cores when asked, and times it from spawn to exit. */
async function measure(
  tool: string,
  args: string[],
  resultFile: string,
): Promise<{ wallSeconds: number; maxRssMb: number; result: Record<string, unknown> }> {
  const command = pinned === undefined ? process.execPath : 'taskset'
  const commandArgs = pinned === undefined ? args : ['-c', `0-${pinned - 1}`, process.execPath, ...args]
  const start = performance.now()
  const child = spawn(command, commandArgs, {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, BENCH_RESULT: resultFile },
  })
  const code = await new Promise<number | null>((done) => child.on('exit', done))
  const wallSeconds = (performance.now() - start) / 1000
  if (code !== 0) throw new Error(`${tool} exited with ${code}`)
  const result = JSON.parse(readFileSync(resultFile, 'utf8')) as Record<string, unknown> & {
    maxRssKb: number
  }
  return { wallSeconds, maxRssMb: result.maxRssKb / 1024, result }
}

/**
 * The Node flags `npm run ingest` starts the CLI with (package.json's
 * `ingest` script), so the benchmark measures the run a user gets.
 */
function ingestNodeFlags(): string[] {
  const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> })
    .scripts
  const words = (scripts.ingest ?? '').split(/\s+/)
  return words.slice(words.indexOf('node') + 1).filter((word) => word.startsWith('--'))
}
const nodeFlags = ingestNodeFlags()

async function runOurs(): Promise<Run> {
  const out = join(work, `ours-${rows}`)
  const { wallSeconds, maxRssMb } = await measure(
    'ours',
    [
      ...nodeFlags,
      'dist/bench-ours.mjs',
      '--listings',
      listings,
      '--lookup',
      lookup,
      '--out',
      out,
      '--quiet',
    ],
    join(work, 'ours.json'),
  )
  const report = JSON.parse(readFileSync(join(out, 'dq_report.json'), 'utf8')) as Record<string, number>
  return {
    tool: 'ours (CLI)',
    wallSeconds,
    maxRssMb,
    parquet: join(out, 'processed/data.parquet'),
    counts: pickCounts(report),
  }
}

async function runDuckdb(): Promise<Run> {
  const parquet = join(work, `duckdb-${rows}.parquet`)
  const threads = String(pinned ?? cpus().length)
  const { wallSeconds, maxRssMb, result } = await measure(
    'duckdb',
    ['dist/bench-duckdb.mjs', listings, lookup, parquet, threads],
    join(work, 'duckdb.json'),
  )
  const counts = Object.fromEntries(
    Object.entries(result.counts as Record<string, string>).map(([k, v]) => [k, Number(v)]),
  )
  if (result.parallelCsv === false)
    process.stderr.write(
      "DuckDB's parallel CSV reader refused this file (null padding with a quoted line break); it ran again with parallel = false, and the time includes both attempts\n",
    )
  return { tool: 'DuckDB (SQL)', wallSeconds, maxRssMb, parquet, counts }
}

function pickCounts(report: Record<string, number>): Record<string, number> {
  const names = [
    'source_rows',
    'valid_rows_after_clean',
    'rows_after_dedup',
    'dropped_missing_required',
    'dropped_non_positive_price',
  ]
  return Object.fromEntries(names.map((name) => [name, Number(report[name])]))
}

/** Rows in one file and not the other (both ways, with multiplicity), and rows whose position differs. */
async function compare(a: string, b: string): Promise<{ onlyInOne: number; misplaced: number }> {
  const connection = await (await DuckDBInstance.create(':memory:')).connect()
  const one = async (sql: string) => Number((await connection.runAndReadAll(sql)).getRowObjectsJson()[0]?.n)
  const onlyInOne = await one(
    `SELECT count(*)::BIGINT AS n FROM ((SELECT * FROM '${a}' EXCEPT ALL SELECT * FROM '${b}') UNION ALL (SELECT * FROM '${b}' EXCEPT ALL SELECT * FROM '${a}'))`,
  )
  const misplaced = await one(
    `SELECT count(*)::BIGINT AS n FROM read_parquet('${a}', file_row_number = true) x
     FULL JOIN read_parquet('${b}', file_row_number = true) y USING (file_row_number)
     WHERE x.date IS DISTINCT FROM y.date OR x.item_id IS DISTINCT FROM y.item_id OR x.price_gbp IS DISTINCT FROM y.price_gbp
        OR x.segment IS DISTINCT FROM y.segment OR x.seller_id IS DISTINCT FROM y.seller_id`,
  )
  return { onlyInOne, misplaced }
}

process.stderr.write(
  `${rows.toLocaleString('en-GB')} rows (${values.shape}), ${(bytes / 1e6).toFixed(1)} MB${pinned ? `, pinned to ${pinned} CPU` : ''}, ${repeat} interleaved pair(s), ours with node ${nodeFlags.join(' ')}\n`,
)

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

const loadBefore = loadavg()[0] as number
const pairs: { ours: Run; duck: Run; load: number }[] = []
for (let i = 0; i < repeat; i++) {
  const ours = await runOurs()
  const duck = await runDuckdb()
  pairs.push({ ours, duck, load: loadavg()[0] as number })
}
const loadAfter = loadavg()[0] as number
const last = pairs[pairs.length - 1] as (typeof pairs)[number]
const { onlyInOne, misplaced } = await compare(last.ours.parquet, last.duck.parquet)
const sameCounts = pairs.every(
  ({ ours, duck }) =>
    JSON.stringify(ours.counts) === JSON.stringify(duck.counts) &&
    JSON.stringify(ours.counts) === JSON.stringify(last.ours.counts),
)

const ratios = pairs.map(({ ours, duck }) => ours.wallSeconds / duck.wallSeconds)
const summary = (tool: string, runs: Run[]) => {
  const wall = median(runs.map((run) => run.wallSeconds))
  const rss = median(runs.map((run) => run.maxRssMb))
  return `| ${tool} | ${wall.toFixed(2)} | ${Math.round(rows / wall).toLocaleString('en-GB')} | ${(bytes / 1e6 / wall).toFixed(1)} | ${Math.round(rss)} | ${Math.round(Math.max(...runs.map((run) => run.maxRssMb)))} |`
}
const ourRuns = pairs.map((pair) => pair.ours)
const duckRuns = pairs.map((pair) => pair.duck)
process.stdout.write(
  [
    `| pair | ours wall s | DuckDB wall s | ratio ours/DuckDB | ours peak RSS MB | DuckDB peak RSS MB | 1-min load after |`,
    `| --- | --- | --- | --- | --- | --- | --- |`,
    ...pairs.map(
      ({ ours, duck, load }, i) =>
        `| ${i + 1} | ${ours.wallSeconds.toFixed(2)} | ${duck.wallSeconds.toFixed(2)} | ${(ratios[i] as number).toFixed(2)}x | ${Math.round(ours.maxRssMb)} | ${Math.round(duck.maxRssMb)} | ${load.toFixed(1)} |`,
    ),
    '',
    `| tool | median wall s | rows/s | MB/s | median peak RSS MB | max peak RSS MB |`,
    `| --- | --- | --- | --- | --- | --- |`,
    summary('ours (CLI)', ourRuns),
    summary('DuckDB (SQL)', duckRuns),
    '',
    `ratio ours/DuckDB: wall ${median(ratios).toFixed(2)}x (median of ${pairs.length} interleaved pair(s); range ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}x), peak RSS ${(median(ourRuns.map((r) => r.maxRssMb)) / median(duckRuns.map((r) => r.maxRssMb))).toFixed(2)}x`,
    `load average (1 min, ${cpus().length} cores): ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after`,
    `counts ${sameCounts ? 'equal' : 'DIFFER'}: ${JSON.stringify(last.ours.counts)}${sameCounts ? '' : ` vs ${JSON.stringify(last.duck.counts)}`}`,
    `rows: ${onlyInOne} in only one output, ${misplaced} at different positions`,
    '',
  ].join('\n'),
)
process.exitCode = sameCounts && onlyInOne === 0 && misplaced === 0 ? 0 : 1

import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const ROOT = resolve(import.meta.dirname, '../..')
/** The built CLI (INGEST_CLI_UNDER_TEST: another build, as test/cli/run-cli.ts allows). */
const CLI = process.env.INGEST_CLI_UNDER_TEST ?? join(ROOT, 'dist', 'ingest.mjs')
const HEADER = 'date,seller_id,region,category,item_id,price_gbp'

/** One listing row of a test file: `[date, item_id, price]`; seller, region and category are fixed. */
export type Listing = readonly [date: string, itemId: string, price: number]

const scratch: string[] = []

/** A scratch directory with the shipped lookup; removed by {@link removeScratch}. */
export function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'current-table-'))
  scratch.push(dir)
  mkdirSync(join(dir, 'runs'))
  return dir
}

export function removeScratch(): void {
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true })
}

/**
 * Writes `<name>.csv` with these rows, sets its modification time (its place
 * in the source order), runs the real CLI on it into `runs/<name>` and
 * returns that output directory (`runs/<out>` when given). `extra` lines are appended as they are (to
 * make a run breach a threshold).
 */
export function publish(
  dir: string,
  name: string,
  modifiedAt: string,
  rows: readonly Listing[],
  options: { extra?: string[]; args?: string[]; expectStatus?: number; out?: string } = {},
): string {
  const csv = join(dir, `${name}.csv`)
  const lines = rows.map(([date, item, price]) => `${date},seller-${item},UK,Electronics,${item},${price}`)
  writeFileSync(csv, `${[HEADER, ...lines, ...(options.extra ?? [])].join('\n')}\n`)
  const time = new Date(modifiedAt)
  utimesSync(csv, time, time)
  const out = join(dir, 'runs', options.out ?? name)
  const result = spawnSync(
    process.execPath,
    [
      CLI,
      '--listings',
      csv,
      '--lookup',
      join(ROOT, 'data', 'category_lookup.csv'),
      '--out',
      out,
      '--quiet',
      ...(options.args ?? []),
    ],
    { encoding: 'utf8', timeout: 20_000 },
  )
  if (result.status !== (options.expectStatus ?? 0)) {
    throw new Error(`ingest of ${name} exited ${result.status}: ${result.stderr}`)
  }
  return out
}

/** The table's rows reduced to what the source order decides: key, price, source. */
export function winners(rows: Record<string, unknown>[]): string[] {
  return rows.map((row) => {
    const date = (row.date as Date).toISOString().slice(0, 10)
    const source = String(row.source_key).replace(/^.*\//, '')
    return `${date} ${String(row.item_id)} ${String(row.price_gbp)} <- ${source}`
  })
}

/**
 * The current table's semantics, proven in DuckDB with the MERGE rendered from
 * the same template Athena's statement comes from (shared/src/current-table-sql.ts),
 * over Parquet published by the real CLI.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { CURRENT_TABLE_PATH, CurrentTable, tableScan } from '../../local/src/current-table.js'
import { isSkipped, type LocalRun, readPublishedRun } from '../../local/src/published-run.js'
import { ANALYST_QUERIES } from '../../shared/src/current-table-sql.js'
import { type Listing, publish, removeScratch, scratchDir, winners } from './helpers.js'

afterAll(removeScratch)

const T1 = '2026-01-10T08:00:00.000Z'
const T2 = '2026-01-11T08:00:00.000Z'
const T3 = '2026-01-12T08:00:00.000Z'
const T0 = '2026-01-09T08:00:00.000Z'

const A: Listing[] = [
  ['2025-12-01', 'k1', 10],
  ['2025-12-02', 'k2', 20],
]
const B: Listing[] = [
  ['2025-12-01', 'k1', 11],
  ['2026-01-03', 'k3', 30],
]
const C: Listing[] = [['2025-12-02', 'k2', 22]]

/** A, B, C published with increasing modification times, and D older than all of them. */
function fixture() {
  const dir = scratchDir()
  const run = (out: string): LocalRun => {
    const read = readPublishedRun(out)
    if (isSkipped(read)) throw new Error(read.reason)
    return read
  }
  return {
    dir,
    a: run(publish(dir, 'a', T1, A)),
    b: run(publish(dir, 'b', T2, B)),
    c: run(publish(dir, 'c', T3, C)),
    d: run(
      publish(dir, 'd', T0, [
        ['2025-12-01', 'k1', 5],
        ['2026-02-04', 'k4', 40],
      ]),
    ),
  }
}

/** Two versions of `<name>.csv`, each published by the CLI (into v1/ and v2/) with its modification time. */
function twoVersions(
  name: string,
  ...versions: [[modifiedAt: string, rows: Listing[]], [modifiedAt: string, rows: Listing[]]]
): [LocalRun, LocalRun] {
  const dir = scratchDir()
  const [v1, v2] = versions.map(
    ([modifiedAt, rows], index) =>
      readPublishedRun(publish(dir, name, modifiedAt, rows, { out: `v${index + 1}` })) as LocalRun,
  )
  return [v1 as LocalRun, v2 as LocalRun]
}

async function mergedTable(runs: LocalRun[], ingestedAt = '2026-02-01T00:00:00.000Z') {
  const table = await CurrentTable.open(scratchDir(), { rebuild: true })
  const outcomes = await table.merge(runs, ingestedAt)
  return { table, outcomes }
}

describe('the MERGE keeps the newest source of each (date, item_id)', () => {
  const f = fixture()

  it('across several files: each key ends at the latest file that mentions it', async () => {
    const { table, outcomes } = await mergedTable([f.a, f.b, f.c])
    expect(winners(await table.rows())).toEqual([
      '2025-12-01 k1 11 <- b.csv',
      '2025-12-02 k2 22 <- c.csv',
      '2026-01-03 k3 30 <- b.csv',
    ])
    expect(outcomes.map((o) => o.changed)).toEqual([2, 2, 1])
    const [k1] = await table.rows()
    expect(k1).toMatchObject({
      source_version: f.b.sourceVersion,
      source_modified_at: new Date(T2),
      source_sequencer: '0'.repeat(32),
      ingested_at: new Date('2026-02-01T00:00:00.000Z'),
    })
    table.close()
  })

  it('a late older file changes no row a newer file holds, and adds only keys nobody had', async () => {
    const { table, outcomes } = await mergedTable([f.a, f.b, f.c, f.d])
    expect(winners(await table.rows())).toEqual([
      '2025-12-01 k1 11 <- b.csv',
      '2025-12-02 k2 22 <- c.csv',
      '2026-01-03 k3 30 <- b.csv',
      '2026-02-04 k4 40 <- d.csv',
    ])
    expect(outcomes.at(-1)?.changed).toBe(1)
    table.close()
  })

  it('the arrival order does not matter: any order gives the same table', async () => {
    const orders = [
      [f.a, f.b, f.c, f.d],
      [f.d, f.c, f.b, f.a],
      [f.b, f.d, f.a, f.c],
    ]
    const results = []
    for (const order of orders) {
      const { table } = await mergedTable(order)
      results.push(winners(await table.rows()))
      table.close()
    }
    expect(results[1]).toEqual(results[0])
    expect(results[2]).toEqual(results[0])
  })

  it('replaying files already merged changes nothing, not even ingested_at', async () => {
    const { table } = await mergedTable([f.a, f.b, f.c])
    const before = await table.rows()
    const replay = await table.merge([f.c, f.b, f.a], '2026-03-01T00:00:00.000Z')
    expect(replay.map((o) => o.changed)).toEqual([0, 0, 0])
    expect(await table.rows()).toEqual(before)
    table.close()
  })

  it('the same version met again with its event sequencer (after a backfill that had none) changes nothing', async () => {
    const { table } = await mergedTable([f.a])
    const before = await table.rows()
    const withEvent = { ...f.a, sourceSequencer: '0055AED6DCD90281E5' }
    expect((await table.merge([withEvent], '2026-03-01T00:00:00.000Z')).map((o) => o.changed)).toEqual([0])
    expect(await table.rows()).toEqual(before)
    table.close()
  })

  it('a new version of the same file replaces its own rows (same key, later time)', async () => {
    const [v1, v2] = twoVersions('same', [T1, [['2025-12-01', 'k1', 10]]], [T2, [['2025-12-01', 'k1', 12]]])
    expect(v2.sourceKey).toBe(v1.sourceKey)
    const { table } = await mergedTable([v1, v2, v1])
    expect(winners(await table.rows())).toEqual(['2025-12-01 k1 12 <- same.csv'])
    table.close()
  })

  it('two versions of one key in the same second are ordered by their event sequencers, compared as numbers', async () => {
    const [v1, v2] = twoVersions('tie', [T1, [['2025-12-01', 'k1', 10]]], [T1, [['2025-12-01', 'k1', 12]]])
    const earlier = { ...v1, sourceSequencer: 'ff' }
    const later = { ...v2, sourceSequencer: '100' }
    for (const order of [
      [earlier, later],
      [later, earlier],
    ]) {
      const { table } = await mergedTable(order)
      expect((await table.rows()).map((r) => [r.price_gbp, r.source_sequencer])).toEqual([
        [12, '100'.padStart(32, '0')],
      ])
      table.close()
    }
  })

  it('files modified in the same second are ordered by source key, whatever the arrival order', async () => {
    const dir = scratchDir()
    const x = readPublishedRun(publish(dir, 'x', T1, [['2025-12-01', 'k1', 1]])) as LocalRun
    const y = readPublishedRun(publish(dir, 'y', T1, [['2025-12-01', 'k1', 2]])) as LocalRun
    for (const order of [
      [x, y],
      [y, x],
    ]) {
      const { table } = await mergedTable(order)
      expect(winners(await table.rows())).toEqual(['2025-12-01 k1 2 <- y.csv'])
      table.close()
    }
  })
})

describe("the analysts' saved queries on the current table", () => {
  it('run unchanged in DuckDB (plain SQL both engines accept) and count each listing once', async () => {
    const f = fixture()
    const { table } = await mergedTable([f.a, f.b, f.c, f.d])
    const run = async (sql: string) => (await table.connection.runAndReadAll(sql)).getRowObjectsJS()
    expect(await run(ANALYST_QUERIES.currentListings.sql)).toEqual([
      { segment: 'Tech', listings: 2n, avg_price_gbp: 35 },
    ])
    expect(
      (await run(ANALYST_QUERIES.rowsByListingDate.sql)).map((r) => [
        String(r.date),
        r.listings,
        r.source_files,
      ]),
    ).toEqual([
      [String(new Date('2026-01-03')), 1n, 1n],
      [String(new Date('2026-02-04')), 1n, 1n],
    ])
    table.close()
  })
})

describe('the rebuild', () => {
  it('recomputes the table from all outputs in source order: the same rows as merging them one by one', async () => {
    const f = fixture()
    const { table: incremental } = await mergedTable([f.a, f.b, f.c, f.d])
    for (const order of [
      [f.d, f.c, f.b, f.a],
      [f.b, f.a, f.d, f.c],
    ]) {
      const rebuilt = await CurrentTable.open(scratchDir(), { rebuild: true })
      await rebuilt.rebuild(order, '2026-02-01T00:00:00.000Z')
      expect(await rebuilt.rows()).toEqual(await incremental.rows())
      rebuilt.close()
    }
    incremental.close()
  })
})

describe('the local table on disk', () => {
  it('is written month-partitioned and read back by the next merge; a month filter reads only its files', async () => {
    const f = fixture()
    const out = scratchDir()
    const first = await CurrentTable.open(out)
    await first.merge([f.a, f.b], '2026-02-01T00:00:00.000Z')
    const written = await first.write(out)
    first.close()
    expect(written).toMatchObject({ rows: 3, months: 2 })

    const second = await CurrentTable.open(out)
    const outcomes = await second.merge([f.a, f.c, f.d], '2026-02-02T00:00:00.000Z')
    expect(outcomes.map((o) => o.changed)).toEqual([0, 1, 1])
    expect((await second.write(out)).months).toBe(3)

    const plan = await second.connection.runAndReadAll(
      `EXPLAIN SELECT item_id, price_gbp FROM ${tableScan(`${out}/${CURRENT_TABLE_PATH}`)} WHERE listing_month = '2025-12'`,
    )
    const text = plan
      .getRowsJS()
      .map((row) => String(row[1]))
      .join('\n')
    expect(text).toMatch(/Scanning Files: 1\/3/)
    const rows = await second.connection.runAndReadAll(
      `SELECT item_id FROM ${tableScan(`${out}/${CURRENT_TABLE_PATH}`)} WHERE listing_month = '2025-12' ORDER BY item_id`,
    )
    expect(rows.getRowObjectsJS().map((r) => r.item_id)).toEqual(['k1', 'k2'])
    second.close()
  })
})

import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import { beforeAll, describe, expect, it } from 'vitest'
import { MemorySink } from '../../shared/src/byte-streams.js'
import { ingest } from '../../shared/src/ingest.js'
import { readFileWithAllReaders, readWithAllReaders, tempParquet } from '../helpers/parquet-readers.js'
import { LISTINGS_HEADER, LOOKUP_CSV, runOnText, textSource } from '../helpers/sources.js'

let workerModule: URL

beforeAll(async () => {
  // Inside the repository, so the bundle's bare imports resolve to node_modules.
  const outfile = resolve('dist/test-parquet-worker.mjs')
  await build({
    entryPoints: ['test/helpers/parquet-worker-entry.ts'],
    outfile,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    logLevel: 'warning',
  })
  workerModule = pathToFileURL(outfile)
})

// Toys has an empty segment in the lookup, so the segment column holds nulls among values.
const rows = Array.from(
  { length: 2500 },
  (_, i) =>
    `2024-01-${String((i % 28) + 1).padStart(2, '0')},S${i % 7}${i % 5 ? '' : ' Café ☕'},London 東京,${i % 2 ? 'Toys' : 'Electronics'},I${i}😀,${i + 1}`,
)
const csv = `${LISTINGS_HEADER}\n${rows.join('\n')}\n`

// The worker encodes on the two-pass path (memoryBudgetBytes: 0); a single pass encodes on its own thread.
describe('Parquet encoding on a worker thread', () => {
  it('writes the same rows, in the same order, as encoding in-thread', async () => {
    const inThread = await runOnText(csv, LOOKUP_CSV, { rowGroupSize: 1000 })
    const onWorker = await runOnText(csv, LOOKUP_CSV, {
      rowGroupSize: 1000,
      parquetWorker: workerModule,
      memoryBudgetBytes: 0,
    })
    expect(onWorker.report.output.parquet).toMatchObject({ rows: 2500, row_groups: 3 })
    const { layout, rows: read } = await readFileWithAllReaders(tempParquet(onWorker.parquet))
    expect(layout).toMatchObject({ rowGroups: [1000, 1000, 500], codecs: ['SNAPPY'] })
    expect(read).toHaveLength(2500)
    expect(read.filter((row) => row.segment === null)).toHaveLength(1250)
    expect(read[5]).toMatchObject({ seller_id: 'S5 Café ☕', region: 'London 東京', item_id: 'I5😀' })
    expect(read).toEqual(await readWithAllReaders(tempParquet(inThread.parquet)))
    expect(onWorker.parquet.equals(inThread.parquet)).toBe(true)
  })

  it('writes a zero-row file that DuckDB, hyparquet and Arrow read when every row is rejected', async () => {
    const rejectedOnly = `${LISTINGS_HEADER}\n2024-01-01,S1,London,Toys,I1,-5\n2024-01-02,,London,Toys,I2,3\n`
    const onWorker = await runOnText(rejectedOnly, LOOKUP_CSV, {
      parquetWorker: workerModule,
      memoryBudgetBytes: 0,
    })
    expect(onWorker.report.output.parquet).toMatchObject({ rows: 0, row_groups: 0 })
    const read = await readFileWithAllReaders(tempParquet(onWorker.parquet))
    expect(read).toMatchObject({ layout: { rowGroups: [], codecs: [] }, rows: [] })
    expect(read.schema.map((column) => column.name)).toEqual([
      'date',
      'seller_id',
      'region',
      'category',
      'item_id',
      'price_gbp',
      'segment',
    ])
    const inThread = await runOnText(rejectedOnly, LOOKUP_CSV)
    expect(onWorker.parquet.equals(inThread.parquet)).toBe(true)
  })

  it('fails the run when the sink fails, and stops the worker', async () => {
    const run = ingest({
      listings: textSource('listings.csv', csv),
      lookup: textSource('lookup.csv', LOOKUP_CSV),
      parquet: {
        write() {
          throw new Error('disk full')
        },
      },
      rejected: new MemorySink(),
      rowGroupSize: 1000,
      parquetWorker: workerModule,
      memoryBudgetBytes: 0,
    })
    await expect(run).rejects.toThrow('disk full')
  })

  it('stops the worker when the run fails, without hanging (two passes: the file changes between them)', async () => {
    let reads = 0
    const run = ingest({
      listings: {
        name: 'moving.csv',
        async *open() {
          reads++
          yield Buffer.from(reads === 1 ? csv : csv.replace('Toys', 'Tops'))
        },
      },
      lookup: textSource('lookup.csv', LOOKUP_CSV),
      parquet: new MemorySink(),
      rejected: new MemorySink(),
      rowGroupSize: 1000,
      parquetWorker: workerModule,
      memoryBudgetBytes: 0,
    })
    await expect(run).rejects.toThrow('moving.csv: file changed while it was being read')
  })
})

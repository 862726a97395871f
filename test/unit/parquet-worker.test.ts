import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import { beforeAll, describe, expect, it } from 'vitest'
import { MemorySink } from '../../shared/src/byte-streams.js'
import { ingest } from '../../shared/src/ingest.js'
import { readWithDuckdb, tempParquet } from '../helpers/parquet-readers.js'
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

const rows = Array.from(
  { length: 2500 },
  (_, i) => `2024-01-${String((i % 28) + 1).padStart(2, '0')},S${i % 7},London,Toys,I${i},${i + 1}`,
)
const csv = `${LISTINGS_HEADER}\n${rows.join('\n')}\n`

describe('Parquet encoding on a worker thread', () => {
  it('writes the same rows, in the same order, as encoding in-thread', async () => {
    const inThread = await runOnText(csv, LOOKUP_CSV, { rowGroupSize: 1000 })
    const onWorker = await runOnText(csv, LOOKUP_CSV, { rowGroupSize: 1000, parquetWorker: workerModule })
    expect(onWorker.report.output.parquet).toMatchObject({ rows: 2500, row_groups: 3 })
    expect(await readWithDuckdb(tempParquet(onWorker.parquet))).toEqual(
      await readWithDuckdb(tempParquet(inThread.parquet)),
    )
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
    })
    await expect(run).rejects.toThrow('disk full')
  })

  it('stops the worker when the run fails, without hanging', async () => {
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
    })
    await expect(run).rejects.toThrow('moving.csv: file changed while it was being read')
  })
})

import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DQ_DIMENSIONS, DQ_METRICS, DQ_METRICS_NAMESPACE } from '../../lambdas/ingest/src/dq-metrics.js'
import { STATES } from '../../lambdas/ingest/src/orchestration.js'
import { type LocalPipeline, startLocalPipeline } from '../../local/src/s3/pipeline.js'
import { contractCounts, modelIngest } from '../helpers/model.js'
import { objectCreated } from '../helpers/object-created-event.js'
import { readWithDuckdb } from '../helpers/parquet-readers.js'
import { LISTINGS_HEADER } from '../helpers/sources.js'
import {
  outputCount,
  pathToIngest,
  processedKeys,
  putRaw,
  readProcessed,
  SAMPLE_LISTINGS,
  SAMPLE_LOOKUP,
  tempFile,
} from './helpers.js'

let pipeline: LocalPipeline

beforeAll(async () => {
  pipeline = await startLocalPipeline(SAMPLE_LOOKUP, { intervalScale: 0.001 })
}, 180_000)
afterAll(async () => {
  await pipeline.close()
})

describe('an upload to the raw bucket', () => {
  it('publishes Parquet, rejects and report that match the contract model', async () => {
    const text = readFileSync(SAMPLE_LISTINGS, 'utf8')
    await putRaw(pipeline, 'sample.csv', text)
    const executions = await pipeline.settle()
    const execution = executions.at(-1)
    expect(execution).toMatchObject({ status: 'SUCCEEDED', attempts: 1 })
    // Routed to the Lambda, then the result merged into the current table (one MERGE), then Processed.
    const path = execution?.path ?? []
    expect(path.slice(0, 3)).toEqual([
      ...pathToIngest(pipeline.stateMachines.ingest.definition),
      STATES.checkResult,
    ])
    expect(path.slice(-2)).toEqual([STATES.afterMerge, STATES.processed])
    expect(execution?.merges).toHaveLength(1)
    expect(execution?.merges[0]).toMatch(/^MERGE INTO /)
    const summary = execution?.output
    const expected = modelIngest(text, readFileSync(SAMPLE_LOOKUP, 'utf8'))
    expect(summary?.counts).toMatchObject(contractCounts(expected))
    const outputs = summary?.outputs
    expect(outputs?.parquet).toMatch(/^listings\/dt=\d{4}-\d{2}-\d{2}\/sample\.parquet$/)
    const parquet = await readProcessed(pipeline, outputs?.parquet ?? '')
    expect(await readWithDuckdb(tempFile('sample.parquet', parquet))).toEqual(expected.rows)

    const report = JSON.parse((await readProcessed(pipeline, outputs?.report ?? '')).toString())
    expect(report).toMatchObject({ status: 'succeeded', source: { key: 'incoming/sample.csv' } })
    const rejected = (await readProcessed(pipeline, outputs?.rejected ?? '')).toString().trim().split('\n')
    expect(rejected).toHaveLength(1 + expected.rejects.length)
  })

  it('emits the DQ metrics under the namespace and dimensions the alarms use', async () => {
    const emf = pipeline.metrics.published.at(-1)
    const directive = emf?._aws.CloudWatchMetrics[0]
    expect(directive?.Namespace).toBe(DQ_METRICS_NAMESPACE)
    expect(directive?.Dimensions).toEqual([Object.keys(DQ_DIMENSIONS)])
    for (const [name, value] of Object.entries(DQ_DIMENSIONS)) expect(emf?.[name]).toBe(value)
    const values = emf as unknown as Record<string, number>
    expect(values[DQ_METRICS.sourceRows.name]).toBe(400)
    expect(values[DQ_METRICS.rowsWritten.name]).toBe(342)
    expect(values[DQ_METRICS.rejectedPercent.name]).toBeCloseTo(9.75)
    expect(values.Rejected_invalid_date).toBe(6)
  })

  it('turns a repeated event into a no-op that leaves one set of outputs', async () => {
    const etag = await putRaw(pipeline, 'twice.csv', `${LISTINGS_HEADER}\n2024-01-01,S1,London,Fashion,A,5\n`)
    await pipeline.settle()
    const before = await processedKeys(pipeline)
    const again = await pipeline.execute(objectCreated('incoming/twice.csv', { etag }))
    expect(again.output).toMatchObject({ status: 'already_processed' })
    expect(await processedKeys(pipeline)).toEqual(before)
    expect(before.filter((key) => key.includes('twice'))).toHaveLength(outputCount(again.output?.outputs))
    // Merged again (idempotent: it repairs a merge that failed the first time), and ends on NothingToDo.
    expect(again.merges).toHaveLength(1)
    expect(again.path.at(-1)).toBe(STATES.nothingToDo)
  })

  it('processes two files uploaded at once into one set of outputs each', async () => {
    await Promise.all([
      putRaw(
        pipeline,
        'north.csv',
        `${LISTINGS_HEADER}\n2024-01-01,S1,North East,Fashion,N1,5\n2024-01-01,S1,North East,Fashion,N2,6\n`,
      ),
      putRaw(pipeline, 'south.csv', `${LISTINGS_HEADER}\n2024-01-01,S2,South West,Motors,S1,7\n`),
    ])
    const executions = await pipeline.settle()
    const byKey = new Map(executions.map((e) => [e.output?.source?.key, e]))
    expect(byKey.get('incoming/north.csv')?.output?.counts?.rows_after_dedup).toBe(2)
    expect(byKey.get('incoming/south.csv')?.output?.counts?.rows_after_dedup).toBe(1)
    const keys = await processedKeys(pipeline)
    const count = outputCount(executions[0]?.output?.outputs)
    expect(keys.filter((key) => key.includes('north'))).toHaveLength(count)
    expect(keys.filter((key) => key.includes('south'))).toHaveLength(count)
    // Both merged, one after the other (the writer lock serializes them).
    for (const key of ['incoming/north.csv', 'incoming/south.csv']) {
      expect(byKey.get(key)?.merges).toHaveLength(1)
    }
  })

  it('replaces the outputs when the same key is uploaded again with new content', async () => {
    const first = await putRaw(
      pipeline,
      'again.csv',
      `${LISTINGS_HEADER}\n2024-01-01,S1,London,Fashion,A,5\n`,
    )
    await pipeline.settle()
    await putRaw(
      pipeline,
      'again.csv',
      `${LISTINGS_HEADER}\n2024-01-01,S1,London,Fashion,A,5\n2024-01-02,S1,London,Fashion,B,6\n`,
    )
    const executions = await pipeline.settle()
    const latest = executions.at(-1)?.output
    expect(latest?.counts?.rows_after_dedup).toBe(2)
    const rows = await readWithDuckdb(
      tempFile('again.parquet', await readProcessed(pipeline, latest?.outputs?.parquet ?? '')),
    )
    expect(rows.map((row) => row.item_id)).toEqual(['A', 'B'])
    const late = await pipeline.execute(objectCreated('incoming/again.csv', { etag: first }))
    expect(late.output).toMatchObject({ status: 'skipped', reason: expect.stringContaining('superseded') })
  })
})

describe('events that are not for the pipeline', () => {
  it('never runs for keys outside the incoming prefix or not ending in .csv', async () => {
    const before = pipeline.executions.length
    await putRaw(pipeline, 'notes.txt', 'hello')
    await putRaw(pipeline, 'elsewhere.csv', `${LISTINGS_HEADER}\n`, 'archive/')
    await pipeline.settle()
    expect(pipeline.executions.length).toBe(before)
  })

  it('answers a non-CSV key that reaches the handler with a clear no-op', async () => {
    const execution = await pipeline.execute(objectCreated('incoming/notes.txt'))
    expect(execution).toMatchObject({
      status: 'SUCCEEDED',
      output: { status: 'skipped', reason: 'not a .csv or .csv.gz object under incoming/' },
    })
  })

  it('skips an object that no longer exists', async () => {
    const execution = await pipeline.execute(objectCreated('incoming/deleted.csv', { etag: 'abc' }))
    expect(execution.output).toMatchObject({ status: 'skipped', reason: 'source object no longer exists' })
  })

  it('skips events that are not Object Created events', async () => {
    const execution = await pipeline.execute({
      source: 'aws.s3',
      'detail-type': 'Object Deleted',
      detail: {},
    })
    expect(execution.output).toMatchObject({
      status: 'skipped',
      reason: 'ignored EventBridge event aws.s3/Object Deleted',
    })
  })
})

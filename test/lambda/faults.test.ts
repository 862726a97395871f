import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { STATES } from '../../lambdas/ingest/src/orchestration.js'
import { LOOKUP_KEY, type LocalPipeline, RAW_BUCKET } from '../../local/src/s3/pipeline.js'
import { type CuttingProxy, startCuttingProxy } from '../helpers/cutting-proxy.js'
import { LISTINGS_HEADER } from '../helpers/sources.js'
import { attemptsFor, lambdaTask } from '../orchestration/asl.js'
import {
  deleteRaw,
  pathToIngest,
  pipelinePerTest,
  processedKeys,
  putRaw,
  readProcessed,
  SAMPLE_LISTINGS,
} from './helpers.js'

const { pipelineWith, closeAfterTest } = pipelinePerTest()

/** Data outputs (not the manifest) in the processed bucket. */
async function dataOutputs(pipeline: LocalPipeline): Promise<string[]> {
  return (await processedKeys(pipeline)).filter((key) => !key.startsWith('_manifests/'))
}

/** What an execution matches that failed with the handler's `error`, on its first and only attempt. */
function failedOnce(error: string, message: unknown) {
  return { status: 'FAILED', error: 'IngestFailed', taskError: { error, message }, attempts: 1 }
}

describe('bad input', () => {
  /** Uploads `text` as `name`: the one execution, and every key in the processed bucket after it. */
  async function run(pipeline: LocalPipeline, name: string, text: string) {
    await putRaw(pipeline, name, text)
    const [execution] = await pipeline.settle()
    return { execution, published: await processedKeys(pipeline) }
  }

  it('fails an empty file as InvalidInputError and publishes nothing', async () => {
    const pipeline = await pipelineWith()
    const { execution, published } = await run(pipeline, 'empty.csv', '')
    expect(execution).toMatchObject({
      ...failedOnce('InvalidInputError', 's3://raw/incoming/empty.csv: file is empty: expected a header row'),
      path: [
        ...pathToIngest(pipeline.stateMachines.ingest.definition),
        STATES.notifyFailure,
        STATES.ingestFailed,
      ],
    })
    expect(published).toEqual([])
  })

  it('fails a file without a required column, naming it, and publishes nothing', async () => {
    const pipeline = await pipelineWith()
    const narrow = 'date,seller_id,region,category,item_id\n2024-01-01,S1,London,Toys,A\n'
    const { execution, published } = await run(pipeline, 'narrow.csv', narrow)
    expect(execution).toMatchObject(
      failedOnce(
        'InvalidInputError',
        expect.stringMatching(/^s3:\/\/raw\/incoming\/narrow\.csv: missing required column price_gbp/),
      ),
    )
    expect(published).toEqual([])
  })

  it('fails with ConfigurationError when the lookup object is missing, without retrying', async () => {
    const pipeline = await pipelineWith()
    await deleteRaw(pipeline, LOOKUP_KEY)
    const { execution, published } = await run(
      pipeline,
      'listings.csv',
      readFileSync(SAMPLE_LISTINGS, 'utf8'),
    )
    expect(execution).toMatchObject(
      failedOnce('ConfigurationError', `lookup s3://${RAW_BUCKET}/${LOOKUP_KEY} does not exist`),
    )
    expect(published).toEqual([])
  })
})

describe('a data-quality threshold breach', () => {
  it('writes report and rejects, withholds the Parquet and raises DataQualityThresholdError', async () => {
    const pipeline = await pipelineWith({ env: { MAX_REJECTED_RATIO: '0.05' } })
    await putRaw(pipeline, 'listings.csv', readFileSync(SAMPLE_LISTINGS, 'utf8'))
    const [execution] = await pipeline.settle()
    expect(execution).toMatchObject({
      status: 'FAILED',
      error: 'DataQualityThresholdError',
      attempts: 1,
      path: [
        ...pathToIngest(pipeline.stateMachines.ingest.definition),
        STATES.notifyDataQualityFailure,
        STATES.dataQualityFailed,
      ],
    })
    expect(execution?.taskError?.message).toMatch(
      /^max_rejected_ratio 0\.0975 > 0\.05: s3:\/\/processed\/reports\/dt=.*\/listings\.json written/,
    )
    const keys = await dataOutputs(pipeline)
    expect(keys.some((key) => key.startsWith('reports/'))).toBe(true)
    expect(keys.some((key) => key.startsWith('rejected/'))).toBe(true)
    expect(keys.some((key) => key.startsWith('listings/'))).toBe(false)
    const report = JSON.parse(
      (
        await readProcessed(pipeline, keys.find((k) => k.startsWith('reports/') && k.endsWith('.json')) ?? '')
      ).toString(),
    )
    expect(report).toMatchObject({ status: 'threshold_breached', output: { parquet: { published: false } } })
    const emf = pipeline.metrics.published.at(-1) as unknown as Record<string, number>
    expect(emf.ThresholdBreaches).toBe(1)
    expect(emf.RowsWritten).toBe(0)
  })
})

/** A pipeline whose handler reaches S3 through a {@link CuttingProxy}. */
async function pipelineBehindProxy(): Promise<{ pipeline: LocalPipeline; proxy: CuttingProxy }> {
  let serverPort = 0
  const proxy = closeAfterTest(await startCuttingProxy(() => serverPort))
  const pipeline = await pipelineWith({ handlerEndpoint: () => proxy.endpoint })
  serverPort = Number(new URL(pipeline.s3.endpoint).port)
  return { pipeline, proxy }
}

describe('the S3 connection failing mid-stream', () => {
  /** A listings file large enough that its GET outlasts the proxy's byte limit. */
  const bigListings = () => {
    const rows = Array.from(
      { length: 4000 },
      (_, i) => `2024-01-01,S${i},London,Fashion,ITEM${i},${(i % 90) + 1}.50`,
    )
    return `${LISTINGS_HEADER}\n${rows.join('\n')}\n`
  }

  it('fails the step with a retryable error, retries, and publishes no Parquet', async () => {
    const { pipeline, proxy } = await pipelineBehindProxy()
    await putRaw(pipeline, 'big.csv', bigListings())
    proxy.cutAfter(64 * 1024)
    const [execution] = await pipeline.settle()
    expect(execution).toMatchObject({
      status: 'FAILED',
      error: 'IngestFailed',
      taskError: { error: 'TransientError' },
      attempts: attemptsFor(lambdaTask(pipeline.stateMachines.ingest.definition)[1], 'TransientError'),
    })
    expect(proxy.cuts).toBeGreaterThanOrEqual(execution?.attempts ?? Number.NaN)
    expect(await dataOutputs(pipeline)).toEqual([])
  })

  it('succeeds on a retry once the connection holds', async () => {
    const { pipeline, proxy } = await pipelineBehindProxy()
    await putRaw(pipeline, 'big.csv', bigListings())
    proxy.cutAfter(64 * 1024)
    const started = pipeline.settle()
    // Let the first attempt be cut, then heal the network before the retry.
    while (proxy.cuts === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    proxy.cutAfter(undefined)
    const [execution] = await started
    expect(execution).toMatchObject({
      status: 'SUCCEEDED',
      output: { status: 'processed', counts: { rows_after_dedup: 4000 } },
    })
    expect(execution?.attempts).toBeGreaterThan(1)
    expect((await dataOutputs(pipeline)).filter((key) => key.startsWith('listings/'))).toHaveLength(1)
  })
})

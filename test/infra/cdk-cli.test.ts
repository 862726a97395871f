import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { synthesizedTemplate, type Template } from '../../local/src/s3/cdk-synth.js'
import { LOCAL_CREDENTIALS } from '../../local/src/s3/local-s3.js'
import { startLocalPipeline } from '../../local/src/s3/pipeline.js'
import { stateMachineNamed } from '../../local/src/s3/synthesized-template.js'
import { contractCounts, modelIngest } from '../helpers/model.js'
import { readWithDuckdb } from '../helpers/parquet-readers.js'
import { putRaw, readProcessed, SAMPLE_LISTINGS, SAMPLE_LOOKUP, tempFile } from '../lambda/helpers.js'
import {
  type BundledFunction,
  bundledFunction,
  bundledLambda,
  nodeBinaryFor,
} from '../orchestration/lambda-runtime.js'

const outdir = mkdtempSync(join(tmpdir(), 'cdk-out-'))
let synth: { status: number | null; stderr: string }

beforeAll(() => {
  // No credentials, no profile, no metadata service: synthesis must not need AWS.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')))
  const result = spawnSync('npx', ['cdk', 'synth', '--quiet', '--output', outdir], {
    encoding: 'utf8',
    env: { ...env, AWS_EC2_METADATA_DISABLED: 'true', CI: 'true' },
    timeout: 120_000,
  })
  synth = { status: result.status, stderr: result.stderr }
}, 150_000)

describe('npx cdk synth', () => {
  it('succeeds offline with no credentials, cdk-nag on', () => {
    expect(synth.status, synth.stderr).toBe(0)
    const template = JSON.parse(readFileSync(join(outdir, 'ListingsIngest.template.json'), 'utf8'))
    expect(Object.keys(template.Resources).length).toBeGreaterThan(30)
  })

  it('has telemetry, notices and version reporting off', () => {
    const cdkJson = JSON.parse(readFileSync('cdk.json', 'utf8'))
    expect(cdkJson).toMatchObject({
      notices: false,
      versionReporting: false,
      context: { 'cli-telemetry': false },
    })
    const template = JSON.parse(readFileSync(join(outdir, 'ListingsIngest.template.json'), 'utf8'))
    expect(template.Resources.CDKMetadata).toBeUndefined()
  })
})

describe('the synthesized state machines the local pipeline runs', () => {
  it('are exactly the ones the CDK CLI wrote (bundling skipped changes none of them)', async () => {
    const cli = JSON.parse(readFileSync(join(outdir, 'ListingsIngest.template.json'), 'utf8')) as Template
    const local = await synthesizedTemplate()
    for (const name of ['ingest', 'backfill']) {
      expect(stateMachineNamed(local, name)).toEqual(stateMachineNamed(cli, name))
    }
  }, 180_000)
})

describe("the bundled Lambda asset, on the function's runtime, behind the synthesized state machine", () => {
  let fn: BundledFunction
  let node: string
  let fetchMs = 0

  beforeAll(async () => {
    fn = bundledFunction(outdir, 'ListingsIngest.template.json')
    const started = Date.now()
    node = await nodeBinaryFor(fn.runtime)
    fetchMs = Date.now() - started
  }, 300_000)

  /** A pipeline whose Lambda task runs the bundle from cdk.out in a Node process of the runtime's major. */
  const pipelineOnRuntime = (env: Record<string, string> = {}) =>
    startLocalPipeline(SAMPLE_LOOKUP, {
      env,
      lambda: (settings) =>
        bundledLambda({
          node,
          fn,
          env: {
            ...settings.env,
            S3_ENDPOINT: settings.endpoint,
            AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
            AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
            AWS_REGION: 'us-east-1',
            POWERTOOLS_LOG_LEVEL: 'ERROR',
          },
        }),
    })

  it('gets a Node of the same major as the Lambda runtime from the npm registry', () => {
    const major = /^nodejs(\d+)\.x$/.exec(fn.runtime)?.[1]
    const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim()
    expect(version.startsWith(`v${major}.`), version).toBe(true)
    expect(version.startsWith(process.version.split('.')[0] ?? '')).toBe(false)
    console.info(`node ${version} for ${fn.runtime} ready in ${fetchMs} ms`)
  })

  it('runs the sample end to end on a local S3 server, as deployed', async () => {
    const pipeline = await pipelineOnRuntime()
    try {
      const text = readFileSync(SAMPLE_LISTINGS, 'utf8')
      await putRaw(pipeline, 'deployed.csv', text)
      const [execution] = await pipeline.settle()
      expect(execution).toMatchObject({ status: 'SUCCEEDED', attempts: 1, notifications: [] })
      const summary = execution?.output
      const expected = modelIngest(text, readFileSync(SAMPLE_LOOKUP, 'utf8'))
      expect(summary?.counts).toMatchObject(contractCounts(expected))
      const parquet = await readProcessed(pipeline, summary?.outputs?.parquet ?? '')
      expect(await readWithDuckdb(tempFile('deployed.parquet', parquet))).toEqual(expected.rows)
      const report = JSON.parse((await readProcessed(pipeline, summary?.outputs?.report ?? '')).toString())
      expect(report).toMatchObject({ status: 'succeeded', source: { key: 'incoming/deployed.csv' } })
    } finally {
      await pipeline.close()
    }
  }, 60_000)

  it('raises the DQ error by its name from the minified bundle, so the DQ branch catches it', async () => {
    const pipeline = await pipelineOnRuntime({ MAX_REJECTED_RATIO: '0.05' })
    try {
      await putRaw(pipeline, 'breach.csv', readFileSync(SAMPLE_LISTINGS, 'utf8'))
      const [execution] = await pipeline.settle()
      expect(execution).toMatchObject({
        status: 'FAILED',
        error: 'DataQualityThresholdError',
        taskError: { error: 'DataQualityThresholdError' },
        attempts: 1,
      })
      expect(execution?.notifications).toHaveLength(1)
    } finally {
      await pipeline.close()
    }
  }, 60_000)
})

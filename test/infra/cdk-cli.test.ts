import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type LocalPipeline, startLocalPipeline } from '../../local/src/s3/pipeline.js'
import { putRaw, readProcessed, SAMPLE_LISTINGS, SAMPLE_LOOKUP } from '../lambda/helpers.js'

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

describe('the bundled Lambda asset', () => {
  let pipeline: LocalPipeline

  beforeAll(async () => {
    pipeline = await startLocalPipeline(SAMPLE_LOOKUP, { logLevel: 'SILENT' })
  })
  afterAll(async () => {
    await pipeline.close()
  })

  it('runs the sample end to end on a local S3 server, as deployed', async () => {
    const asset = readdirSync(outdir)
      .map((name) => join(outdir, name, 'index.mjs'))
      .find((path) => existsSync(path))
    expect(asset).toBeDefined()
    Object.assign(process.env, {
      S3_ENDPOINT: pipeline.s3.endpoint,
      PROCESSED_BUCKET: 'processed',
      LOOKUP_URI: 's3://raw/reference/category_lookup.csv',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    })
    // Under a prefix the local pipeline does not watch, so only the bundle processes it.
    await putRaw(pipeline, 'deployed.csv', readFileSync(SAMPLE_LISTINGS, 'utf8'), 'staging/')
    const { handler } = (await import(pathToFileURL(resolve(asset as string)).href)) as {
      handler: (
        event: unknown,
        context: unknown,
      ) => Promise<{ status: string; counts: Record<string, number>; outputs: { parquet: string } }>
    }
    process.env.INCOMING_PREFIX = 'staging/'
    const summary = await handler({ bucket: 'raw', key: 'staging/deployed.csv' }, { awsRequestId: 'test' })
    expect(summary.status).toBe('processed')
    expect(summary.counts).toMatchObject({ source_rows: 400, rows_after_dedup: 342 })
    expect((await readProcessed(pipeline, summary.outputs.parquet)).subarray(0, 4).toString()).toBe('PAR1')
  })
})

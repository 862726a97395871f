import { readFileSync } from 'node:fs'
import JSZip from 'jszip'
import { beforeAll, describe, expect, it } from 'vitest'
import { estimateMonthlyCost, PRICES } from '../../scripts/deck/cost.js'
import { buildDeck } from '../../scripts/deck/deck.js'
import { collectFacts, type DeckFacts } from '../../scripts/deck/facts.js'
import { DECK_TIMESTAMP, stablePptx } from '../../scripts/deck/stable-zip.js'

/** The text and structure of a deck: what a presenter sees, without timestamps or ids. */
interface DeckContent {
  slideSize: string
  slides: { texts: string[]; pictures: number; shapes: number; notes: string }[]
}

async function contentOf(bytes: Uint8Array): Promise<DeckContent> {
  const zip = await JSZip.loadAsync(bytes)
  const read = async (path: string) => (await zip.file(path)?.async('string')) ?? ''
  const texts = (xml: string) => [...xml.matchAll(/<a:t>([^<]*)<\/a:t>/g)].map((m) => m[1] ?? '')
  const presentation = await read('ppt/presentation.xml')
  const slideFiles = Object.keys(zip.files)
    .filter((name) => /^ppt\/slides\/slide\d+\.xml$/.test(name))
    .sort()
  const slides = []
  for (const [i, file] of slideFiles.entries()) {
    const xml = await read(file)
    const notes = texts(await read(`ppt/notesSlides/notesSlide${i + 1}.xml`)).join(' ')
    slides.push({
      texts: texts(xml),
      pictures: (xml.match(/<p:pic>/g) ?? []).length,
      shapes: (xml.match(/<p:sp>/g) ?? []).length,
      notes,
    })
  }
  return { slideSize: /<p:sldSz [^>]*>/.exec(presentation)?.[0] ?? '', slides }
}

let facts: DeckFacts
let generated: DeckContent
let stableBytes: Uint8Array

beforeAll(async () => {
  facts = collectFacts()
  const bytes = (await buildDeck(facts).write({ outputType: 'uint8array' })) as Uint8Array
  stableBytes = await stablePptx(bytes)
  generated = await contentOf(stableBytes)
}, 60_000)

describe('architecture.pptx', () => {
  it('is what npm run slides generates from the current stack (rebuild it after a stack change)', async () => {
    const committed = await contentOf(readFileSync('architecture.pptx'))
    expect(committed).toEqual(generated)
  })

  it('is reproducible: the same facts give the same bytes, with no wall-clock time inside', async () => {
    // pptxgenjs stamps the current time; a second later it would differ without stablePptx.
    await new Promise((resolve) => setTimeout(resolve, 1100))
    const again = await stablePptx((await buildDeck(facts).write({ outputType: 'uint8array' })) as Uint8Array)
    expect(Buffer.from(again).equals(Buffer.from(stableBytes))).toBe(true)
    const zip = await JSZip.loadAsync(stableBytes)
    const core = (await zip.file('docProps/core.xml')?.async('string')) ?? ''
    expect(core).toContain(DECK_TIMESTAMP.toISOString().replace(/\.\d{3}Z$/, 'Z'))
  })

  it('uses only Arial, a font PowerPoint has everywhere (Liberation Sans renders it in LibreOffice)', async () => {
    const zip = await JSZip.loadAsync(stableBytes)
    const faces = new Set<string>()
    for (const name of Object.keys(zip.files).filter((n) => /^ppt\/slides\/slide\d+\.xml$/.test(n))) {
      const xml = (await zip.file(name)?.async('string')) ?? ''
      for (const match of xml.matchAll(/typeface="([^"]*)"/g)) faces.add(match[1] ?? '')
    }
    expect([...faces]).toEqual(['Arial'])
  })

  it('has two 16:9 slides with speaker notes', () => {
    expect(generated.slideSize).toContain('cx="12192000" cy="6858000"')
    expect(generated.slides).toHaveLength(2)
    for (const slide of generated.slides) expect(slide.notes.length).toBeGreaterThan(300)
  })

  it('shows the architecture as a numbered flow with the services around it, with icons', () => {
    const text = generated.slides[0]?.texts.join(' ') ?? ''
    for (const topic of [
      'Raw bucket',
      'EventBridge rule',
      'Step Functions',
      'Lambda transform',
      'Processed bucket',
      'Iceberg table',
      'Athena',
    ]) {
      expect(text).toContain(topic)
    }
    for (const topic of [
      'KMS key',
      'IAM',
      'CloudWatch',
      'SNS alerts',
      'Dead-letter queue',
      'Backfill',
      'Distributed Map',
      'X-Ray',
      'ECS Fargate',
    ]) {
      expect(text).toContain(topic)
    }
    expect(generated.slides[0]?.texts.filter((t) => /^[1-7]$/.test(t))).toEqual([
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
      '7',
    ])
    expect(generated.slides[0]?.pictures).toBe(14)
  })

  it('covers the four decision topics with their specifics', () => {
    const text = generated.slides[1]?.texts.join(' ') ?? ''
    for (const topic of ['Storage', 'Orchestration', 'Security and monitoring', 'Scaling and cost'])
      expect(text).toContain(topic)
    for (const detail of [
      'Parquet',
      'Snappy',
      'dt=',
      'Lifecycle',
      'Versioning',
      'Choice on size',
      'Iceberg',
      'MERGE',
      'Distributed Map',
      'KMS',
      'IAM least privilege',
      'X-Ray',
      'alarms',
      'Prices',
      '/month',
    ]) {
      expect(text).toContain(detail)
    }
  })

  it('states figures read from the stack and the measurements', () => {
    const text = generated.slides.map((s) => s.texts.join(' ')).join(' ')
    expect(text).toContain(`${facts.lambda.memoryMb} MB`)
    expect(text).toContain(`${facts.alarms.length} alarms`)
    expect(text).toContain(`Retry ${facts.retry.maxRetries}×`)
    expect(text).toContain(`${facts.throttleRetry.maxRetries}× with full jitter`)
    expect(text).toContain(`${facts.measurements.seconds.toFixed(1)} s`)
    expect(facts.alarms.length).toBeGreaterThanOrEqual(9)
    expect(text).toContain(`files ≤ ${(Number(facts.largeFiles?.thresholdBytes) / 1e9).toFixed(1)} GB`)
    expect(text).toContain(`${facts.largeFiles?.vcpu} vCPU, ${facts.largeFiles?.memoryGiB} GiB`)
    expect(facts.lifecycle).toEqual({
      rawToIaDays: 30,
      rawToGlacierIrDays: 90,
      rejectsExpireDays: 90,
      abortUploadsDays: 7,
    })
    expect(facts.backfillConcurrency).toBe(10)
  })
})

describe('estimateMonthlyCost', () => {
  const perFile = {
    secondsPerMillionRows: 30,
    lambdaMemoryMb: 1024,
    csvBytesPerRow: 100,
    parquetBytesPerRow: 0,
    transitionsPerFile: 4,
    putsPerFile: 1000,
    getsPerFile: 0,
    kmsRequestsPerFile: 0,
    customMetrics: 0,
    alarms: 0,
    mergeScanParquetMultiple: 0,
  }

  it('prices Lambda GB-seconds, transitions, requests and storage from the listed prices', () => {
    const estimate = estimateMonthlyCost({ label: 'x', filesPerDay: 1, rowsPerFile: 1_000_000 }, perFile)
    expect(estimate.lambda).toBeCloseTo(30 * (30 * PRICES.lambdaGbSecondArm + PRICES.lambdaRequest), 10)
    expect(estimate.stepFunctions).toBeCloseTo(30 * 4 * PRICES.stateTransition, 10)
    expect(estimate.s3Requests).toBeCloseTo(30 * PRICES.s3PutPer1000, 10)
    expect(estimate.storageAddedGb).toBeCloseTo((30 * 1e8) / 1024 ** 3, 6)
    expect(estimate.monitoring).toBe(PRICES.dashboardMonth)
    expect(estimate.total).toBeCloseTo(
      estimate.lambda +
        estimate.stepFunctions +
        estimate.s3Requests +
        estimate.s3Storage +
        estimate.kms +
        estimate.athena +
        estimate.monitoring,
      10,
    )
  })

  it('grows linearly with files, apart from fixed monthly costs', () => {
    const one = estimateMonthlyCost({ label: 'a', filesPerDay: 1, rowsPerFile: 1e6 }, perFile)
    const hundred = estimateMonthlyCost({ label: 'b', filesPerDay: 100, rowsPerFile: 1e6 }, perFile)
    expect(hundred.lambda).toBeCloseTo(one.lambda * 100, 8)
    expect(hundred.kms - PRICES.kmsKeyMonth).toBeCloseTo((one.kms - PRICES.kmsKeyMonth) * 100, 8)
  })
})

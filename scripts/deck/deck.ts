/**
 * The two slides of architecture.pptx, laid out from the stack's facts
 * (facts.ts) with the shapes of shapes.ts.
 */
import pptxgenModule from 'pptxgenjs'
import { FARGATE_ARM_PRICES_USD } from '../../infra/src/capacity.js'
import { dollars, PRICES } from './cost.js'
import type { DeckFacts } from './facts.js'
import { block, type DeckNode, FONT, footer, INK, type Presentation, row, title } from './shapes.js'

// The package's types describe a CommonJS default export; its ES build exports the class itself.
const PptxGenJS = pptxgenModule as unknown as typeof pptxgenModule.default

/** Builds the two-slide deck from the stack's facts. */
export function buildDeck(facts: DeckFacts): Presentation {
  const pptx = new PptxGenJS()
  pptx.layout = 'LAYOUT_WIDE'
  pptx.author = 'listings-ingest'
  pptx.title = 'Listings ingest: running it in production'
  architectureSlide(pptx, facts)
  decisionsSlide(pptx, facts)
  return pptx
}

function architectureSlide(pptx: Presentation, facts: DeckFacts): void {
  const slide = pptx.addSlide()
  title(
    slide,
    'Listings ingest on AWS: how a file flows',
    `CDK stack ${facts.stackName} · every box is a resource it deploys`,
  )
  const flow: DeckNode[] = [
    { icon: 's3', title: 'Raw bucket', detail: 'CSV uploaded to incoming/*.csv; SSE-KMS, versioned' },
    {
      icon: 'eventBridge',
      title: 'EventBridge rule',
      detail: 'Object Created on incoming/ .csv or .csv.gz, any case; 8 retries, DLQ',
    },
    {
      icon: 'stepFunctions',
      title: 'Step Functions',
      detail: `Standard; ${facts.largeFiles ? 'routes by size; ' : ''}retry ${facts.retry.maxRetries}× transient, ${facts.throttleRetry.maxRetries}× with jitter on throttling; catch → SNS`,
    },
    {
      icon: 'lambda',
      title: 'Lambda transform',
      detail: facts.largeFiles
        ? `${facts.lambda.memoryMb} MB ${facts.lambda.architecture}, ${facts.lambda.timeoutSeconds / 60} min, files ≤ ${gigabytes(facts.largeFiles.thresholdBytes)}; same code as the CLI`
        : `${facts.lambda.memoryMb} MB ${facts.lambda.architecture}, ${facts.lambda.timeoutSeconds / 60} min; same code as the CLI`,
    },
    {
      icon: 's3',
      title: 'Processed bucket',
      detail: 'listings/dt=…/ Snappy Parquet; rejected/, reports/ (JSON, HTML)',
    },
    facts.currentTable
      ? {
          icon: 'glue',
          title: 'Iceberg table',
          detail: 'listings_current: MERGE keeps the newest row per listing; month partitions',
        }
      : { icon: 'glue', title: 'Glue table', detail: 'listings, partition projection on dt; no crawler' },
    {
      icon: 'athena',
      title: 'Athena',
      detail: 'Workgroup: KMS-encrypted results, scan cutoff, saved queries',
    },
  ]
  const around: DeckNode[] = [
    { icon: 'kms', title: 'KMS key', detail: 'Customer-managed, rotated; data, logs, topic' },
    { icon: 'iam', title: 'IAM', detail: 'Explicit actions on prefixes; cdk-nag clean' },
    {
      icon: 'cloudWatch',
      title: 'CloudWatch',
      detail: `${facts.alarms.length} alarms, DQ dashboard, JSON logs, X-Ray traces`,
    },
    { icon: 'sns', title: 'SNS alerts', detail: 'Alarms and failed runs; KMS-encrypted' },
    { icon: 'sqs', title: 'Dead-letter queue', detail: 'Events that could not start a run' },
    {
      icon: 'stepFunctions',
      title: 'Backfill',
      detail: `Distributed Map over incoming/, ${facts.backfillConcurrency} at a time`,
    },
    facts.largeFiles
      ? {
          icon: 'fargate',
          title: 'ECS Fargate',
          detail: `Files > ${gigabytes(facts.largeFiles.thresholdBytes)}: ${facts.largeFiles.vcpu} vCPU, ${facts.largeFiles.memoryGiB} GiB arm64 task, same code; no NAT`,
        }
      : { icon: 'xRay', title: 'X-Ray', detail: 'Traces across state machine and Lambda' },
  ]
  row(slide, flow, 1.45, true)
  slide.addText('Around every run: security, monitoring, recovery', {
    x: 0.4,
    y: 3.95,
    w: 12.5,
    h: 0.35,
    fontFace: FONT,
    fontSize: 14,
    bold: true,
    color: INK,
  })
  row(slide, around, 4.4, false)
  footer(slide)
  slide.addNotes(
    [
      'Walk the numbered flow left to right (about 4 minutes).',
      '1. A producer drops a CSV into the raw bucket under incoming/. The bucket is KMS-encrypted, versioned and only reachable over TLS.',
      '2. S3 sends an Object Created event to EventBridge; the rule matches only .csv files under incoming/ and starts one Step Functions execution per file. If the start fails it retries for up to a day, then parks the event in a dead-letter queue that has an alarm.',
      `3. The state machine invokes the Lambda with the whole event. Transient S3 errors are retried ${facts.retry.maxRetries} times with exponential backoff; Lambda throttling and service errors up to ${facts.throttleRetry.maxRetries} times, each wait capped at ${facts.throttleRetry.maxDelaySeconds} s with ${facts.throttleRetry.jitter} jitter so a burst of uploads does not retry in lockstep; a data-quality breach and any other failure go to separate notify-then-fail branches.`,
      facts.largeFiles
        ? `4. Files up to ${gigabytes(facts.largeFiles.thresholdBytes)} run in the Lambda; larger ones (a Choice on the size in the event) run the same program as an ECS Fargate task with ${facts.largeFiles.vcpu} vCPU and ${facts.largeFiles.memoryGiB} GiB and no 15-minute limit; its exit code maps back to the Lambda's errors, so retries, the breach branch and notifications are the same. Both run exactly the transform of the local CLI: validation, deduplication keeping the last row, the category join, reading the object version the event named.`
        : '4. The Lambda runs exactly the same transform as the local CLI: validation, deduplication keeping the last row, the category join, reading the object version the event named.',
      "5. Outputs land at deterministic keys, one set per source key: Snappy Parquet partitioned by dt, the rejected rows with their reasons, and the DQ report. Re-delivered events are no-ops thanks to a manifest per source file, which also records which version's Parquet is live: a breach never takes down the last good data.",
      facts.currentTable
        ? '6-7. After each ingest an Athena MERGE folds the file into the Iceberg table listings_current, one row per listing at its newest source (a late or replayed older file changes nothing), partitioned by listing month; writers are serialized by a lock and conflicts retried. The per-file Parquet stays queryable too.'
        : '6-7. A Glue table with partition projection makes new partitions queryable in Athena immediately, without a crawler.',
      'Bottom row: one KMS key encrypts everything, IAM is least privilege and checked by cdk-nag, CloudWatch alarms watch both the runs and the data quality, and the backfill state machine replays history through the same Lambda.',
    ].join('\n'),
  )
}

function decisionsSlide(pptx: Presentation, facts: DeckFacts): void {
  const slide = pptx.addSlide()
  title(slide, 'Production decisions', 'Storage · orchestration · security and monitoring · scaling and cost')
  const m = facts.measurements
  const [daily, hundred] = facts.estimates
  const l = facts.lifecycle
  block(slide, 0.4, 1.3, 'Storage', [
    'S3 raw (incoming/) and processed buckets; per-file Snappy Parquet at listings/dt=<upload day>/<file>.parquet, rejected/, reports/',
    facts.currentTable
      ? 'Iceberg table listings_current (Glue catalog, month partitions): an Athena MERGE keeps the newest source per (date, item_id); weekly OPTIMIZE, VACUUM'
      : 'Parquet, Snappy on every column chunk; typed schema (DATE, DOUBLE, strings stay strings); Hive partition dt',
    `Lifecycle: raw to Standard-IA at ${l.rawToIaDays} d, Glacier IR at ${l.rawToGlacierIrDays} d; rejects expire at ${l.rejectsExpireDays} d; stale uploads aborted at ${l.abortUploadsDays} d`,
    'Versioning on both buckets: reads pinned to the event’s version; a manifest per source makes re-delivery a no-op and names the live version',
  ])
  block(slide, 6.73, 1.3, 'Orchestration', [
    facts.largeFiles
      ? 'EventBridge rule → Step Functions Standard → Choice on size → Lambda or Fargate task: per file, event-driven, nothing idle'
      : 'EventBridge rule → Step Functions Standard → Lambda: per-file, event-driven, nothing idle',
    `Retry ${facts.retry.maxRetries}× (${facts.retry.intervalSeconds} s, ×${facts.retry.backoffRate}) on TransientError, ${facts.throttleRetry.maxRetries}× with ${facts.throttleRetry.jitter} jitter (≤ ${facts.throttleRetry.maxDelaySeconds} s) on Lambda throttling; DQ breach and failures → SNS → Fail`,
    `Backfill: Distributed Map lists incoming/ and re-runs every file, ${facts.backfillConcurrency} at a time${facts.currentTable ? ', then rebuilds the current table' : ''}`,
    facts.currentTable
      ? 'MERGE writers serialized by a DynamoDB lock (stale holders taken over); Iceberg commit conflicts retried with jitter'
      : 'Move to Glue (Spark) or Fargate when one file outgrows a 15-minute Lambda or joins need more than one machine',
  ])
  block(slide, 0.4, 4.15, 'Security and monitoring', [
    'One customer-managed KMS key (rotated): buckets with bucket keys, logs, SNS, Athena results; TLS-only policies',
    'IAM least privilege: explicit actions on prefixes and the key, every call checked by a policy simulator in CI; cdk-nag on every synth',
    'S3 server access logs; Powertools JSON logs with bucket, key, ETag, execution id; X-Ray traces',
    `${facts.alarms.length} alarms → SNS: failed runs, Lambda errors and throttles, DLQ depth, rejected share, DQ breach, zero rows, row-count anomaly`,
  ])
  block(slide, 6.73, 4.15, 'Scaling and cost', [
    `Measured on one core: ${(m.rows / 1e6).toFixed(0)}M rows in ${m.singlePassSeconds.toFixed(1)} s in one pass (${m.seconds.toFixed(1)} s when a file needs two), peak ${m.peakRssMb} MB; files scale out`,
    facts.largeFiles
      ? `One ${facts.lambda.memoryMb} MB Lambda takes files ≤ ${gigabytes(facts.largeFiles.thresholdBytes)} (~${(m.maxRowsPerInvocation / 1e6).toFixed(0)}M rows); a 10 GB file on Fargate ≈ ${Math.round(facts.largeFiles.tenGb.minutes)} min ≈ ${dollars(facts.largeFiles.tenGb.usd)}`
      : `One ${facts.lambda.memoryMb} MB Lambda (one vCPU) handles about ${(m.maxRowsPerInvocation / 1e6).toFixed(0)}M rows within 15 minutes`,
    `${daily?.workload.label}: ${dollars(daily?.total ?? 0)}/month; ${hundred?.workload.label}: ${dollars(hundred?.total ?? 0)}/month (Lambda ${dollars(hundred?.lambda ?? 0)}, Step Functions ${dollars(hundred?.stepFunctions ?? 0)}, S3 ${dollars((hundred?.s3Requests ?? 0) + (hundred?.s3Storage ?? 0))}, KMS ${dollars(hundred?.kms ?? 0)}, Athena ${dollars(hundred?.athena ?? 0)}, CloudWatch ${dollars(hundred?.monitoring ?? 0)})`,
    `Prices (eu-west-2): Lambda $${PRICES.lambdaGbSecondArm.toFixed(7)}/GB-s · SFN $0.025/1k · S3 $${PRICES.s3StandardGbMonth}/GB-mo, $${PRICES.s3PutPer1000}/1k PUT · KMS $1/key · Athena $${PRICES.athenaPerTbScanned}/TB · alarm $0.10 · Fargate ARM (us-east-1) $${FARGATE_ARM_PRICES_USD.perVcpuHour}/vCPU-h`,
  ])
  footer(slide)
  slide.addNotes(
    [
      'Four decisions, about 90 seconds each.',
      'Storage: two buckets keep untouched input apart from curated output. Parquet with Snappy is what Athena, Spark and DuckDB read fastest; dt partitions bound what a query scans. Lifecycle rules move raw files to cheaper classes and expire rejects.',
      'Orchestration: Step Functions gives retries, catches and an execution history per file for almost nothing. The backfill uses the same Lambda, so there is one code path. We would move to Glue or Fargate only when single files outgrow a 15-minute Lambda.',
      'Security and monitoring: a single customer-managed key, least-privilege roles verified by cdk-nag on every synth, and alarms on both pipeline health and data quality, with the metric names shared between the Lambda and the alarms so they cannot drift.',
      `Scaling and cost: the measured throughput is ${((m.seconds * 1e6) / m.rows).toFixed(1)} seconds per million rows on one core; each file is its own execution, so throughput grows with the number of files. The monthly figures are computed from the list prices written on the slide.`,
    ].join('\n'),
  )
}

/** `2.3 GB` (decimal, as S3 reports sizes). */
function gigabytes(bytes: number): string {
  return `${(bytes / 1e9).toFixed(1)} GB`
}

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Template } from 'aws-cdk-lib/assertions'
import { buildApp } from '../../infra/src/app.js'
import { largeFileRunEstimate } from '../../infra/src/capacity.js'
import { repositoryRoot } from '../../infra/src/paths.js'
import { DQ_METRICS, DQ_METRICS_NAMESPACE } from '../../lambdas/ingest/src/dq-metrics.js'
import { INGEST_RETRY, LAMBDA_SERVICE_RETRY, STATES } from '../../lambdas/ingest/src/orchestration.js'
import { PROCESSED_PREFIXES } from '../../lambdas/ingest/src/output-keys.js'
import { REJECT_REASONS } from '../../shared/src/contract.js'
import { type Estimate, estimateMonthlyCost, type PerFileFacts } from './cost.js'

/** The measured figures the deck quotes, kept in docs/performance.json by the benchmark. */
export interface Measurements {
  machine: string
  rows: number
  seconds: number
  /** Seconds for the same rows when they fit the memory budget (one pass). */
  singlePassSeconds: number
  peakRssMb: number
  csvBytesPerRow: number
  parquetBytesPerRow: number
  /** Largest file (rows) one invocation handles within 15 minutes at the recommended memory. */
  maxRowsPerInvocation: number
}

/** Everything the slides state about the stack, read from the stack itself. */
export interface DeckFacts {
  stackName: string
  lambda: { memoryMb: number; timeoutSeconds: number; runtime: string; architecture: string }
  retry: { errors: string[]; maxRetries: number; intervalSeconds: number; backoffRate: number }
  /** How the invoke itself is retried when Lambda throttles or fails it. */
  throttleRetry: { maxRetries: number; maxDelaySeconds: number; jitter: string }
  states: typeof STATES
  alarms: string[]
  metricsNamespace: string
  metricNames: string[]
  backfillConcurrency: number
  lifecycle: {
    rawToIaDays: number
    rawToGlacierIrDays: number
    rejectsExpireDays: number
    abortUploadsDays: number
  }
  eventPattern: string
  /** The Fargate path for files one Lambda cannot take; undefined when deployed with largeFiles=off. */
  largeFiles?: {
    thresholdBytes: number
    vcpu: number
    memoryGiB: number
    /** Estimated minutes and USD for one 10 GB file. */
    tenGb: { minutes: number; usd: number }
  }
  /** The Iceberg table kept across files, if the stack has it. */
  currentTable?: { name: string }
  measurements: Measurements
  estimates: Estimate[]
}

/** Synthesizes the stack and collects the facts the deck shows. */
export function collectFacts(): DeckFacts {
  const { stack } = buildApp()
  const template = Template.fromStack(stack)
  const fn = Object.values(template.findResources('AWS::Lambda::Function'))[0]?.Properties
  const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) =>
    String(a.Properties.AlarmName).replace(/^listings-ingest-/, ''),
  )
  const buckets = template.findResources('AWS::S3::Bucket')
  const rules = (prefix: string) =>
    (Object.entries(buckets).find(([id]) => id.startsWith(prefix))?.[1].Properties.LifecycleConfiguration
      .Rules ?? []) as {
      Prefix?: string
      Transitions?: { StorageClass: string; TransitionInDays: number }[]
      ExpirationInDays?: number
      AbortIncompleteMultipartUpload?: { DaysAfterInitiation: number }
    }[]
  const rawTransitions = rules('StorageRaw').find((r) => r.Transitions)?.Transitions ?? []
  const definition = JSON.stringify(template.toJSON())
  const concurrency = Number(/\\"MaxConcurrency\\":(\d+)/.exec(definition)?.[1] ?? Number.NaN)
  const outputs = (template.toJSON().Outputs ?? {}) as Record<string, { Value: unknown }>
  const output = (name: string) => outputs[name]?.Value
  const taskDefinition = Object.values(template.findResources('AWS::ECS::TaskDefinition'))[0]?.Properties
  const thresholdBytes = Number(output('LargeFileThresholdBytes'))
  const largeFiles =
    taskDefinition === undefined || !Number.isFinite(thresholdBytes)
      ? undefined
      : {
          thresholdBytes,
          vcpu: Number(taskDefinition.Cpu) / 1024,
          memoryGiB: Number(taskDefinition.Memory) / 1024,
          tenGb: largeFileRunEstimate(10e9, {
            vcpu: Number(taskDefinition.Cpu) / 1024,
            memoryGiB: Number(taskDefinition.Memory) / 1024,
            publicIp: true,
          }),
        }
  const currentTableName = output('CurrentTableName')
  const measurements = JSON.parse(
    readFileSync(join(repositoryRoot(), 'docs/performance.json'), 'utf8'),
  ) as Measurements
  const lambda = {
    memoryMb: Number(fn?.MemorySize),
    timeoutSeconds: Number(fn?.Timeout),
    runtime: String(fn?.Runtime),
    architecture: String(fn?.Architectures?.[0]),
  }
  const metricNames = [
    ...Object.values(DQ_METRICS).map((m) => m.name),
    ...REJECT_REASONS.map((r) => `Rejected_${r}`),
  ]
  const perFile: PerFileFacts = {
    secondsPerMillionRows: (measurements.seconds * 1e6) / measurements.rows,
    lambdaMemoryMb: lambda.memoryMb,
    csvBytesPerRow: measurements.csvBytesPerRow,
    parquetBytesPerRow: measurements.parquetBytesPerRow,
    transitionsPerFile: 4,
    putsPerFile: 6,
    getsPerFile: 6,
    kmsRequestsPerFile: 6,
    customMetrics: metricNames.length,
    alarms: alarms.length,
    mergeScanParquetMultiple: typeof currentTableName === 'string' ? 5 : 0,
  }
  return {
    stackName: stack.stackName,
    lambda,
    retry: { ...INGEST_RETRY, errors: [...INGEST_RETRY.errors] },
    throttleRetry: {
      maxRetries: LAMBDA_SERVICE_RETRY.maxRetries,
      maxDelaySeconds: LAMBDA_SERVICE_RETRY.maxDelaySeconds,
      jitter: LAMBDA_SERVICE_RETRY.jitter.toLowerCase(),
    },
    states: STATES,
    alarms,
    metricsNamespace: DQ_METRICS_NAMESPACE,
    metricNames,
    backfillConcurrency: concurrency,
    lifecycle: {
      rawToIaDays:
        rawTransitions.find((t) => t.StorageClass === 'STANDARD_IA')?.TransitionInDays ?? Number.NaN,
      rawToGlacierIrDays:
        rawTransitions.find((t) => t.StorageClass === 'GLACIER_IR')?.TransitionInDays ?? Number.NaN,
      rejectsExpireDays:
        rules('StorageProcessed').find((r) => r.Prefix === PROCESSED_PREFIXES.rejected)?.ExpirationInDays ??
        Number.NaN,
      abortUploadsDays:
        rules('StorageRaw').find((r) => r.AbortIncompleteMultipartUpload)?.AbortIncompleteMultipartUpload
          ?.DaysAfterInitiation ?? Number.NaN,
    },
    eventPattern: 'aws.s3 · Object Created · raw bucket · incoming/*.csv or .csv.gz (any case)',
    ...(largeFiles ? { largeFiles } : {}),
    ...(typeof currentTableName === 'string' ? { currentTable: { name: currentTableName } } : {}),
    measurements,
    estimates: [
      estimateMonthlyCost(
        { label: '1 file of 1M rows a day', filesPerDay: 1, rowsPerFile: 1_000_000 },
        perFile,
      ),
      estimateMonthlyCost(
        { label: '100 files of 1M rows a day', filesPerDay: 100, rowsPerFile: 1_000_000 },
        perFile,
      ),
    ],
  }
}

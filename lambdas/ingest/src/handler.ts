import { Logger } from '@aws-lambda-powertools/logger'
import { Metrics } from '@aws-lambda-powertools/metrics'
import { S3Client } from '@aws-sdk/client-s3'
import type { Context } from 'aws-lambda'
import { readConfig } from './config.js'
import { DQ_METRICS_NAMESPACE, DQ_SERVICE_NAME } from './dq-metrics.js'
import { parseEvent } from './event.js'
import type { IngestSummary } from './ingest-summary.js'
import { processObject } from './process-object.js'

/** What a handler needs; tests and the local runner pass their own. */
export interface HandlerDeps {
  s3: S3Client
  env: Record<string, string | undefined>
  logger: Logger
  metrics: Metrics
  /**
   * A module that runs the Parquet encoder thread (the bundle itself, whose entry calls
   * `runParquetWorker`), for runtimes with a second core: the large-file task.
   * @default undefined (encode on the main thread, as the one-vCPU Lambda does)
   */
  parquetWorker?: URL
}

/**
 * Builds the Lambda handler. Each invocation reads the event, processes the
 * one object it names, and publishes the DQ metrics, whatever the outcome.
 */
export function createHandler(deps: HandlerDeps) {
  return async (event: unknown, context?: Pick<Context, 'awsRequestId'>): Promise<IngestSummary> => {
    const { logger, metrics } = deps
    const parsed = parseEvent(event)
    logger.resetKeys()
    logger.appendKeys({
      ...(context?.awsRequestId ? { request_id: context.awsRequestId } : {}),
      ...(parsed.executionId ? { execution_id: parsed.executionId } : {}),
      ...(parsed.kind === 'object'
        ? { bucket: parsed.source.bucket, key: parsed.source.key, etag: parsed.source.etag ?? null }
        : {}),
    })
    if (parsed.kind === 'unsupported') {
      logger.info('event ignored', { reason: parsed.reason })
      return { status: 'skipped', reason: parsed.reason, threshold_breached: false }
    }
    try {
      const summary = await processObject(parsed.source, {
        s3: deps.s3,
        config: readConfig(deps.env),
        logger,
        metrics,
        ...(deps.parquetWorker ? { parquetWorker: deps.parquetWorker } : {}),
      })
      if (summary.status !== 'processed') logger.info(`object ${summary.status}`, { reason: summary.reason })
      return summary
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error'
      logger.error('ingest failed', {
        error_name: name,
        error_message: error instanceof Error ? error.message : String(error),
      })
      throw error
    } finally {
      metrics.publishStoredMetrics()
    }
  }
}

/**
 * An S3 client for the environment. `S3_ENDPOINT` points it at a local
 * S3-API server (path-style, and checksums only where required, since the
 * local server stores aws-chunked streaming uploads corrupted).
 */
export function createS3Client(env: Record<string, string | undefined>): S3Client {
  if (!env.S3_ENDPOINT) return new S3Client({})
  return new S3Client({
    endpoint: env.S3_ENDPOINT,
    forcePathStyle: true,
    region: env.AWS_REGION ?? 'us-east-1',
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  })
}

let lambdaHandler: ReturnType<typeof createHandler> | undefined

/** The Lambda entry point. */
export const handler = (event: unknown, context: Context): Promise<IngestSummary> => {
  lambdaHandler ??= createHandler({
    s3: createS3Client(process.env),
    env: process.env,
    logger: new Logger({ serviceName: DQ_SERVICE_NAME }),
    metrics: new Metrics({ namespace: DQ_METRICS_NAMESPACE, serviceName: DQ_SERVICE_NAME }),
  })
  return lambdaHandler(event, context)
}

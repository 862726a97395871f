import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { readConfig } from '../../../lambdas/ingest/src/config.js'
import { createHandler, createS3Client } from '../../../lambdas/ingest/src/handler.js'
import {
  DEFAULT_INCOMING_PREFIX,
  DEFAULT_LOOKUP_KEY,
  isIncomingCsv,
} from '../../../lambdas/ingest/src/incoming-keys.js'
import type { IngestSummary } from '../../../lambdas/ingest/src/ingest-summary.js'
import { StderrLogger } from '../logger.js'
import { CapturingMetrics } from './capturing-metrics.js'
import { synthesizedTemplate } from './cdk-synth.js'
import type { LambdaFunction } from './lambda-invoke.js'
import { type LocalS3, type ObjectCreatedEvent, startLocalS3 } from './local-s3.js'
import { LocalStateMachine } from './state-machine.js'
import {
  type AslDefinition,
  distributedMapItemProcessor,
  type SynthesizedStateMachine,
  stateMachineNamed,
} from './synthesized-template.js'
import type { Execution, Notification } from './task-bindings.js'

export const RAW_BUCKET = 'raw'
export const PROCESSED_BUCKET = 'processed'
export const INCOMING_PREFIX = DEFAULT_INCOMING_PREFIX
export const LOOKUP_KEY = DEFAULT_LOOKUP_KEY

/** Options for {@link startLocalPipeline}. */
export interface LocalPipelineOptions {
  /** Fixed port for the S3 server. @default a random free port */
  port?: number
  /** Extra handler environment, e.g. `MAX_REJECTED_RATIO`. @default {} */
  env?: Record<string, string>
  /**
   * When set, each retry pauses the retrier's `IntervalSeconds` times this
   * factor (no backoff, no jitter), so tests retry in milliseconds; attempts
   * stay as synthesized.
   * @default undefined (the synthesized intervals, backoff and jitter)
   */
  intervalScale?: number
  /**
   * Wraps the function the Lambda tasks invoke, e.g. to throw a
   * `Lambda.TooManyRequestsException` or a `TransientError` before the
   * handler runs. An error it throws reaches the state machine by its `name`.
   * @default the handler itself
   */
  wrapHandler?: (handler: LambdaFunction) => LambdaFunction
  /**
   * Builds the function the Lambda tasks invoke instead of the in-process
   * handler, e.g. the bundled asset from cdk.out on the Lambda's Node major.
   * It gets the S3 endpoint and the handler environment the pipeline would use.
   * @default the handler from lambdas/ingest, in this process
   */
  lambda?: (settings: { endpoint: string; env: Record<string, string> }) => LambdaFunction
  /** Log level of the handler's logger. @default 'WARN' */
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT'
  /** Called after each execution ends. */
  onExecution?: (execution: Execution<IngestSummary>, event: ObjectCreatedEvent) => void
  /**
   * Rewrites the endpoint the handler uses, e.g. to route it through a fault-injecting proxy.
   * @default the server's own endpoint
   */
  handlerEndpoint?: (endpoint: string) => string
}

/** The raw and processed buckets on a local S3 server, wired to the handler as AWS wires them. */
export interface LocalPipeline {
  s3: LocalS3
  metrics: CapturingMetrics
  /** Every execution so far, in the order they started. */
  executions: Promise<Execution<IngestSummary>>[]
  /** Every SNS publish of every execution, in order. */
  notifications: Notification[]
  /** The synthesized state machines this pipeline runs. */
  stateMachines: { ingest: SynthesizedStateMachine; backfill: SynthesizedStateMachine }
  /** Runs an event (as EventBridge delivers it) through the synthesized ingest state machine. */
  execute(event: unknown): Promise<Execution<IngestSummary>>
  /**
   * Runs one item of the backfill's Distributed Map (`{ Key, Etag, ... }` as
   * its S3 item reader lists it) through the map's synthesized item
   * processor, reading the raw bucket.
   */
  backfillItem(item: Record<string, unknown>): Promise<Execution<IngestSummary>>
  /** Uploads a local file to the raw bucket's incoming prefix (PutObject, streamed). */
  upload(path: string, name: string): Promise<void>
  /** Waits until every execution started so far has ended. */
  settle(): Promise<Execution<IngestSummary>[]>
  close(): Promise<void>
}

/**
 * Starts a local S3 server with the raw and processed buckets and the lookup
 * uploaded, and runs the ingest state machine that `cdk synth` produces (in
 * the aws-local-stepfunctions interpreter, its Lambda task bound to the real
 * handler) for every object created in the raw bucket.
 *
 * @param lookupPath - the category lookup to upload to `s3://raw/reference/`
 */
export async function startLocalPipeline(
  lookupPath: string,
  options: LocalPipelineOptions = {},
): Promise<LocalPipeline> {
  const env = {
    PROCESSED_BUCKET,
    LOOKUP_URI: `s3://${RAW_BUCKET}/${LOOKUP_KEY}`,
    INCOMING_PREFIX,
    ...options.env,
  }
  // A bad setting fails here, once, not in every execution.
  readConfig(env)
  // The server first: a port in use fails before anything else is made.
  const s3 = await startLocalS3([RAW_BUCKET, PROCESSED_BUCKET], options.port ? { port: options.port } : {})
  try {
    return await runPipeline(s3, lookupPath, env, options)
  } catch (error) {
    await s3.close()
    throw error
  }
}

async function runPipeline(
  s3: LocalS3,
  lookupPath: string,
  env: Record<string, string>,
  options: LocalPipelineOptions,
): Promise<LocalPipeline> {
  const template = await synthesizedTemplate()
  const stateMachines = {
    ingest: stateMachineNamed(template, 'ingest'),
    backfill: stateMachineNamed(template, 'backfill'),
  }
  const metrics = new CapturingMetrics()
  const endpoint = options.handlerEndpoint?.(s3.endpoint) ?? s3.endpoint
  const handler: LambdaFunction =
    options.lambda?.({ endpoint, env }) ??
    createHandler({
      s3: createS3Client({ S3_ENDPOINT: endpoint }),
      env,
      logger: new StderrLogger({ serviceName: 'listings-ingest', logLevel: options.logLevel ?? 'WARN' }),
      metrics,
    })
  const notifications: Notification[] = []
  const local = (machine: SynthesizedStateMachine, definition: AslDefinition = machine.definition) =>
    new LocalStateMachine(definition, {
      name: machine.name,
      lambda: options.wrapHandler?.(handler) ?? handler,
      ...(machine.lambdaTimeoutSeconds === undefined
        ? {}
        : { lambdaTimeoutSeconds: machine.lambdaTimeoutSeconds }),
      ...(options.intervalScale === undefined ? {} : { retryIntervalScale: options.intervalScale }),
      onNotification: (notification) => notifications.push(notification),
    })
  const ingest = local(stateMachines.ingest)
  const backfillItem = local(
    stateMachines.backfill,
    distributedMapItemProcessor(stateMachines.backfill.definition, RAW_BUCKET).definition,
  )
  const executions: Promise<Execution<IngestSummary>>[] = []
  const execute = (event: unknown) => {
    const execution = ingest.run(event) as Promise<Execution<IngestSummary>>
    executions.push(execution)
    return execution
  }
  s3.onObjectCreated((event) => {
    // What the EventBridge rule matches in AWS: the raw bucket, the incoming prefix, the .csv suffix.
    const { bucket, object } = event.detail
    if (bucket.name !== RAW_BUCKET || !isIncomingCsv(object.key, INCOMING_PREFIX)) return
    void execute(event).then((execution) => options.onExecution?.(execution, event))
  })
  await putFile(s3, RAW_BUCKET, LOOKUP_KEY, lookupPath)
  return {
    s3,
    metrics,
    executions,
    notifications,
    stateMachines,
    execute,
    backfillItem: (item) => backfillItem.run(item) as Promise<Execution<IngestSummary>>,
    upload: (path, name) => putFile(s3, RAW_BUCKET, `${INCOMING_PREFIX}${name}`, path),
    async settle() {
      // Events arrive just after the PUT returns; give them a turn to start.
      await new Promise((resolve) => setTimeout(resolve, 50))
      let settled: Execution<IngestSummary>[] = []
      while (settled.length < executions.length) settled = await Promise.all(executions)
      return settled
    },
    close: () => s3.close(),
  }
}

async function putFile(s3: LocalS3, bucket: string, key: string, path: string): Promise<void> {
  const { size } = await stat(path)
  await s3.client.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: createReadStream(path),
      ContentLength: size,
      ContentType: 'text/csv',
    }),
  )
}

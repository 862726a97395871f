import { availableParallelism } from 'node:os'
import { getHeapStatistics } from 'node:v8'
import { Logger } from '@aws-lambda-powertools/logger'
import { Metrics } from '@aws-lambda-powertools/metrics'
import { DQ_METRICS_NAMESPACE, DQ_SERVICE_NAME } from './dq-metrics.js'
import { createHandler, createS3Client, type HandlerDeps } from './handler.js'
import type { IngestSummary } from './ingest-summary.js'
import { TASK_EVENT_ENV, TASK_EXIT_CODES } from './orchestration.js'

/**
 * The large-file path's program: the Lambda's handler (the same
 * `processObject`: idempotency manifest, version-pinned reads, deterministic
 * keys, metrics, report) run once in an ECS Fargate task, for files larger
 * than one Lambda invocation can take.
 *
 * The state machine passes the event as the Lambda receives it, in the
 * container's environment (`INGEST_EVENT`, JSON, and `INGEST_EXECUTION_ID`),
 * and learns the outcome only from the exit code (see `TASK_EXIT_CODES` in
 * orchestration.ts for why): this module turns the handler's summary or error
 * into that code. The rest of the environment is the Lambda's
 * (`PROCESSED_BUCKET`, `LOOKUP_URI`, ...); the heap size comes from
 * `NODE_OPTIONS`, which the task definition derives from the task's memory.
 */

/** The exit code for what the handler returned or threw. */
export function exitCodeFor(outcome: { summary: IngestSummary } | { error: unknown }): number {
  if ('summary' in outcome) {
    const { summary } = outcome
    if (summary.status !== 'processed') return TASK_EXIT_CODES.nothingToDo
    return summary.counts.rows_after_dedup === 0 ? TASK_EXIT_CODES.noRowsWritten : TASK_EXIT_CODES.processed
  }
  const name = (outcome.error as { name?: unknown } | undefined)?.name
  const known = Object.entries(TASK_EXIT_CODES).find(([errorName]) => errorName === name)
  return known === undefined ? UNEXPECTED_FAILURE : known[1]
}

/** What an uncaught failure exits with, as Node itself would. */
const UNEXPECTED_FAILURE = 1

/**
 * The event the state machine passed: the parsed JSON of `INGEST_EVENT`,
 * wrapped with the execution id as the Lambda task wraps it. Text that is not
 * JSON is passed on as it is, so the handler reports it as an unsupported
 * event (skipped, with the reason), exactly as it would in Lambda.
 *
 * @returns `undefined` when the variable is not set (a misconfigured task)
 */
export function taskEvent(env: Record<string, string | undefined>): unknown {
  const text = env[TASK_EVENT_ENV.event]
  if (text === undefined) return undefined
  let event: unknown = text
  try {
    event = JSON.parse(text)
  } catch {
    // Not JSON: the handler names it unsupported.
  }
  const executionId = env[TASK_EVENT_ENV.executionId]
  return executionId ? { event, executionId } : { event }
}

/**
 * Runs the handler on the task's event and returns the exit code; never
 * throws. Logs one line with the outcome and the code.
 */
export async function runTask(deps: HandlerDeps): Promise<number> {
  const { logger } = deps
  const event = taskEvent(deps.env)
  if (event === undefined) {
    logger.error('ingest failed', {
      error_name: 'ConfigurationError',
      error_message: `${TASK_EVENT_ENV.event} is not set: the state machine passes the event there`,
    })
    return TASK_EXIT_CODES.ConfigurationError
  }
  logger.info('large-file task started', {
    heap_limit_mb: Math.round(getHeapStatistics().heap_size_limit / 2 ** 20),
  })
  let code: number
  try {
    const summary = await createHandler(deps)(event)
    code = exitCodeFor({ summary })
  } catch (error) {
    // The handler has logged the error by name; an error it did not throw on purpose is logged here.
    code = exitCodeFor({ error })
    if (code === UNEXPECTED_FAILURE) {
      logger.error('unexpected failure', { error: error instanceof Error ? error.stack : String(error) })
    }
  }
  logger.info('large-file task finished', { exit_code: code })
  return code
}

/** The container's main: the handler's dependencies from the process, then {@link runTask}. */
export async function main(env: Record<string, string | undefined> = process.env): Promise<number> {
  const s3 = createS3Client(env)
  try {
    return await runTask({
      s3,
      env,
      logger: new Logger({ serviceName: DQ_SERVICE_NAME }),
      metrics: new Metrics({ namespace: DQ_METRICS_NAMESPACE, serviceName: DQ_SERVICE_NAME }),
      // The task has more than one vCPU: a file read twice (over the memory budget) encodes
      // Parquet on a second thread running this same bundle (task-main.ts starts it).
      ...(availableParallelism() > 1 ? { parquetWorker: new URL(import.meta.url) } : {}),
    })
  } finally {
    // Idle keep-alive sockets would hold the process open after the work is done.
    s3.destroy()
  }
}

import { setTimeout as sleep } from 'node:timers/promises'
import { DATA_QUALITY_ERROR, INGEST_RETRY, STATES } from '../../../lambdas/ingest/src/orchestration.js'

/** How one local execution ended, in Step Functions' terms. */
export interface Execution<Output> {
  executionId: string
  status: 'SUCCEEDED' | 'FAILED'
  /** The task's output when it succeeded. */
  output?: Output
  /** The error name the execution failed with. */
  error?: string
  cause?: string
  /** How many times the task ran. */
  attempts: number
  /** The states visited, in order. */
  path: string[]
}

/** The part of the task's output the Choice state reads. */
export interface ChoiceInput {
  status?: string
  counts?: { rows_after_dedup?: number }
}

/** Options for {@link runExecution}. */
export interface RunOptions {
  /**
   * Scales the production retry interval, so tests can retry in milliseconds.
   * @default 1
   */
  intervalScale?: number
  /** Called where the state machine publishes to its SNS topic. */
  notify?: (subject: string, message: string) => void
}

let executions = 0

/**
 * Runs one event through the same states as the ingest state machine: invoke
 * the task with `{ event, executionId }`, retry the errors in
 * {@link INGEST_RETRY} with exponential backoff, route a data-quality breach
 * and any other failure to notify-then-fail branches, and on success choose
 * on the result (a processed file that wrote no rows is notified).
 *
 * @param event - the EventBridge event, passed through whole
 * @param task - the Lambda handler
 */
export async function runExecution<Output extends ChoiceInput>(
  event: unknown,
  task: (payload: { event: unknown; executionId: string }) => Promise<Output>,
  options: RunOptions = {},
): Promise<Execution<Output>> {
  const executionId = `local:${process.pid}:${++executions}`
  const path: string[] = [STATES.ingest]
  const scale = options.intervalScale ?? 1
  let attempts = 0
  for (;;) {
    attempts++
    try {
      const output = await task({ event, executionId })
      path.push(STATES.checkResult, ...choose(output, executionId, options))
      return { executionId, status: 'SUCCEEDED', output, attempts, path }
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error'
      const cause = error instanceof Error ? error.message : String(error)
      const retryable = (INGEST_RETRY.errors as readonly string[]).includes(name)
      if (retryable && attempts <= INGEST_RETRY.maxRetries) {
        const seconds = INGEST_RETRY.intervalSeconds * INGEST_RETRY.backoffRate ** (attempts - 1)
        await sleep(seconds * 1000 * scale)
        continue
      }
      const dataQuality = name === DATA_QUALITY_ERROR
      path.push(
        dataQuality ? STATES.notifyDataQualityFailure : STATES.notifyFailure,
        dataQuality ? STATES.dataQualityFailed : STATES.ingestFailed,
      )
      options.notify?.(`${name} in ${executionId}`, cause)
      return { executionId, status: 'FAILED', error: name, cause, attempts, path }
    }
  }
}

function choose(output: ChoiceInput, executionId: string, options: RunOptions): string[] {
  if (output.status !== 'processed') return [STATES.nothingToDo]
  if (output.counts?.rows_after_dedup === 0) {
    options.notify?.(`No rows written in ${executionId}`, JSON.stringify(output))
    return [STATES.notifyNoRows, STATES.processed]
  }
  return [STATES.processed]
}

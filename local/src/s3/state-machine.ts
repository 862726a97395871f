import { randomUUID } from 'node:crypto'
import {
  ExecutionError,
  type RunOptions,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions'
import { CurrentTableBindings, ServiceError } from './current-table-bindings.js'
import { type AslDefinition, type AslState, PLACEHOLDER_ENV } from './synthesized-template.js'

/**
 * Runs a synthesized state-machine definition with the ASL interpreter
 * aws-local-stepfunctions: Retry, Catch, Choice, Parameters, ResultPath and
 * Fail are the interpreter's, read from the definition as deployed. Only the
 * Task states' resources are bound locally: a Lambda task calls a local
 * function the way the Lambda service would (JSON in, JSON out, an error
 * reported by name with a JSON cause), an SNS publish is recorded, the
 * current table's merge step runs against {@link CurrentTableBindings} (an
 * in-memory writer lock; the MERGE recorded, or run by an executor), and the
 * large-file branch's `ecs:runTask.sync` fails unless a binding is given
 * (local files are far below the size threshold, so it is not reached).
 */

polyfillPromiseWithResolvers()

/** One message a Task published to SNS. */
export interface Notification {
  topicArn: string
  subject: string | undefined
  /** The message as SNS receives it: a JSON `Message` is serialized, as Step Functions does. */
  message: string
}

/** The error a Lambda task last failed with (Step Functions' `Error`, and the function's `errorMessage`). */
export interface TaskFailure {
  error: string
  message: string
}

/** How one local execution ended, in Step Functions' terms. */
export interface Execution<Output> {
  /** The execution ARN, which the Lambda task receives as `$$.Execution.Id`. */
  executionId: string
  status: 'SUCCEEDED' | 'FAILED'
  /** The execution's output when it succeeded. */
  output?: Output
  /** The execution's error when it failed (for a Fail state, its `Error`). */
  error?: string
  /** The execution's cause when it failed (for a Fail state, its `Cause`). */
  cause?: string
  /** What the Lambda task failed with last, if it ever failed (retried or caught). */
  taskError?: TaskFailure
  /** How many times a Lambda task was invoked, retries included. */
  attempts: number
  /** The top-level states entered, in order. */
  path: string[]
  /** Every SNS publish, in order. */
  notifications: Notification[]
  /** The current-table statements (MERGE) this execution sent to Athena, in order. */
  merges: string[]
}

/** A function behind a Lambda task; the local stand-in for the deployed function. */
export type LambdaFunction = (event: unknown, context: { awsRequestId: string }) => Promise<unknown>

/** Options for {@link LocalStateMachine}. */
export interface LocalStateMachineOptions {
  /** The state machine's name, part of every execution ARN. */
  name: string
  /** What every Lambda task invokes. */
  lambda: LambdaFunction
  /**
   * The function's own timeout, which bounds a Lambda task that sets no
   * `TimeoutSeconds` in AWS (the interpreter would otherwise stop it at 60 s).
   * @default 60
   */
  lambdaTimeoutSeconds?: number
  /**
   * When set, every retry pauses `IntervalSeconds × retryIntervalScale`
   * (no backoff, no jitter) instead of the definition's own timing, so tests
   * retry in milliseconds. The number of attempts stays the definition's.
   * @default undefined (the definition's timing)
   */
  retryIntervalScale?: number
  /** Called with every SNS publish as it happens. */
  onNotification?: (notification: Notification) => void
  /**
   * The current table's lock and Athena, shared by the executions.
   * @default new CurrentTableBindings() (the MERGE recorded, not executed)
   */
  currentTable?: CurrentTableBindings
  /**
   * What an `ecs:runTask.sync` task (the large-file branch) does with its parameters.
   * @default a States.TaskFailed saying the task is not bound locally (the branch then fails as LargeFileTaskFailed)
   */
  largeFileTask?: (parameters: unknown) => Promise<unknown>
}

type LocalHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>

const LAMBDA_ARN = /^arn:[^:]+:lambda:[^:]+:\d+:function:/
const LAMBDA_INVOKE = /^arn:[^:]+:states:::lambda:invoke$/
const SNS_PUBLISH = /^arn:[^:]+:states:::sns:publish$/
const ECS_RUN_TASK = /^arn:[^:]+:states:::ecs:runTask(\.sync)?$/

/** One synthesized definition, ready to run locally any number of times, concurrently. */
export class LocalStateMachine {
  private readonly machine: StateMachine
  private readonly lambdaStates: string[]
  private readonly snsStates: string[]
  private readonly ecsStates: string[]
  private readonly currentTableStates: string[]
  private readonly currentTable: CurrentTableBindings
  private readonly retryIntervals: Record<string, number[]>
  private readonly waits: Record<string, number>

  constructor(
    readonly definition: AslDefinition,
    private readonly options: LocalStateMachineOptions,
  ) {
    const states = Object.entries(definition.States)
    const resource = (state: AslState) => (state.Type === 'Task' ? (state.Resource ?? '') : undefined)
    this.lambdaStates = states.filter(([, state]) => isLambda(resource(state) ?? '')).map(([name]) => name)
    this.snsStates = states
      .filter(([, state]) => SNS_PUBLISH.test(resource(state) ?? ''))
      .map(([name]) => name)
    this.ecsStates = states
      .filter(([, state]) => ECS_RUN_TASK.test(resource(state) ?? ''))
      .map(([name]) => name)
    this.currentTable = options.currentTable ?? new CurrentTableBindings()
    this.currentTableStates = states
      .filter(([, state]) => this.currentTable.handlerFor(resource(state) ?? '', () => '') !== undefined)
      .map(([name]) => name)
    const bound = new Set([
      ...this.lambdaStates,
      ...this.snsStates,
      ...this.ecsStates,
      ...this.currentTableStates,
    ])
    const unbound = states.filter(([name, state]) => state.Type === 'Task' && !bound.has(name))
    if (unbound.length > 0)
      throw new Error(
        `no local binding for Task ${unbound.map(([name, s]) => `${name} (${s.Resource})`).join(', ')}`,
      )
    const scale = options.retryIntervalScale
    this.retryIntervals = Object.fromEntries(
      scale === undefined
        ? []
        : states
            .filter(([, state]) => state.Retry !== undefined)
            .map(([name, state]) => [
              name,
              (state.Retry ?? []).map((r) => (r.IntervalSeconds ?? 1) * 1000 * scale),
            ]),
    )
    // The lock's random waits, scaled like the retries (the definition's seconds otherwise).
    this.waits = Object.fromEntries(
      scale === undefined
        ? []
        : states.filter(([, state]) => state.Type === 'Wait').map(([name]) => [name, 30 * 1000 * scale]),
    )
    this.machine = new StateMachine(
      withLambdaTimeouts(
        definition,
        this.lambdaStates,
        options.lambdaTimeoutSeconds,
      ) as StateMachineDefinition,
    )
  }

  /** Starts an execution with `input` and resolves when it ends; never rejects for a failed execution. */
  async run(input: unknown): Promise<Execution<unknown>> {
    const { partition, region, account } = PLACEHOLDER_ENV
    const name = randomUUID()
    const stateMachineArn = `arn:${partition}:states:${region}:${account}:stateMachine:${this.options.name}`
    const executionId = `arn:${partition}:states:${region}:${account}:execution:${this.options.name}:${name}`
    const execution: Execution<unknown> = {
      executionId,
      status: 'SUCCEEDED',
      attempts: 0,
      path: [],
      notifications: [],
      merges: [],
    }
    const handlers: LocalHandlers = {}
    for (const state of this.lambdaStates) {
      const invoke = LAMBDA_INVOKE.test(this.definition.States[state]?.Resource ?? '')
      handlers[state] = async (payload) => {
        execution.attempts++
        if (!invoke) return invokeFunction(this.options.lambda, payload)
        const result = await invokeFunction(this.options.lambda, (payload as { Payload?: unknown }).Payload)
        return json({ ExecutedVersion: '$LATEST', Payload: result, StatusCode: 200 })
      }
    }
    for (const state of this.snsStates) {
      handlers[state] = async (input) => {
        const parameters = input as { TopicArn?: string; Subject?: string; Message?: unknown }
        const { Message: message } = parameters
        const notification: Notification = {
          topicArn: String(parameters.TopicArn),
          subject: parameters.Subject,
          message: typeof message === 'string' ? message : JSON.stringify(message),
        }
        execution.notifications.push(notification)
        this.options.onNotification?.(notification)
        return { MessageId: randomUUID() }
      }
    }
    for (const state of this.ecsStates) {
      handlers[state] = async (parameters) => {
        if (this.options.largeFileTask !== undefined)
          return json(await this.options.largeFileTask(parameters))
        throw new ServiceError(
          'States.TaskFailed',
          'the large-file task (ecs:runTask.sync) is not bound locally',
        )
      }
    }
    for (const state of this.currentTableStates) {
      const resource = this.definition.States[state]?.Resource ?? ''
      const handler = this.currentTable.handlerFor(resource, () => executionId)
      handlers[state] = async (parameters) => {
        const answer = await handler?.(parameters as Record<string, unknown>)
        if (resource.endsWith('startQueryExecution.sync'))
          execution.merges.push(String((parameters as { QueryString?: unknown }).QueryString))
        return answer as never
      }
    }
    this.currentTable.running.add(executionId)
    const { result, eventLogs } = this.machine.run(json(input), {
      overrides: {
        taskResourceLocalHandlers: handlers,
        retryIntervalOverrides: this.retryIntervals,
        waitTimeOverrides: this.waits,
      },
      context: {
        Execution: { Id: executionId, Name: name, RoleArn: `arn:${partition}:iam::${account}:role/local` },
        StateMachine: { Id: stateMachineArn, Name: this.options.name },
        // The interpreter sets no State.EnteredTime (the lock records it): the execution's start stands in.
        State: { EnteredTime: new Date().toISOString(), Name: '' },
      },
    })
    const history = (async () => {
      for await (const event of eventLogs) {
        // Events of Map iterations carry an index; the path is the top level's.
        if ('index' in event && event.index !== undefined) continue
        if (event.type === 'StateEntered') execution.path.push(event.state.name)
        if (event.type === 'StateFailed' && this.lambdaStates.includes(event.state.name))
          execution.taskError = { error: event.Error, message: errorMessage(event.Cause) }
      }
    })()
    try {
      execution.output = await result
    } catch (error) {
      if (!(error instanceof ExecutionError)) throw error
      const failure = error.cause as Error
      Object.assign(execution, { status: 'FAILED', error: failure.name, cause: failure.message })
    } finally {
      await history
      this.currentTable.running.delete(executionId)
    }
    return execution
  }
}

function isLambda(resource: string): boolean {
  return LAMBDA_ARN.test(resource) || LAMBDA_INVOKE.test(resource)
}

/** The definition with `TimeoutSeconds` set on Lambda tasks that have none, as the function's timeout bounds them in AWS. */
function withLambdaTimeouts(
  definition: AslDefinition,
  states: string[],
  seconds: number | undefined,
): AslDefinition {
  if (seconds === undefined) return definition
  const copy = structuredClone(definition)
  for (const name of states) {
    const state = copy.States[name]
    if (state !== undefined && state.TimeoutSeconds === undefined) state.TimeoutSeconds = seconds
  }
  return copy
}

/**
 * Calls `fn` as the Lambda service does for Step Functions: the payload and
 * the result cross as JSON, and a thrown error is reported by its `name`
 * (Step Functions' `Error`) with the runtime's JSON document as its cause.
 */
async function invokeFunction(fn: LambdaFunction, payload: unknown): Promise<never> {
  try {
    return json(await fn(json(payload), { awsRequestId: randomUUID() }))
  } catch (error) {
    throw new LambdaFunctionError(error)
  }
}

/** A function error as Step Functions sees it; `message` is the runtime's `{ errorType, errorMessage, trace }`. */
class LambdaFunctionError extends Error {
  constructor(error: unknown) {
    const thrown = error instanceof Error ? error : new Error(String(error))
    super(
      JSON.stringify({
        errorType: thrown.name,
        errorMessage: thrown.message,
        trace: thrown.stack?.split('\n') ?? [],
      }),
    )
    this.name = thrown.name
  }
}

/** The `errorMessage` of a Lambda error's JSON cause, or the cause itself. */
function errorMessage(cause: unknown): string {
  if (typeof cause !== 'string') return String(cause)
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown }
    return typeof parsed.errorMessage === 'string' ? parsed.errorMessage : cause
  } catch {
    return cause
  }
}

/** A JSON round trip: what crosses a service boundary (undefined becomes null at the top). */
function json<T>(value: T): never {
  return (value === undefined ? null : JSON.parse(JSON.stringify(value))) as never
}

/** aws-local-stepfunctions 3 calls `Promise.withResolvers` (Node 22+); Node 20 lacks it. */
export function polyfillPromiseWithResolvers(): void {
  const promise = Promise as unknown as { withResolvers?: () => unknown }
  promise.withResolvers ??= () => {
    let resolve: unknown
    let reject: unknown
    const created = new Promise((res, rej) => {
      resolve = res
      reject = rej
    })
    return { promise: created, resolve, reject }
  }
}

import { randomUUID } from 'node:crypto'
import type { RunOptions } from 'aws-local-stepfunctions'
import { CurrentTableBindings, ServiceError } from './current-table-bindings.js'
import { invokeFunction, json, type LambdaFunction } from './lambda-invoke.js'
import type { AslDefinition, AslState } from './synthesized-template.js'

/**
 * What each Task state of a synthesized definition does locally (the rest of
 * the definition is the interpreter's, see state-machine.ts): a Lambda task
 * calls a local function the way the Lambda service would (lambda-invoke.ts),
 * an SNS publish is recorded, the current table's merge step runs against
 * {@link CurrentTableBindings}, and the large-file branch's `ecs:runTask.sync`
 * fails unless a binding is given (local files are far below the size
 * threshold, so it is not reached). A Task with no binding is refused when the
 * machine is built, naming it, so a new integration is noticed, not skipped.
 */

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

/** How one local execution ended, in Step Functions' terms (the bound tasks fill in what they did). */
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

/** What the Task states are bound to. */
export interface TaskBindingOptions {
  /** What every Lambda task invokes. */
  lambda: LambdaFunction
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

/** The interpreter's per-state handlers. */
export type LocalHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>

const LAMBDA_ARN = /^arn:[^:]+:lambda:[^:]+:\d+:function:/
const LAMBDA_INVOKE = /^arn:[^:]+:states:::lambda:invoke$/
const SNS_PUBLISH = /^arn:[^:]+:states:::sns:publish$/
const ECS_RUN_TASK = /^arn:[^:]+:states:::ecs:runTask(\.sync)?$/

/** The Task states of one definition, sorted by what they are bound to. */
export class TaskBindings {
  /** The states that invoke the Lambda function. */
  readonly lambdaStates: string[]
  readonly currentTable: CurrentTableBindings
  private readonly snsStates: string[]
  private readonly ecsStates: string[]
  private readonly currentTableStates: string[]

  /** @throws {Error} naming every Task state that has no local binding */
  constructor(
    private readonly definition: AslDefinition,
    private readonly options: TaskBindingOptions,
  ) {
    const states = Object.entries(definition.States)
    const withResource = (test: (resource: string) => boolean) =>
      states.filter(([, state]) => test(taskResource(state) ?? '')).map(([name]) => name)
    this.lambdaStates = withResource((resource) => LAMBDA_ARN.test(resource) || LAMBDA_INVOKE.test(resource))
    this.snsStates = withResource((resource) => SNS_PUBLISH.test(resource))
    this.ecsStates = withResource((resource) => ECS_RUN_TASK.test(resource))
    this.currentTable = options.currentTable ?? new CurrentTableBindings()
    this.currentTableStates = withResource(
      (resource) => this.currentTable.handlerFor(resource, () => '') !== undefined,
    )
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
  }

  /** The handlers of one execution, recording what its tasks do in `execution`. */
  handlersFor(execution: Execution<unknown>): LocalHandlers {
    const handlers: LocalHandlers = {}
    for (const state of this.lambdaStates) {
      const invoke = LAMBDA_INVOKE.test(this.resourceOf(state))
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
      const resource = this.resourceOf(state)
      const handler = this.currentTable.handlerFor(resource, () => execution.executionId)
      handlers[state] = async (parameters) => {
        const answer = await handler?.(parameters as Record<string, unknown>)
        if (resource.endsWith('startQueryExecution.sync'))
          execution.merges.push(String((parameters as { QueryString?: unknown }).QueryString))
        return answer as never
      }
    }
    return handlers
  }

  private resourceOf(state: string): string {
    return this.definition.States[state]?.Resource ?? ''
  }
}

/** A Task state's resource; undefined for any other state. */
function taskResource(state: AslState): string | undefined {
  return state.Type === 'Task' ? (state.Resource ?? '') : undefined
}

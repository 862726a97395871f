import { randomUUID } from 'node:crypto'
import { ExecutionError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions'
import { json, lambdaErrorMessage } from './lambda-invoke.js'
import { polyfillPromiseWithResolvers } from './promise-with-resolvers.js'
import { type AslDefinition, PLACEHOLDER_ENV } from './synthesized-template.js'
import { type Execution, type TaskBindingOptions, TaskBindings } from './task-bindings.js'

/**
 * Runs a synthesized state-machine definition with the ASL interpreter
 * aws-local-stepfunctions: Retry, Catch, Choice, Parameters, ResultPath and
 * Fail are the interpreter's, read from the definition as deployed. Only the
 * Task states' resources are bound locally (task-bindings.ts). Retry and Wait
 * timings can be scaled down for tests; the number of attempts stays the
 * definition's.
 */

polyfillPromiseWithResolvers()

/** Options for {@link LocalStateMachine}. */
export interface LocalStateMachineOptions extends TaskBindingOptions {
  /** The state machine's name, part of every execution ARN. */
  name: string
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
}

/** One synthesized definition, ready to run locally any number of times, concurrently. */
export class LocalStateMachine {
  private readonly machine: StateMachine
  private readonly tasks: TaskBindings
  private readonly retryIntervals: Record<string, number[]>
  private readonly waits: Record<string, number>

  /** @throws {Error} naming every Task state that has no local binding */
  constructor(
    readonly definition: AslDefinition,
    private readonly options: LocalStateMachineOptions,
  ) {
    const states = Object.entries(definition.States)
    this.tasks = new TaskBindings(definition, options)
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
        this.tasks.lambdaStates,
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
    const { currentTable } = this.tasks
    currentTable.running.add(executionId)
    const { result, eventLogs } = this.machine.run(json(input), {
      overrides: {
        taskResourceLocalHandlers: this.tasks.handlersFor(execution),
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
        if (event.type === 'StateFailed' && this.tasks.lambdaStates.includes(event.state.name))
          execution.taskError = { error: event.Error, message: lambdaErrorMessage(event.Cause) }
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
      currentTable.running.delete(executionId)
    }
    return execution
  }
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

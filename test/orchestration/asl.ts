import type { AslDefinition, AslState } from '../../local/src/s3/synthesized-template.js'

/**
 * Reading a synthesized definition the way Step Functions does, so tests
 * derive expected states and attempt counts from it instead of restating them.
 */

/** ASL's default `MaxAttempts` of a retrier that sets none. */
const DEFAULT_MAX_ATTEMPTS = 3

/** A state by name; throws when the definition has none. */
export function state(definition: AslDefinition, name: string): AslState {
  const found = definition.States[name]
  if (found === undefined) throw new Error(`no state ${name}`)
  return found
}

/** The definition's one Lambda task, found by its resource, not by its name. */
export function lambdaTask(definition: AslDefinition): [string, AslState] {
  const tasks = Object.entries(definition.States).filter(([, s]) =>
    /:lambda:|:states:::lambda:invoke/.test(s.Resource ?? ''),
  )
  if (tasks.length !== 1 || tasks[0] === undefined)
    throw new Error(`expected one Lambda task, found ${tasks.length}`)
  return tasks[0]
}

/** Whether an `ErrorEquals` list matches an error name (exactly, or by `States.ALL`). */
function matches(errorEquals: string[], error: string): boolean {
  return errorEquals.includes(error) || errorEquals.includes('States.ALL')
}

/** How often a task that keeps failing with `error` runs: once, plus the first matching retrier's `MaxAttempts`. */
export function attemptsFor(task: AslState, error: string): number {
  const retrier = task.Retry?.find((r) => matches(r.ErrorEquals, error))
  return 1 + (retrier === undefined ? 0 : (retrier.MaxAttempts ?? DEFAULT_MAX_ATTEMPTS))
}

/** The state the task's first matching Catch sends `error` to, if any. */
export function caughtBy(task: AslState, error: string): string | undefined {
  return task.Catch?.find((c) => matches(c.ErrorEquals, error))?.Next
}

/**
 * The states an execution enters up to and including `task`: the task itself
 * when the definition starts there, else the start Choice (the size routing)
 * whose Default is the task, then the task.
 */
export function pathTo(definition: AslDefinition, task: string): string[] {
  if (definition.StartAt === task) return [task]
  const start = state(definition, definition.StartAt) as AslState & { Default?: string }
  if (start.Type !== 'Choice' || start.Default !== task)
    throw new Error(`${definition.StartAt} does not lead to ${task} by default`)
  return [definition.StartAt, task]
}

/** The states of the current table's merge step (infra/src/merge-step.ts names them `CurrentTable…`). */
export function isMergeState(name: string): boolean {
  return name.startsWith('CurrentTable')
}

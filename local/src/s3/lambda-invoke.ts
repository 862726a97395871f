import { randomUUID } from 'node:crypto'

/**
 * The Lambda service's side of a Step Functions Lambda task, locally: the
 * payload and the result cross as JSON, and a thrown error reaches Step
 * Functions as the deployed runtime reports it (`Error` is the error's name,
 * `Cause` the runtime's `{ errorType, errorMessage, trace }` document).
 */

/** A function behind a Lambda task; the local stand-in for the deployed function. */
export type LambdaFunction = (event: unknown, context: { awsRequestId: string }) => Promise<unknown>

/**
 * Calls `fn` as the Lambda service does for Step Functions: the payload and
 * the result cross as JSON, and a thrown error is reported by its `name`
 * (Step Functions' `Error`) with the runtime's JSON document as its cause.
 */
export async function invokeFunction(fn: LambdaFunction, payload: unknown): Promise<never> {
  try {
    return json(await fn(json(payload), { awsRequestId: randomUUID() }))
  } catch (error) {
    throw new LambdaFunctionError(error)
  }
}

/** A function error as Step Functions sees it; `message` is the runtime's `{ errorType, errorMessage, trace }`. */
export class LambdaFunctionError extends Error {
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
export function lambdaErrorMessage(cause: unknown): string {
  if (typeof cause !== 'string') return String(cause)
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown }
    return typeof parsed.errorMessage === 'string' ? parsed.errorMessage : cause
  } catch {
    return cause
  }
}

/** A JSON round trip: what crosses a service boundary (undefined becomes null at the top). */
export function json<T>(value: T): never {
  return (value === undefined ? null : JSON.parse(JSON.stringify(value))) as never
}

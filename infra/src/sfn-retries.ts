import { Duration } from 'aws-cdk-lib'
import * as sfn from 'aws-cdk-lib/aws-stepfunctions'

/**
 * A retrier as the facts modules state it (lambdas/ingest/src/orchestration.ts,
 * infra/src/locked-statements.ts): plain numbers, so the tests and the local
 * harness read the same values the definition carries.
 */
export interface RetryPolicy {
  readonly errors: readonly string[]
  readonly intervalSeconds: number
  readonly maxRetries: number
  readonly backoffRate: number
  /** The cap on one wait. @default none (Step Functions' own) */
  readonly maxDelaySeconds?: number
  /** How the waits are spread. @default none (no jitter) */
  readonly jitter?: keyof typeof sfn.JitterType
}

/** Adds each policy, in order, as a Retry of the state (Step Functions tries them in that order). */
export function addRetries(
  state: { addRetry(props: sfn.RetryProps): unknown },
  policies: readonly RetryPolicy[],
): void {
  for (const policy of policies) {
    state.addRetry({
      errors: [...policy.errors],
      interval: Duration.seconds(policy.intervalSeconds),
      maxAttempts: policy.maxRetries,
      backoffRate: policy.backoffRate,
      ...(policy.maxDelaySeconds === undefined ? {} : { maxDelay: Duration.seconds(policy.maxDelaySeconds) }),
      ...(policy.jitter === undefined ? {} : { jitterStrategy: sfn.JitterType[policy.jitter] }),
    })
  }
}

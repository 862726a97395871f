import aslValidator from 'asl-validator'
import { describe, expect, it } from 'vitest'
import {
  DATA_QUALITY_ERROR,
  INGEST_RETRY,
  LAMBDA_SERVICE_RETRY,
  lambdaServiceRetryBudgetSeconds,
  STATES,
} from '../../lambdas/ingest/src/orchestration.js'
import { resource, stateMachineDefinition, template } from './synth.js'

const t = template()
const ingest = stateMachineDefinition(t, 'OrchestrationIngestStateMachine') as {
  StartAt: string
  States: Record<string, Record<string, unknown>>
}
const backfill = stateMachineDefinition(t, 'OrchestrationBackfillStateMachine') as {
  StartAt: string
  States: Record<string, Record<string, unknown>>
}

describe('state machine definitions', () => {
  it('both pass asl-validator', () => {
    for (const definition of [ingest, backfill]) {
      const result = aslValidator(definition)
      expect(result.errorsText('\n'), JSON.stringify(definition)).toBe('')
      expect(result.isValid).toBe(true)
    }
  })
})

describe('the ingest state machine', () => {
  const task = ingest.States[STATES.ingest] as {
    Retry: unknown[]
    Catch: { ErrorEquals: string[]; Next: string }[]
    Parameters: Record<string, unknown>
    Next: string
  }

  it('is a Standard state machine with ALL logging to an encrypted log group and X-Ray tracing', () => {
    const { props } = resource(t, 'AWS::StepFunctions::StateMachine', 'OrchestrationIngestStateMachine')
    expect(props.StateMachineType).toBe('STANDARD')
    expect(props.TracingConfiguration).toEqual({ Enabled: true })
    expect(props.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: true })
  })

  it('passes the whole event and the execution id to the Lambda', () => {
    expect(task.Parameters).toMatchObject({ 'event.$': '$', 'executionId.$': '$$.Execution.Id' })
  })

  it('starts at the Lambda task by default (largeFiles off), with no routing and no ECS task', () => {
    expect(ingest.StartAt).toBe(STATES.ingest)
    expect(Object.keys(ingest.States)).not.toContain(STATES.routeBySize)
    expect(JSON.stringify(ingest)).not.toContain('ecs:runTask')
  })

  it('with largeFiles=on, starts on the size routing, which sends events without a size and small objects to the Lambda', () => {
    const on = stateMachineDefinition(template({ largeFiles: 'on' }), 'OrchestrationIngestStateMachine') as {
      StartAt: string
      States: Record<string, Record<string, unknown>>
    }
    expect(on.StartAt).toBe(STATES.routeBySize)
    const { Parameters, Retry, Catch, Next } = task
    expect(on.States[STATES.ingest]).toMatchObject({ Parameters, Retry, Catch, Next })
    const route = on.States[STATES.routeBySize] as {
      Type: string
      Choices: { Next: string }[]
      Default: string
    }
    expect(route.Type).toBe('Choice')
    expect(route.Choices.map((c) => c.Next)).toEqual([STATES.ingest, STATES.ingestLargeFile])
    expect(route.Default).toBe(STATES.ingest)
  })

  it('retries Lambda throttling and service errors first: more attempts, exponential backoff, capped, full jitter', () => {
    expect(task.Retry[0]).toEqual({
      ErrorEquals: [...LAMBDA_SERVICE_RETRY.errors],
      IntervalSeconds: LAMBDA_SERVICE_RETRY.intervalSeconds,
      MaxAttempts: LAMBDA_SERVICE_RETRY.maxRetries,
      BackoffRate: LAMBDA_SERVICE_RETRY.backoffRate,
      MaxDelaySeconds: LAMBDA_SERVICE_RETRY.maxDelaySeconds,
      JitterStrategy: 'FULL',
    })
    expect(LAMBDA_SERVICE_RETRY.errors).toContain('Lambda.TooManyRequestsException')
    // A burst must be able to wait out throttling for minutes, not the 6 s it used to get.
    expect(LAMBDA_SERVICE_RETRY.maxRetries).toBeGreaterThan(INGEST_RETRY.maxRetries)
    expect(lambdaServiceRetryBudgetSeconds()).toBe(2 + 4 + 8 + 16 + 32 + 60 + 60 + 60)
  })

  it("then retries the handler's transient errors with exponential backoff", () => {
    expect(task.Retry[1]).toEqual({
      ErrorEquals: [...INGEST_RETRY.errors],
      IntervalSeconds: INGEST_RETRY.intervalSeconds,
      MaxAttempts: INGEST_RETRY.maxRetries,
      BackoffRate: INGEST_RETRY.backoffRate,
    })
    expect(task.Retry).toHaveLength(2)
  })

  it('times out only after every retry of the slower path could have run', () => {
    const timeout = (definition: unknown) => (definition as { TimeoutSeconds: number }).TimeoutSeconds
    const attempts = INGEST_RETRY.maxRetries + 1
    const serviceRetries = Math.ceil(lambdaServiceRetryBudgetSeconds() / 60) * 60
    expect(timeout(ingest)).toBe(15 * 60 * attempts + serviceRetries + 600)
    // The Fargate task may run 180 minutes (largeFileTimeoutMinutes) per attempt, the Lambda 15.
    const on = stateMachineDefinition(template({ largeFiles: 'on' }), 'OrchestrationIngestStateMachine')
    expect(timeout(on)).toBe(180 * 60 * attempts + serviceRetries + 600)
  })

  it('catches a data-quality breach and everything else into notify-then-fail branches', () => {
    expect(task.Catch.map((c) => [c.ErrorEquals, c.Next])).toEqual([
      [[DATA_QUALITY_ERROR], STATES.notifyDataQualityFailure],
      [['States.ALL'], STATES.notifyFailure],
    ])
    for (const [notify, fail] of [
      [STATES.notifyDataQualityFailure, STATES.dataQualityFailed],
      [STATES.notifyFailure, STATES.ingestFailed],
    ] as const) {
      expect(ingest.States[notify]).toMatchObject({
        Type: 'Task',
        Resource: expect.stringContaining(':sns:publish'),
        Next: fail,
      })
      expect(ingest.States[fail]).toMatchObject({ Type: 'Fail' })
    }
  })

  it('chooses on the returned DQ result', () => {
    expect(task.Next).toBe(STATES.checkResult)
    const choice = ingest.States[STATES.checkResult] as {
      Type: string
      Choices: { Next: string }[]
      Default: string
    }
    expect(choice.Type).toBe('Choice')
    expect(choice.Choices.map((c) => c.Next)).toEqual([STATES.notifyNoRows, STATES.processed])
    expect(JSON.stringify(choice.Choices[0])).toContain('$.counts.rows_after_dedup')
    expect(choice.Default).toBe(STATES.nothingToDo)
  })
})

describe('the backfill state machine', () => {
  const map = backfill.States[backfill.StartAt] as {
    Type: string
    ItemReader: { Resource: string; Parameters: Record<string, unknown> }
    ItemProcessor: {
      ProcessorConfig: { Mode: string }
      StartAt: string
      States: Record<string, Record<string, unknown>>
    }
    MaxConcurrency: number
  }

  it('is a Distributed Map over the incoming prefix with bounded concurrency', () => {
    expect(map.Type).toBe('Map')
    expect(map.ItemProcessor.ProcessorConfig.Mode).toBe('DISTRIBUTED')
    expect(map.ItemReader.Resource).toBe('arn:aws:states:::s3:listObjectsV2')
    expect(map.ItemReader.Parameters).toMatchObject({ Prefix: 'incoming/' })
    expect(map.MaxConcurrency).toBe(10)
  })

  it('runs the same Lambda with the same retry for every object', () => {
    const item = map.ItemProcessor.States[map.ItemProcessor.StartAt] as {
      Parameters: Record<string, unknown>
      Resource: unknown
      Retry: unknown[]
    }
    expect(item.Resource).toEqual(task().Resource)
    expect(item.Parameters).toMatchObject({ event: { 'key.$': '$.Key', 'etag.$': '$.Etag' } })
    expect(item.Retry).toEqual(task().Retry)
  })

  function task() {
    return ingest.States[STATES.ingest] as { Retry: unknown[]; Resource: unknown }
  }
})

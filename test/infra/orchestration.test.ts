import aslValidator from 'asl-validator'
import { describe, expect, it } from 'vitest'
import { MERGE_INPUT } from '../../infra/src/current-table-states.js'
import { CURRENT_TABLE_MINUTES, START_EXECUTION_SYNC } from '../../infra/src/state-machines.js'
import {
  DATA_QUALITY_ERROR,
  INGEST_RETRY,
  LAMBDA_SERVICE_RETRY,
  lambdaServiceRetryBudgetSeconds,
  STATES,
} from '../../lambdas/ingest/src/orchestration.js'
import { resource, stateMachineDefinition, stateMachinePlaceholder, template } from './synth.js'

/** A state-machine definition, as far as these tests read it (a type, not an interface, so a record converts to it). */
type Definition = {
  StartAt: string
  States: Record<string, Record<string, unknown>>
}

/** A Choice state, as far as these tests read it. */
type ChoiceState = {
  Type: string
  Choices: { Next: string }[]
  Default: string
}

const t = template()
const ingest = stateMachineDefinition(t, 'OrchestrationIngestStateMachine') as Definition
const backfill = stateMachineDefinition(t, 'OrchestrationBackfillStateMachine') as Definition

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

  it('with largeFiles=off, starts at the Lambda task, with no routing and no ECS task', () => {
    const off = stateMachineDefinition(
      template({ largeFiles: 'off' }),
      'OrchestrationIngestStateMachine',
    ) as Definition
    expect(off.StartAt).toBe(STATES.ingest)
    expect(Object.keys(off.States)).not.toContain(STATES.routeBySize)
    expect(JSON.stringify(off)).not.toContain('ecs:runTask')
    const { Parameters, Retry, Catch, Next } = task
    expect(off.States[STATES.ingest]).toMatchObject({ Parameters, Retry, Catch, Next })
  })

  it('by default (largeFiles on), starts on the size routing, which sends events without a size and small objects to the Lambda', () => {
    expect(ingest.StartAt).toBe(STATES.routeBySize)
    const route = ingest.States[STATES.routeBySize] as ChoiceState
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
    const currentTable = CURRENT_TABLE_MINUTES * 60
    const off = stateMachineDefinition(template({ largeFiles: 'off' }), 'OrchestrationIngestStateMachine')
    expect(timeout(off)).toBe(15 * 60 * attempts + serviceRetries + currentTable + 600)
    // The Fargate task may run 180 minutes (largeFileTimeoutMinutes) per attempt, the Lambda 15.
    expect(timeout(ingest)).toBe(180 * 60 * attempts + serviceRetries + currentTable + 600)
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
    const choice = ingest.States[STATES.checkResult] as ChoiceState
    expect(choice.Type).toBe('Choice')
    const [noRows, published] = choice.Choices
    expect(noRows?.Next).toBe(STATES.notifyNoRows)
    expect(JSON.stringify(noRows)).toContain('$.counts.rows_after_dedup')
    // Rows published, or already published before (a redelivery repairs a failed merge): the MERGE.
    expect(JSON.stringify(published)).toContain('"processed"')
    expect(JSON.stringify(published)).toContain('"already_processed"')
    expect(ingest.States[published?.Next ?? '']).toMatchObject({ Type: 'Choice' })
    expect(JSON.stringify(ingest.States[published?.Next ?? ''])).toContain(MERGE_INPUT.sourceLastModified)
    expect(choice.Default).toBe(STATES.nothingToDo)
  })

  it('after the MERGE, ends where it would have ended without it: Processed or NothingToDo', () => {
    const after = ingest.States[STATES.afterMerge] as ChoiceState
    expect(after.Type).toBe('Choice')
    expect(after.Choices.map((c) => c.Next)).toEqual([STATES.processed])
    expect(after.Default).toBe(STATES.nothingToDo)
    // Reached only from the merge step's end: the lock released (or already taken over).
    const reaching = Object.entries(ingest.States)
      .filter(([, s]) => s.Next === STATES.afterMerge)
      .map(([name]) => name)
    expect(reaching.sort()).toEqual(['CurrentTableLockAlreadyTakenOver', 'CurrentTableReleaseLock'])
  })

  it('rebuilds the current table after a processed large file (its task returns no summary to merge)', () => {
    const check = ingest.States[STATES.checkLargeFileResult] as { Choices: { Next: string }[] }
    expect(check.Choices.map((c) => c.Next)).toContain(STATES.rebuildAfterLargeFile)
    const rebuild = ingest.States[STATES.rebuildAfterLargeFile] as {
      Resource: string
      Parameters: Record<string, unknown>
      Next: string
      Catch: { Next: string }[]
    }
    expect(rebuild.Resource).toBe(START_EXECUTION_SYNC.resource)
    expect(rebuild.Parameters.StateMachineArn).toBe(stateMachinePlaceholder(rebuildMachineId()))
    expect(rebuild.Next).toBe(STATES.processed)
    expect(rebuild.Catch.map((c) => c.Next)).toEqual([STATES.notifyFailure])
  })
})

/** The logical id of the current table's rebuild machine. */
function rebuildMachineId(): string {
  const machines = t.findResources('AWS::StepFunctions::StateMachine')
  const ids = Object.keys(machines).filter((id) => id.startsWith('CurrentTableRebuild'))
  expect(ids).toHaveLength(1)
  return ids[0] ?? ''
}

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

  it('then rebuilds the current table once, from every live output, and waits for it', () => {
    const map = backfill.States[backfill.StartAt] as { Next: string }
    expect(map.Next).toBe(STATES.rebuildAfterBackfill)
    const rebuild = backfill.States[STATES.rebuildAfterBackfill] as Record<string, unknown>
    expect(rebuild).toMatchObject({
      Type: 'Task',
      Resource: START_EXECUTION_SYNC.resource,
      Parameters: { StateMachineArn: stateMachinePlaceholder(rebuildMachineId()) },
    })
    // No MERGE per object: the items would queue on the table's writer lock.
    expect(JSON.stringify(map)).not.toContain('athena')
  })

  it('runs the same Lambda with the same retry for every object', () => {
    const item = Object.values(map.ItemProcessor.States).find(
      (s) =>
        s.Type === 'Task' &&
        s.Parameters !== undefined &&
        JSON.stringify(s.Parameters).includes('$.Key') &&
        !JSON.stringify(s).includes('ecs'),
    ) as {
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

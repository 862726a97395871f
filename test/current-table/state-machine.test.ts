/**
 * The ingest → MERGE path in the ASL interpreter (aws-local-stepfunctions),
 * on the real stack's synthesized ingest state machine (infra/src/ingest-stack.ts,
 * default context: size routing, the Lambda, the merge step, the notify
 * branches). Tasks are bound locally: the Lambda to a function returning its
 * summary, SNS to a recorder, DynamoDB
 * (the writer lock) to an in-memory item with the same condition semantics,
 * DescribeExecution to a table of execution states, and Athena to DuckDB
 * executing the DuckDB rendering of the very template whose Athena rendering
 * the task carries.
 */
import { copyFileSync, mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { ExecutionError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  CURRENT_TABLE_ERROR,
  CURRENT_TABLE_INPUT_ERROR,
  ICEBERG_COMMIT_CONFLICT,
} from '../../infra/src/current-table-states.js'
import { STATES } from '../../lambdas/ingest/src/orchestration.js'
import { CurrentTable } from '../../local/src/current-table.js'
import { isSkipped, readPublishedRun } from '../../local/src/published-run.js'
import {
  athenaDialect,
  DUCKDB_DIALECT,
  MERGE_PARAMETERS,
  mergeStatement,
  STATES_FORMAT_SLOT,
} from '../../shared/src/current-table-sql.js'
import { template as stackTemplate, stateMachineDefinition } from '../infra/synth.js'
import { publish, removeScratch, scratchDir } from './helpers.js'

// aws-local-stepfunctions needs Promise.withResolvers (Node 22+).
const promise = Promise as unknown as { withResolvers?: unknown }
promise.withResolvers ??= <T>() => {
  let resolve!: (value: T) => void
  let reject!: (reason?: unknown) => void
  const created = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise: created, resolve, reject }
}

afterAll(removeScratch)

// What test/infra/synth.ts puts in the definition for the processed bucket (and any other reference).
const BUCKET = 'placeholder-bucket'
const definition = stateMachineDefinition(
  stackTemplate(),
  'OrchestrationIngestStateMachine',
) as unknown as StateMachineDefinition & {
  States: Record<string, { Type: string; Resource?: string; Parameters?: Record<string, unknown> }>
}
const statesOfType = (resource: RegExp) =>
  Object.entries(definition.States)
    .filter(([, s]) => s.Type === 'Task' && resource.test(s.Resource ?? ''))
    .map(([name]) => name)

/** A failed AWS call as Step Functions reports it: the error name and a cause. */
class ServiceError extends Error {
  constructor(name: string, cause: string) {
    super(cause)
    this.name = name
  }
}

/** The writer-lock item, with DynamoDB's conditional-update semantics for the expressions the machine uses. */
class LockTable {
  holder: string | undefined
  readonly history: string[] = []

  update(parameters: Record<string, unknown>): Record<string, never> {
    const values = parameters.ExpressionAttributeValues as Record<string, { S: string }>
    const condition = String(parameters.ConditionExpression)
    const holds = (name: string) => this.holder === values[name]?.S
    const allowed =
      condition === 'attribute_not_exists(holder) OR holder = :me'
        ? this.holder === undefined || holds(':me')
        : condition === 'attribute_not_exists(holder) OR holder = :stale'
          ? this.holder === undefined || holds(':stale')
          : condition === 'holder = :me'
            ? holds(':me')
            : fail(`unexpected condition ${condition}`)
    if (!allowed)
      throw new ServiceError('DynamoDB.ConditionalCheckFailedException', 'The conditional request failed')
    const update = String(parameters.UpdateExpression)
    if (update.startsWith('SET holder = :me')) this.holder = values[':me']?.S
    else if (update.startsWith('REMOVE holder')) this.holder = undefined
    else fail(`unexpected update ${update}`)
    this.history.push(this.holder === undefined ? 'released' : `taken by ${this.holder}`)
    return {}
  }

  get(): Record<string, unknown> {
    return this.holder === undefined
      ? { Item: { lock: { S: 'listings_current' } } }
      : { Item: { lock: { S: 'listings_current' }, holder: { S: this.holder } } }
  }
}

function fail(message: string): never {
  throw new Error(message)
}

/** Athena, locally: the DuckDB rendering of the statement the task carries, on a DuckDB table; failures on demand. */
class LocalAthena {
  readonly queries: string[] = []
  /** Errors to fail the next calls with, in order. */
  readonly failures: Error[] = []

  constructor(
    private readonly table: CurrentTable,
    private readonly files: Map<string, string>,
  ) {}

  async startQueryExecutionSync(parameters: Record<string, unknown>): Promise<unknown> {
    const query = String(parameters.QueryString)
    this.queries.push(query)
    const failure = this.failures.shift()
    if (failure !== undefined) throw failure
    // The query Athena receives must be the template's Athena rendering with its slots filled
    // (by the definition's States.Format) with base64 text; DuckDB runs its own rendering with the same values.
    const values = [...query.matchAll(/from_utf8\(from_base64\('([A-Za-z0-9+/=]*)'\)\)/g)].map(
      (m) => m[1] as string,
    )
    const template = mergeStatement(athenaDialect('listing_manifests', `s3://${BUCKET}/`))
    let slot = 0
    expect(query).toBe(template.replaceAll(STATES_FORMAT_SLOT, () => values[slot++] ?? '<missing>'))
    expect(values).toHaveLength(MERGE_PARAMETERS.length)
    await this.table.exposeFiles([...this.files].map(([path, file]) => ({ file, path })))
    const changed = await this.table.execute(mergeStatement(DUCKDB_DIALECT), values)
    return {
      QueryExecution: {
        QueryExecutionId: `q-${this.queries.length}`,
        Status: { State: 'SUCCEEDED' },
        Statistics: { changed },
      },
    }
  }
}

interface Summary {
  status: string
  source: { bucket: string; key: string; etag: string; last_modified: string }
  counts: { rows_after_dedup: number }
  outputs: { bucket: string; parquet: string }
}

interface Harness {
  run(
    input: unknown,
    summary: Summary | Error,
  ): Promise<{ status: string; error?: string; cause?: string; path: string[] }>
  lock: LockTable
  athena: LocalAthena
  executions: Map<string, string>
  table: CurrentTable
}

async function harness(files: Map<string, string>): Promise<Harness> {
  const table = await CurrentTable.open(scratchDir(), { rebuild: true })
  const lock = new LockTable()
  const athena = new LocalAthena(table, files)
  const executions = new Map<string, string>()
  const machine = new StateMachine(definition, { validationOptions: { noValidate: true } })
  let count = 0
  return {
    lock,
    athena,
    executions,
    table,
    async run(input, summary) {
      const executionId = `arn:aws:states:eu-west-2:123456789012:execution:listings-ingest-ingest:run-${++count}`
      executions.set(executionId, 'RUNNING')
      const handlers: Record<string, (input: never) => Promise<unknown>> = {}
      const bind = (resource: RegExp, handler: (parameters: Record<string, unknown>) => unknown) => {
        for (const name of statesOfType(resource)) handlers[name] = async (p: never) => handler(p)
      }
      bind(/:states:::sns:publish$/, () => ({ MessageId: 'local' }))
      bind(/:lambda:/, () => {
        if (summary instanceof Error) throw summary
        return summary
      })
      bind(/dynamodb:updateItem$/, (p) => lock.update(p))
      bind(/dynamodb:getItem$/, () => lock.get())
      bind(/sfn:describeExecution$/, (p) => {
        const status = executions.get(String(p.ExecutionArn))
        if (status === undefined)
          throw new ServiceError('Sfn.ExecutionDoesNotExistException', 'no such execution')
        return { Status: status }
      })
      bind(/athena:startQueryExecution\.sync$/, (p) => athena.startQueryExecutionSync(p))
      const waits = Object.fromEntries(
        Object.entries(definition.States)
          .filter(([, s]) => s.Type === 'Wait')
          .map(([name]) => [name, 0]),
      )
      const path: string[] = []
      const { result, eventLogs } = machine.run(input as never, {
        overrides: {
          taskResourceLocalHandlers: handlers as never,
          waitTimeOverrides: waits,
          retryIntervalOverrides: {},
        },
        // The interpreter sets Execution.StartTime itself (now) but no State.EnteredTime: a fixed one stands in.
        context: {
          Execution: { Id: executionId, Name: `run-${count}` },
          State: { EnteredTime: '2026-02-01T00:00:00.000Z', Name: '' },
        },
      })
      const history = (async () => {
        for await (const event of eventLogs) if (event.type === 'StateEntered') path.push(event.state.name)
      })()
      try {
        await result
        return { status: 'SUCCEEDED', path }
      } catch (error) {
        if (!(error instanceof ExecutionError)) throw error
        const cause = error.cause as Error
        return { status: 'FAILED', error: cause.name, cause: cause.message, path }
      } finally {
        await history
        executions.set(executionId, 'SUCCEEDED')
      }
    },
  }
}

/** A run published by the real CLI, placed where the Lambda would have put its Parquet. */
function s3Run(
  dir: string,
  root: string,
  name: string,
  modifiedAt: string,
  rows: [string, string, number][],
) {
  const run = readPublishedRun(publish(dir, name, modifiedAt, rows))
  if (isSkipped(run)) throw new Error(run.reason)
  const key = `listings/dt=${modifiedAt.slice(0, 10)}/${name}.parquet`
  const file = join(root, key)
  mkdirSync(dirname(file), { recursive: true })
  copyFileSync(run.parquet, file)
  const summary: Summary = {
    status: 'processed',
    source: {
      bucket: 'raw-bucket',
      key: `incoming/${name}.csv`,
      etag: run.sourceVersion.slice(0, 32),
      last_modified: modifiedAt,
    },
    counts: { rows_after_dedup: rows.length },
    outputs: { bucket: BUCKET, parquet: key },
  }
  return { path: `s3://${BUCKET}/${key}`, file, summary }
}

const event = (sequencer: string) => ({
  'detail-type': 'Object Created',
  source: 'aws.s3',
  detail: { bucket: { name: 'raw-bucket' }, object: { key: 'incoming/x.csv', sequencer } },
})

describe('ingest → MERGE in the ASL interpreter', () => {
  const files = new Map<string, string>()
  let newer: ReturnType<typeof s3Run>
  let older: ReturnType<typeof s3Run>
  beforeAll(() => {
    const dir = scratchDir()
    const root = join(dir, 's3')
    newer = s3Run(dir, root, 'newer', '2026-01-11T08:00:00.000Z', [
      ['2025-12-01', 'k1', 11],
      ['2026-01-03', 'k3', 30],
    ])
    older = s3Run(dir, root, 'older', '2026-01-10T08:00:00.000Z', [
      ['2025-12-01', 'k1', 10],
      ['2025-12-02', 'k2', 20],
    ])
    for (const r of [newer, older]) files.set(r.path, r.file)
  })

  it('the definition binds every Task a small file reaches: ingest, notify, lock, lock holder, Athena', () => {
    // Not bound: the large-file branch's rebuild (only after the Fargate task, which is inside a Parallel).
    const tasks = Object.entries(definition.States).filter(
      ([name, s]) => s.Type === 'Task' && name !== STATES.rebuildAfterLargeFile,
    )
    const bound = [
      /:states:::sns:publish$/,
      /:lambda:/,
      /dynamodb:(update|get)Item$/,
      /sfn:describeExecution$/,
      /athena:startQueryExecution\.sync$/,
    ]
    expect(tasks.filter(([, s]) => !bound.some((r) => r.test(s.Resource ?? '')))).toEqual([])
  })

  it('merges the run, retrying a commit conflict with backoff, and releases the lock', async () => {
    const h = await harness(files)
    h.athena.failures.push(
      new ServiceError(
        'States.TaskFailed',
        JSON.stringify({
          QueryExecution: {
            Status: {
              State: 'FAILED',
              AthenaError: {
                ErrorCategory: 2,
                ErrorType: 1006,
                Retryable: true,
                ErrorMessage: `${ICEBERG_COMMIT_CONFLICT}: Failed to commit Iceberg update to table`,
              },
            },
          },
        }),
      ),
    )
    const first = await h.run(event('0055AED6DCD90281E5'), newer.summary)
    expect(first, JSON.stringify(first)).toMatchObject({ status: 'SUCCEEDED' })
    // The stack's own path: routed to the Lambda, its result checked, merged, then Processed.
    expect(first.path.slice(0, 3)).toEqual([STATES.routeBySize, STATES.ingest, STATES.checkResult])
    expect(first.path.slice(-2)).toEqual([STATES.afterMerge, STATES.processed])
    expect(h.athena.queries).toHaveLength(2)
    expect(first.path.filter((s) => s.endsWith('CommitConflict'))).toHaveLength(1)
    expect(h.lock.holder).toBeUndefined()
    const rows = await h.table.rows()
    expect(rows.map((r) => [r.item_id, r.price_gbp, r.source_key, r.source_sequencer])).toEqual([
      ['k1', 11, 'incoming/newer.csv', '0055AED6DCD90281E5'.padStart(32, '0')],
      ['k3', 30, 'incoming/newer.csv', '0055AED6DCD90281E5'.padStart(32, '0')],
    ])
    expect(Date.now() - ((rows[0]?.ingested_at as Date | undefined) ?? new Date(0)).getTime()).toBeLessThan(
      60_000,
    )
    expect(rows[0]).toMatchObject({
      source_modified_at: new Date('2026-01-11T08:00:00.000Z'),
      ingested_at: expect.any(Date),
      source_version: newer.summary.source.etag,
    })

    // A late older file (no event: a backfill) adds only the key nobody had; a key with quotes,
    // braces and a backslash reaches the table unchanged (base64 through States.Format).
    const oddKey = "incoming/it's {odd} \\ name.csv"
    const late = { ...older.summary, source: { ...older.summary.source, key: oddKey } }
    expect(await h.run({ bucket: 'raw-bucket', key: oddKey }, late)).toMatchObject({ status: 'SUCCEEDED' })
    expect((await h.table.rows()).find((r) => r.item_id === 'k2')?.source_key).toBe(oddKey)
    // The same version again (a redelivered event): already_processed, merged again, nothing changes.
    const before = await h.table.rows()
    expect(
      await h.run(event('0055AED6DCD90281E5'), { ...newer.summary, status: 'already_processed' }),
    ).toMatchObject({
      status: 'SUCCEEDED',
    })
    expect(await h.table.rows()).toEqual(before)
    expect(before.map((r) => [r.item_id, r.price_gbp])).toEqual([
      ['k1', 11],
      ['k2', 20],
      ['k3', 30],
    ])
  })

  it('a breached file never reaches the merge', async () => {
    const h = await harness(files)
    const breach = new ServiceError('DataQualityThresholdError', 'threshold breached')
    const run = await h.run(event('01'), breach)
    expect(run).toMatchObject({ status: 'FAILED', error: 'DataQualityThresholdError' })
    expect(run.path.slice(-2)).toEqual([STATES.notifyDataQualityFailure, STATES.dataQualityFailed])
    expect(h.athena.queries).toEqual([])
    expect(h.lock.history).toEqual([])
  })

  it('waits while another running execution holds the lock, and takes over from one that is no longer running', async () => {
    const h = await harness(files)
    const other =
      'arn:aws:states:eu-west-2:123456789012:execution:listings-ingest-current-table-maintenance:m1'
    h.lock.holder = other
    h.executions.set(other, 'RUNNING')
    // The holder finishes (and releases) while this execution waits.
    let checks = 0
    const originalGet = h.lock.get.bind(h.lock)
    h.lock.get = () => {
      const item = originalGet()
      if (++checks === 2) {
        h.lock.holder = undefined
        h.executions.set(other, 'SUCCEEDED')
      }
      return item
    }
    const waited = await h.run(event('02'), newer.summary)
    expect(waited.status).toBe('SUCCEEDED')
    expect(waited.path.filter((s) => s.endsWith('WaitForLock')).length).toBeGreaterThanOrEqual(1)

    h.lock.holder = 'arn:aws:states:eu-west-2:123456789012:execution:listings-ingest-ingest:crashed'
    h.executions.set(h.lock.holder, 'TIMED_OUT')
    const takeover = await h.run(event('03'), older.summary)
    expect(takeover.status).toBe('SUCCEEDED')
    expect(takeover.path).toContain('CurrentTableTakeOverLock')
    expect(h.lock.holder).toBeUndefined()
  })

  it('an ingest result without the source Last-Modified fails the merge step with a reason, before taking the lock', async () => {
    const h = await harness(files)
    const { last_modified: _, ...source } = newer.summary.source
    const run = await h.run(event('06'), { ...newer.summary, source } as Summary)
    expect(run).toMatchObject({
      status: 'FAILED',
      error: CURRENT_TABLE_INPUT_ERROR,
      cause: expect.stringMatching(/last_modified/),
    })
    expect(h.lock.history).toEqual([])
    expect(h.athena.queries).toEqual([])
  })

  it('a MERGE that fails for another reason releases the lock and fails the execution with the query error', async () => {
    const h = await harness(files)
    h.athena.failures.push(
      new ServiceError('States.TaskFailed', 'COLUMN_NOT_FOUND: line 1:8: Column x cannot be resolved'),
    )
    const run = await h.run(event('04'), newer.summary)
    expect(run).toMatchObject({
      status: 'FAILED',
      error: CURRENT_TABLE_ERROR,
      cause: expect.stringMatching(/COLUMN_NOT_FOUND/),
    })
    expect(h.athena.queries).toHaveLength(1)
    expect(h.lock.holder).toBeUndefined()
    expect(h.lock.history.at(-1)).toBe('released')
  })

  it('commit conflicts that persist are retried a bounded number of times, then fail', async () => {
    const h = await harness(files)
    for (let i = 0; i < 10; i++) {
      h.athena.failures.push(
        new ServiceError(
          'States.TaskFailed',
          `{"Status":{"StateChangeReason":"${ICEBERG_COMMIT_CONFLICT}"}}`,
        ),
      )
    }
    const run = await h.run(event('05'), newer.summary)
    expect(run).toMatchObject({ status: 'FAILED', error: CURRENT_TABLE_ERROR })
    expect(h.athena.queries).toHaveLength(6)
    expect(h.lock.holder).toBeUndefined()
  })
})

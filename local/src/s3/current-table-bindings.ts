/**
 * Local bindings for the Task states the current table's merge step adds to
 * the ingest state machine (infra/src/merge-step.ts): the writer lock
 * (`dynamodb:updateItem` / `getItem`), the lock holder's status
 * (`aws-sdk:sfn:describeExecution`) and the MERGE itself
 * (`athena:startQueryExecution.sync`); and the start of its rebuild machine
 * (`states:startExecution.sync:2`, after a large file and after a backfill),
 * recorded and answered as a rebuild that succeeded.
 *
 * By default the MERGE is recorded, not executed: a local run proves the
 * state machine reaches the merge with a complete statement (its values
 * filled by the definition's `States.Format`) and takes and releases the lock,
 * while the MERGE's semantics are proved in DuckDB by test/current-table
 * (which binds the same task to a DuckDB executor). An executor can be passed
 * instead of the recorder.
 */

/** An AWS error as Step Functions reports a failed task: its name is the task's `Error`. */
export class ServiceError extends Error {
  constructor(name: string, cause: string) {
    super(cause)
    this.name = name
  }
}

/** One MERGE the ingest machine asked Athena to run. */
export interface RecordedQuery {
  /** The query as Athena would receive it. */
  query: string
  /** The execution that ran it. */
  executionId: string
}

/** Runs one `startQueryExecution.sync` locally; its answer is what the task's ResultSelector reads. */
export type QueryExecutor = (parameters: Record<string, unknown>) => Promise<unknown>

/**
 * The writer-lock item with DynamoDB's conditional-update semantics for
 * exactly the expressions the merge step uses; any other expression is
 * refused, so a change to the step cannot pass here unnoticed.
 */
export class LocalLock {
  holder: string | undefined

  update(parameters: Record<string, unknown>): Record<string, never> {
    const values = parameters.ExpressionAttributeValues as Record<string, { S?: string }>
    const condition = String(parameters.ConditionExpression)
    const holds = (name: string) => this.holder === values[name]?.S
    let allowed: boolean
    if (condition === 'attribute_not_exists(holder) OR holder = :me')
      allowed = this.holder === undefined || holds(':me')
    else if (condition === 'attribute_not_exists(holder) OR holder = :stale')
      allowed = this.holder === undefined || holds(':stale')
    else if (condition === 'holder = :me') allowed = holds(':me')
    else throw new Error(`the local lock does not know the condition ${condition}`)
    if (!allowed)
      throw new ServiceError('DynamoDB.ConditionalCheckFailedException', 'The conditional request failed')
    const update = String(parameters.UpdateExpression)
    if (update.startsWith('SET holder = :me')) this.holder = values[':me']?.S
    else if (update.startsWith('REMOVE holder')) this.holder = undefined
    else throw new Error(`the local lock does not know the update ${update}`)
    return {}
  }

  get(): Record<string, unknown> {
    const lock = { S: 'listings_current' }
    return { Item: this.holder === undefined ? { lock } : { lock, holder: { S: this.holder } } }
  }
}

/** The bindings one local state machine shares across its executions. */
export class CurrentTableBindings {
  readonly lock = new LocalLock()
  /** Every MERGE asked for, in order. */
  readonly queries: RecordedQuery[] = []
  /** Every rebuild started: the execution that started it. */
  readonly rebuilds: string[] = []
  /** Executions that are running, for DescribeExecution. */
  readonly running = new Set<string>()

  constructor(private readonly executor?: QueryExecutor) {}

  /** The handler for a Task state with this resource, or `undefined` when it is not one of the table's. */
  handlerFor(
    resource: string,
    executionId: () => string,
  ): ((parameters: Record<string, unknown>) => Promise<unknown>) | undefined {
    if (/:::dynamodb:updateItem$/.test(resource)) return async (p) => this.lock.update(p)
    if (/:::dynamodb:getItem$/.test(resource)) return async () => this.lock.get()
    if (/:::aws-sdk:sfn:describeExecution$/.test(resource))
      return async (p) => {
        const arn = String(p.ExecutionArn)
        return { Status: this.running.has(arn) ? 'RUNNING' : 'SUCCEEDED' }
      }
    if (/:::athena:startQueryExecution\.sync$/.test(resource))
      return async (p) => {
        this.queries.push({ query: String(p.QueryString), executionId: executionId() })
        if (this.executor !== undefined) return this.executor(p)
        const id = `local-query-${this.queries.length}`
        return { QueryExecution: { QueryExecutionId: id, Status: { State: 'SUCCEEDED' } } }
      }
    if (/:::states:startExecution\.sync:2$/.test(resource))
      return async (p) => {
        this.rebuilds.push(executionId())
        const arn = String(p.StateMachineArn).replace(':stateMachine:', ':execution:')
        return {
          ExecutionArn: `${arn}:local-rebuild-${this.rebuilds.length}`,
          Status: 'SUCCEEDED',
          Output: '{}',
        }
      }
    return undefined
  }
}

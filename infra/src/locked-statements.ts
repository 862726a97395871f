/**
 * The current table's writers' common core: statements that run only while
 * holding the table's writer lock (one DynamoDB item naming the execution that
 * holds it), each retried on an Iceberg commit conflict with full jitter, the
 * lock released after, failed or not, and taken over from a holder that is no
 * longer running. Its integrations, error names and timings are stated in
 * current-table-states.ts.
 */
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb'
import * as sfn from 'aws-cdk-lib/aws-stepfunctions'
import type { Construct } from 'constructs'
import { CURRENT_TABLE_NAME } from '../../shared/src/current-table-sql.js'
import {
  ATHENA_API_RETRY,
  COMMIT_CONFLICT_RETRY,
  CURRENT_TABLE_ERROR,
  CURRENT_TABLE_INTEGRATIONS,
  ICEBERG_COMMIT_CONFLICT,
  LOCK_WAIT_SECONDS,
} from './current-table-states.js'
import { addRetries } from './sfn-retries.js'
import { statesFormat } from './states-format.js'

/** One statement of {@link lockedStatements}. */
export interface LockedStatement {
  /** Names its states (`<prefix><name>...`). */
  readonly name: string
  /** The SQL; with `values`, a template whose `{}` slots they fill (see `statesFormat` in states-format.ts). */
  readonly query: string
  /** JSONPath or intrinsic expressions for the slots, in order. @default none (the query as it is) */
  readonly values?: readonly string[]
}

/** Where {@link lockedStatements} runs its statements and finds its lock. */
export interface StatementTarget {
  /** The writer lock's table. */
  readonly lock: dynamodb.ITable
  /** The Glue database the statements run in. */
  readonly databaseName: string
  /** The Athena workgroup the statements run in. */
  readonly workGroupName: string
}

/**
 * The statements run one after another while holding the writer lock, each
 * retried on an Iceberg commit conflict, the lock released whatever happens.
 * The lock is taken over from a holder that is no longer running.
 *
 * @param scope - where the states are created
 * @param prefix - the start of every state's name (unique in the machine)
 * @param steps - the statements, in order; at least one
 * @throws {Error} when `steps` is empty
 */
export function lockedStatements(
  scope: Construct,
  prefix: string,
  steps: readonly LockedStatement[],
  target: StatementTarget,
): sfn.Chain {
  // Working data, out of the way of the input the machine passes on.
  const work = '$.currentTable'
  const lockKey = { lock: { S: CURRENT_TABLE_NAME } }
  const me = { 'S.$': '$$.Execution.Id' }
  const lockTask = (
    id: string,
    resource: string,
    parameters: Record<string, unknown>,
    resultPath: string | null,
  ) =>
    new sfn.CustomState(scope, `${prefix}${id}`, {
      stateJson: {
        Type: 'Task',
        Resource: resource,
        Parameters: { TableName: target.lock.tableName, Key: lockKey, ...parameters },
        ResultPath: resultPath,
      },
    })
  const conditionFailed = ['DynamoDB.ConditionalCheckFailedException']

  const acquire = lockTask(
    'TakeLock',
    CURRENT_TABLE_INTEGRATIONS.lockUpdate.resource,
    {
      UpdateExpression: 'SET holder = :me, taken_at = :now',
      ConditionExpression: 'attribute_not_exists(holder) OR holder = :me',
      ExpressionAttributeValues: { ':me': me, ':now': { 'S.$': '$$.State.EnteredTime' } },
    },
    null,
  )
  const readLock = lockTask(
    'ReadLock',
    CURRENT_TABLE_INTEGRATIONS.lockRead.resource,
    { ConsistentRead: true },
    `${work}.lock`,
  )
  const describeHolder = new sfn.CustomState(scope, `${prefix}CheckLockHolder`, {
    stateJson: {
      Type: 'Task',
      Resource: CURRENT_TABLE_INTEGRATIONS.describeHolder.resource,
      Parameters: { 'ExecutionArn.$': `${work}.lock.Item.holder.S` },
      ResultSelector: { 'status.$': '$.Status' },
      ResultPath: `${work}.holder`,
    },
  })
  const takeOver = lockTask(
    'TakeOverLock',
    CURRENT_TABLE_INTEGRATIONS.lockUpdate.resource,
    {
      UpdateExpression: 'SET holder = :me, taken_at = :now',
      ConditionExpression: 'attribute_not_exists(holder) OR holder = :stale',
      ExpressionAttributeValues: {
        ':me': me,
        ':now': { 'S.$': '$$.State.EnteredTime' },
        ':stale': { 'S.$': `${work}.lock.Item.holder.S` },
      },
    },
    null,
  )
  const lockBackoff = new sfn.Pass(scope, `${prefix}LockBusy`, {
    parameters: { 'seconds.$': `States.MathRandom(${LOCK_WAIT_SECONDS.min}, ${LOCK_WAIT_SECONDS.max})` },
    resultPath: `${work}.lockWait`,
  })
  const lockWait = new sfn.Wait(scope, `${prefix}WaitForLock`, {
    time: sfn.WaitTime.secondsPath(`${work}.lockWait.seconds`),
  })
  const release = (id: string) =>
    lockTask(
      id,
      CURRENT_TABLE_INTEGRATIONS.lockUpdate.resource,
      {
        UpdateExpression: 'REMOVE holder, taken_at',
        ConditionExpression: 'holder = :me',
        ExpressionAttributeValues: { ':me': me },
      },
      null,
    )
  const releaseAfterFailure = release('ReleaseLockAfterFailure')
  const failed = new sfn.Fail(scope, `${prefix}Failed`, {
    error: CURRENT_TABLE_ERROR,
    causePath: `${work}.error.Cause`,
  })
  // A release whose condition fails means another execution took the lock over: nothing to release.
  releaseAfterFailure.addCatch(failed, { errors: conditionFailed, resultPath: sfn.JsonPath.DISCARD })
  releaseAfterFailure.next(failed)

  let first: sfn.IChainable | undefined
  let previous: sfn.CustomState | undefined
  for (const step of steps) {
    const startCounters = new sfn.Pass(scope, `${prefix}${step.name}Start`, {
      parameters: { attempt: 0, ceiling: COMMIT_CONFLICT_RETRY.firstCeilingSeconds },
      resultPath: `${work}.retry`,
    })
    const query = new sfn.CustomState(scope, `${prefix}${step.name}`, {
      stateJson: {
        Type: 'Task',
        Resource: CURRENT_TABLE_INTEGRATIONS.athenaSync.resource,
        Parameters: {
          ...(step.values === undefined
            ? { QueryString: step.query }
            : { 'QueryString.$': statesFormat(step.query, step.values) }),
          QueryExecutionContext: { Catalog: 'AwsDataCatalog', Database: target.databaseName },
          WorkGroup: target.workGroupName,
        },
        // Only what every query result has: a ResultSelector path that is missing (a statistic
        // some statements lack) is a States.Runtime error, which no Catch handles.
        ResultSelector: { 'queryExecutionId.$': '$.QueryExecution.QueryExecutionId' },
        ResultPath: `${work}.results.${step.name}`,
      },
    })
    addRetries(query, [ATHENA_API_RETRY])
    const conflictBackoff = new sfn.Pass(scope, `${prefix}${step.name}CommitConflict`, {
      parameters: {
        'attempt.$': `States.MathAdd(${work}.retry.attempt, 1)`,
        'ceiling.$': `States.MathAdd(${work}.retry.ceiling, ${work}.retry.ceiling)`,
        'seconds.$': `States.MathRandom(1, ${work}.retry.ceiling)`,
      },
      resultPath: `${work}.retry`,
    })
    const conflictWait = new sfn.Wait(scope, `${prefix}${step.name}WaitAfterConflict`, {
      time: sfn.WaitTime.secondsPath(`${work}.retry.seconds`),
    })
    const onError = new sfn.Choice(scope, `${prefix}${step.name}Retryable`)
      .when(
        sfn.Condition.and(
          sfn.Condition.stringMatches(`${work}.error.Cause`, `*${ICEBERG_COMMIT_CONFLICT}*`),
          sfn.Condition.numberLessThan(`${work}.retry.attempt`, COMMIT_CONFLICT_RETRY.maxRetries),
        ),
        conflictBackoff.next(conflictWait).next(query),
      )
      .otherwise(releaseAfterFailure)
    query.addCatch(onError, { errors: [sfn.Errors.ALL], resultPath: `${work}.error` })
    startCounters.next(query)
    if (previous === undefined) first = startCounters
    else previous.next(startCounters)
    previous = query
  }
  if (first === undefined || previous === undefined)
    throw new Error('lockedStatements() needs at least one statement')
  const releaseLock = release('ReleaseLock')
  const takenOver = new sfn.Pass(scope, `${prefix}LockAlreadyTakenOver`)
  releaseLock.addCatch(takenOver, { errors: conditionFailed, resultPath: sfn.JsonPath.DISCARD })
  previous.next(releaseLock)

  acquire.addCatch(readLock, { errors: conditionFailed, resultPath: sfn.JsonPath.DISCARD })
  readLock.next(
    new sfn.Choice(scope, `${prefix}LockStillHeld`)
      .when(sfn.Condition.isNotPresent(`${work}.lock.Item.holder.S`), acquire)
      .otherwise(describeHolder),
  )
  // A holder whose execution is gone (history expired) is not running either.
  describeHolder.addCatch(takeOver, {
    errors: ['Sfn.ExecutionDoesNotExistException'],
    resultPath: sfn.JsonPath.DISCARD,
  })
  describeHolder.next(
    new sfn.Choice(scope, `${prefix}HolderRunning`)
      .when(sfn.Condition.stringEquals(`${work}.holder.status`, 'RUNNING'), lockBackoff)
      .otherwise(takeOver),
  )
  takeOver.addCatch(lockBackoff, { errors: conditionFailed, resultPath: sfn.JsonPath.DISCARD })
  takeOver.next(first)
  lockBackoff.next(lockWait).next(acquire)
  acquire.next(first)
  return sfn.Chain.custom(acquire, [releaseLock, takenOver], releaseLock)
}

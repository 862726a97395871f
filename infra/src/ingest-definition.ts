/**
 * The ingest state machine's definition: route by size, run the Lambda or
 * the Fargate task (large-file-branch.ts), retry transient errors, catch a
 * data-quality breach and other failures into notify-then-fail branches, and
 * after a publish merge into the current table (or rebuild it, after a large
 * file). The states the backfill shares (the Lambda task, the size routing,
 * the rebuild) are built here too.
 */

import type * as lambda from 'aws-cdk-lib/aws-lambda'
import type * as sns from 'aws-cdk-lib/aws-sns'
import * as sfn from 'aws-cdk-lib/aws-stepfunctions'
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks'
import type { Construct } from 'constructs'
import {
  DATA_QUALITY_ERROR,
  INGEST_RETRY,
  LAMBDA_SERVICE_RETRY,
  LARGE_FILE_OUTCOMES,
  STATES,
} from '../../lambdas/ingest/src/orchestration.js'
import type { CurrentTable } from './current-table.js'
import { largeFileRun } from './large-file-branch.js'
import type { LargeFileTask } from './large-file-task.js'
import { addRetries } from './sfn-retries.js'

/** What {@link ingestDefinition} runs and notifies. */
export interface IngestDefinitionProps {
  /** The ingest Lambda each small file runs on. */
  readonly ingest: lambda.IFunction
  /** Where the notify branches publish. */
  readonly alerts: sns.ITopic
  /** The Fargate task for files above the threshold; without it, no size routing. @default undefined */
  readonly largeFiles?: LargeFileTask | undefined
  /** The table a successful ingest is merged into. */
  readonly currentTable: CurrentTable
}

/**
 * Route by size → invoke the Lambda or run the Fargate task → retry transient errors →
 * catch DQ and other failures → choose on the result. Without the large-file path, the
 * definition starts at the Lambda task.
 */
export function ingestDefinition(scope: Construct, props: IngestDefinitionProps): sfn.IChainable {
  const invoke = invokeIngest(scope, STATES.ingest, props.ingest, {
    event: sfn.JsonPath.entirePayload,
    executionId: sfn.JsonPath.executionId,
  })
  const notify = (id: string, subject: string) =>
    new tasks.SnsPublish(scope, id, {
      topic: props.alerts,
      subject,
      message: sfn.TaskInput.fromJsonPathAt('$'),
      resultPath: sfn.JsonPath.DISCARD,
    })
  const dataQualityFailure = notify(
    STATES.notifyDataQualityFailure,
    'Listings ingest: data-quality threshold breached',
  ).next(
    new sfn.Fail(scope, STATES.dataQualityFailed, {
      error: DATA_QUALITY_ERROR,
      cause: 'A data-quality threshold was breached; see the report',
    }),
  )
  const failure = notify(STATES.notifyFailure, 'Listings ingest failed').next(
    new sfn.Fail(scope, STATES.ingestFailed, {
      error: 'IngestFailed',
      cause: 'The ingest task failed; see the execution history',
    }),
  )
  const catchFailures = (task: sfn.TaskStateBase | sfn.Parallel) => {
    task.addCatch(dataQualityFailure, { errors: [DATA_QUALITY_ERROR], resultPath: '$.error' })
    task.addCatch(failure, { errors: [sfn.Errors.ALL], resultPath: '$.error' })
  }
  catchFailures(invoke)

  const processed = new sfn.Succeed(scope, STATES.processed)
  const nothingToDo = new sfn.Succeed(scope, STATES.nothingToDo)
  const noRows = notify(STATES.notifyNoRows, 'Listings ingest: a file produced no rows').next(processed)
  // The MERGE after every ingest that published rows, and after `already_processed` too: the
  // MERGE is idempotent, so a redelivered event repairs a merge that failed the first time. A
  // zero-row file has nothing to merge; a breach never gets here (caught above, no Parquet).
  const merge = props.currentTable
    .mergeStep(scope)
    .next(
      new sfn.Choice(scope, STATES.afterMerge)
        .when(sfn.Condition.stringEquals('$.status', 'processed'), processed)
        .otherwise(nothingToDo),
    )
  const check = new sfn.Choice(scope, STATES.checkResult)
    .when(
      sfn.Condition.and(
        sfn.Condition.stringEquals('$.status', 'processed'),
        sfn.Condition.numberEquals('$.counts.rows_after_dedup', 0),
      ),
      noRows,
    )
    .when(
      sfn.Condition.or(
        sfn.Condition.stringEquals('$.status', 'processed'),
        sfn.Condition.stringEquals('$.status', 'already_processed'),
      ),
      merge,
    )
    .otherwise(nothingToDo)
  const lambdaPath = invoke.next(check)
  if (props.largeFiles === undefined) return lambdaPath

  const largeFile = largeFileRun(scope, STATES.ingestLargeFile, props.largeFiles, sfn.JsonPath.entirePayload)
  catchFailures(largeFile)
  // The task reports an exit code, not the summary (source Last-Modified, ETag, Parquet key) the
  // MERGE needs: a processed large file rebuilds the table instead, from the live outputs' manifests,
  // which is correct whatever order files arrive in. Large files are rare; a rebuild scans the table.
  const rebuild = startRebuild(scope, STATES.rebuildAfterLargeFile, props.currentTable)
  rebuild.addCatch(failure, { errors: [sfn.Errors.ALL], resultPath: '$.error' })
  const checkLargeFile = new sfn.Choice(scope, STATES.checkLargeFileResult)
    .when(sfn.Condition.stringEquals('$.outcome', LARGE_FILE_OUTCOMES.noRowsWritten), noRows)
    .when(sfn.Condition.stringEquals('$.outcome', LARGE_FILE_OUTCOMES.processed), rebuild.next(processed))
    .otherwise(nothingToDo)
  return routeBySize(
    scope,
    STATES.routeBySize,
    '$.detail.object.size',
    props.largeFiles.settings.thresholdBytes,
    {
      small: lambdaPath,
      large: largeFile.next(checkLargeFile),
    },
  )
}

/** The ingest Lambda as a task, with the Lambda-service and transient-error retries. */
export function invokeIngest(
  scope: Construct,
  id: string,
  fn: lambda.IFunction,
  payload: Record<string, unknown>,
): tasks.LambdaInvoke {
  const task = new tasks.LambdaInvoke(scope, id, {
    lambdaFunction: fn,
    payload: sfn.TaskInput.fromObject(payload),
    payloadResponseOnly: true,
    retryOnServiceExceptions: false,
  })
  addRetries(task, [LAMBDA_SERVICE_RETRY, INGEST_RETRY])
  return task
}

/**
 * The Choice that sends objects larger than the threshold to the Fargate
 * task. An input without a size (a direct `{ bucket, key }` request) goes
 * to the Lambda: such requests are re-runs of ordinary files, and a large
 * one is re-run through the backfill, whose items carry their size.
 */
export function routeBySize(
  scope: Construct,
  id: string,
  sizePath: string,
  thresholdBytes: number,
  next: { small: sfn.IChainable; large: sfn.IChainable },
): sfn.Choice {
  return new sfn.Choice(scope, id, {
    comment: `Objects over ${thresholdBytes} bytes run on Fargate; the rest, and requests without a size, on Lambda`,
  })
    .when(sfn.Condition.not(sfn.Condition.isPresent(sizePath)), next.small)
    .when(sfn.Condition.numberGreaterThan(sizePath, thresholdBytes), next.large)
    .otherwise(next.small)
}

/** Runs the current table's rebuild machine to its end (`startExecution.sync:2`); fails when it fails. */
export function startRebuild(
  scope: Construct,
  id: string,
  currentTable: CurrentTable,
): tasks.StepFunctionsStartExecution {
  return new tasks.StepFunctionsStartExecution(scope, id, {
    stateMachine: currentTable.rebuild,
    integrationPattern: sfn.IntegrationPattern.RUN_JOB,
    associateWithParent: true,
    resultPath: sfn.JsonPath.DISCARD,
  })
}

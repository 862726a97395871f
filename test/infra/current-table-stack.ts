/**
 * A stack with the current table wired the way the ingest state machine is to
 * wire it (until infra/src/ingest-stack.ts does): storage, analytics, the
 * current table, and a state machine that runs an ingest task, stops on a
 * breach, and runs the merge step after a successful ingest.
 */
import { App, Stack, Validations } from 'aws-cdk-lib'
import { Template } from 'aws-cdk-lib/assertions'
import * as logs from 'aws-cdk-lib/aws-logs'
import * as sfn from 'aws-cdk-lib/aws-stepfunctions'
import { AwsSolutionsChecks } from 'cdk-nag'
import { Analytics } from '../../infra/src/analytics.js'
import { FEATURE_FLAGS } from '../../infra/src/app.js'
import { readPipelineConfig } from '../../infra/src/config.js'
import { CurrentTable } from '../../infra/src/current-table.js'
import { Storage } from '../../infra/src/storage.js'
import { DATA_QUALITY_ERROR, STATES } from '../../lambdas/ingest/src/orchestration.js'

/** The stand-in ingest task's resource: a Lambda ARN, bound locally in the ASL tests. */
export const INGEST_FUNCTION_ARN = 'arn:aws:lambda:eu-west-2:123456789012:function:ingest'

/** The names of the test machine's own states: the ingest's where the ingest machine has them. */
export const TEST_STATES = {
  ingest: STATES.ingest,
  breached: STATES.dataQualityFailed,
  published: 'PublishedParquet',
  done: 'Done',
} as const

export interface CurrentTableStack {
  stack: Stack
  currentTable: CurrentTable
  ingestWithMerge: sfn.StateMachine
  template: Template
}

const cache = new Map<string, CurrentTableStack>()

/** The stack, synthesized once per context. */
export function currentTableStack(context: Record<string, unknown> = {}): CurrentTableStack {
  const key = JSON.stringify(context)
  const cached = cache.get(key)
  if (cached !== undefined) return cached
  // The feature flags infra/src/app.ts sets, and its cdk-nag checks.
  const app = new App({ analyticsReporting: false, context: { ...FEATURE_FLAGS, ...context } })
  const stack = new Stack(app, 'CurrentTableTest')
  const config = readPipelineConfig(stack.node)
  const storage = new Storage(stack, 'Storage', { config })
  const analytics = new Analytics(stack, 'Analytics', { config, storage })
  const currentTable = new CurrentTable(stack, 'CurrentTable', { config, storage, analytics })

  const ingest = new sfn.CustomState(stack, TEST_STATES.ingest, {
    stateJson: { Type: 'Task', Resource: INGEST_FUNCTION_ARN, Parameters: { 'event.$': '$' } },
  })
  ingest.addCatch(new sfn.Fail(stack, TEST_STATES.breached, { error: DATA_QUALITY_ERROR }), {
    errors: [DATA_QUALITY_ERROR],
  })
  const merge = currentTable.mergeStep(stack)
  const done = new sfn.Succeed(stack, TEST_STATES.done)
  const definition = ingest.next(
    new sfn.Choice(stack, TEST_STATES.published)
      .when(
        sfn.Condition.or(
          sfn.Condition.stringEquals('$.status', 'processed'),
          sfn.Condition.stringEquals('$.status', 'already_processed'),
        ),
        merge.next(done),
      )
      .otherwise(done),
  )
  const ingestWithMerge = new sfn.StateMachine(stack, 'IngestWithMerge', {
    stateMachineName: `${config.namePrefix}-ingest`,
    definitionBody: sfn.DefinitionBody.fromChainable(definition),
    tracingEnabled: true,
    logs: {
      destination: new logs.LogGroup(stack, 'IngestWithMergeLogs', { encryptionKey: storage.key }),
      level: sfn.LogLevel.ALL,
      includeExecutionData: true,
    },
  })
  currentTable.grantWrite(ingestWithMerge, 'merge')
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app))
  const built = { stack, currentTable, ingestWithMerge, template: Template.fromStack(stack) }
  cache.set(key, built)
  return built
}

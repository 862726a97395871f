import { Aws, type CfnElement, Duration, Fn, Stack } from 'aws-cdk-lib'
import * as iam from 'aws-cdk-lib/aws-iam'
import type * as kms from 'aws-cdk-lib/aws-kms'
import type * as lambda from 'aws-cdk-lib/aws-lambda'
import * as logs from 'aws-cdk-lib/aws-logs'
import type * as sns from 'aws-cdk-lib/aws-sns'
import * as sfn from 'aws-cdk-lib/aws-stepfunctions'
import { Construct } from 'constructs'
import { TASK_INTEGRATIONS } from '../../lambdas/ingest/src/aws-calls.js'
import {
  INGEST_RETRY,
  lambdaServiceRetryBudgetSeconds,
  STATES,
} from '../../lambdas/ingest/src/orchestration.js'
import type { PipelineConfig } from './config.js'
import type { CurrentTable } from './current-table.js'
import { ingestDefinition, invokeIngest, routeBySize, startRebuild } from './ingest-definition.js'
import { acknowledgeLargeFileFindings, largeFileRun, largeFileSubstitutions } from './large-file-branch.js'
import type { LargeFileTask } from './large-file-task.js'
import { acknowledge, acknowledgeXRay, arnReference } from './nag.js'
import { removalProps } from './removal.js'
import type { Storage } from './storage.js'

/** Props of {@link StateMachines}. */
export interface StateMachinesProps {
  /** The stack's settings: names, the incoming prefix, timeouts, concurrency, log retention, removal. */
  readonly config: PipelineConfig
  /** The raw bucket (the backfill lists it) and the key (the log groups). */
  readonly storage: Storage
  /** The ingest Lambda each small file runs on. */
  readonly ingest: lambda.IFunction
  /** Where the notify branches publish. */
  readonly alerts: sns.ITopic
  /** The key that encrypts the alerts topic; publishing needs it. */
  readonly alertsKey: kms.IKey
  /** The Fargate task for files above the threshold; `undefined` deploys without size routing. @default undefined */
  readonly largeFiles?: LargeFileTask | undefined
  /** The Iceberg table every successful ingest is merged into; the backfill rebuilds it. */
  readonly currentTable: CurrentTable
}

/**
 * Minutes the ingest machine's timeout allows for the current table: waiting
 * for its writer lock (maintenance can hold it for minutes) and the MERGE, or
 * a large file's rebuild.
 */
export const CURRENT_TABLE_MINUTES = 60

/**
 * Starting the current table's rebuild and waiting for its end
 * (`startExecution.sync:2`): what the integration does with the caller's role,
 * as the policy tests evaluate it. It starts the execution, watches it
 * (and stops it if the caller is stopped), and manages the EventBridge rule
 * through which Step Functions learns that the child ended.
 */
export const START_EXECUTION_SYNC = {
  resource: 'arn:aws:states:::states:startExecution.sync:2',
  onStateMachine: ['states:StartExecution'],
  onExecution: ['states:DescribeExecution', 'states:StopExecution'],
  onRule: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
  rule: 'StepFunctionsGetEventsForStepFunctionsExecutionRule',
} as const

/**
 * Orchestration: the per-file ingest state machine that EventBridge starts,
 * and the backfill state machine that re-runs the same Lambda over every
 * object under the incoming prefix with a Distributed Map.
 */
export class StateMachines extends Construct {
  readonly ingest: sfn.StateMachine
  readonly backfill: sfn.StateMachine

  constructor(scope: Construct, id: string, props: StateMachinesProps) {
    super(scope, id)
    const { config, storage } = props
    const removal = removalProps(config.removalPolicy)
    // Retained log groups outlive the stack; a fixed name would make `cdk destroy` then `cdk deploy`
    // fail with "already exists". The name ends with the first block of the stack's id, a UUID
    // CloudFormation draws per stack creation: stable across updates, new after a teardown.
    // The /aws/vendedlogs/ prefix is not required, but Step Functions recommends it: CloudWatch
    // Logs then covers the group with one resource-policy entry instead of one per group, which
    // keeps the account's 5,120-character policy limit out of reach.
    const deployment = Fn.select(0, Fn.split('-', Fn.select(2, Fn.split('/', Aws.STACK_ID))))
    const logGroup = (name: string) =>
      new logs.LogGroup(this, `${name}Logs`, {
        logGroupName: `/aws/vendedlogs/states/${config.namePrefix}-${name.toLowerCase()}-${deployment}`,
        encryptionKey: storage.key,
        retention: config.logRetentionDays,
        ...removal.logGroup,
      })

    const substitutions = largeFileSubstitutions(props.largeFiles)
    const attempts = INGEST_RETRY.maxRetries + 1
    const serviceRetryMinutes = Math.ceil(lambdaServiceRetryBudgetSeconds() / 60)
    const largeFileMinutes = (props.largeFiles?.settings.timeoutMinutes ?? 0) * attempts + serviceRetryMinutes
    this.ingest = new sfn.StateMachine(this, 'IngestStateMachine', {
      stateMachineName: `${config.namePrefix}-ingest`,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(ingestDefinition(this, props)),
      ...(substitutions ? { definitionSubstitutions: substitutions } : {}),
      tracingEnabled: true,
      logs: { destination: logGroup('Ingest'), level: sfn.LogLevel.ALL, includeExecutionData: true },
      // Every attempt of the slower path, the service retries, the current table, and ten minutes for the rest.
      timeout: Duration.minutes(
        Math.max(config.lambdaTimeoutMinutes * attempts + serviceRetryMinutes, largeFileMinutes) +
          CURRENT_TABLE_MINUTES +
          10,
      ),
    })
    // SNS encrypts each message under the topic's key as the publisher, so publishing to the
    // encrypted topic needs the key too; only through SNS.
    const snsKeyUse = TASK_INTEGRATIONS['arn:aws:states:::sns:publish'].kmsViaService
    this.ingest.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'UseAlertsKeyThroughSns',
        actions: [...snsKeyUse.operations],
        resources: [props.alertsKey.keyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `${snsKeyUse.service}.${Aws.REGION}.amazonaws.com` },
        },
      }),
    )

    props.currentTable.grantWrite(this.ingest, 'merge')

    const backfillEvent = { bucket: storage.raw.bucketName, 'key.$': '$.Key', 'etag.$': '$.Etag' }
    const backfillInvoke = invokeIngest(this, 'IngestObject', props.ingest, {
      event: backfillEvent,
      executionId: sfn.JsonPath.executionId,
    })
    // The S3 item reader gives each object's Size: the same routing as an upload's event.
    const backfillItem = props.largeFiles
      ? routeBySize(this, 'RouteObjectBySize', '$.Size', props.largeFiles.settings.thresholdBytes, {
          small: backfillInvoke,
          large: largeFileRun(this, 'IngestLargeObject', props.largeFiles, backfillEvent),
        })
      : backfillInvoke
    const map = new sfn.DistributedMap(this, 'EachIncomingObject', {
      itemReader: new sfn.S3ObjectsItemReader({ bucket: storage.raw, prefix: config.incomingPrefix }),
      maxConcurrency: config.backfillMaxConcurrency,
      toleratedFailurePercentage: 10,
      resultPath: sfn.JsonPath.DISCARD,
    })
    map.itemProcessor(backfillItem)
    this.backfill = new sfn.StateMachine(this, 'BackfillStateMachine', {
      stateMachineName: `${config.namePrefix}-backfill`,
      stateMachineType: sfn.StateMachineType.STANDARD,
      // One rebuild from every live output after the Map, in source order, instead of a MERGE per
      // file (which would queue every item on the table's writer lock).
      definitionBody: sfn.DefinitionBody.fromChainable(
        map
          .next(startRebuild(this, STATES.rebuildAfterBackfill, props.currentTable))
          .next(new sfn.Succeed(this, 'BackfillDone')),
      ),
      ...(substitutions ? { definitionSubstitutions: substitutions } : {}),
      tracingEnabled: true,
      logs: { destination: logGroup('Backfill'), level: sfn.LogLevel.ALL, includeExecutionData: true },
    })
    this.acknowledgeFindings(props.ingest, props.largeFiles !== undefined)
    this.acknowledgeRebuildFindings(props.currentTable)
    if (props.largeFiles) acknowledgeLargeFileFindings([this.ingest, this.backfill], props.largeFiles)
  }

  private acknowledgeRebuildFindings(currentTable: CurrentTable): void {
    const rebuild = Stack.of(this).getLogicalId(currentTable.rebuild.node.defaultChild as CfnElement)
    const executions = `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${rebuild}"}]}]}*`
    for (const machine of [this.ingest, this.backfill]) {
      acknowledge(
        machine.role.node.findChild('DefaultPolicy'),
        `IAM5[Resource::${executions}]`,
        'startExecution.sync:2 watches (and on abort stops) the rebuild execution it started, named at run time.',
      )
    }
  }

  private acknowledgeFindings(fn: lambda.IFunction, largeFiles: boolean): void {
    for (const machine of [this.ingest, this.backfill]) {
      const policy = machine.role.node.findChild('DefaultPolicy')
      acknowledgeXRay(
        policy,
        largeFiles
          ? 'ecs:DescribeTasks and ecs:StopTask (runTask.sync watching, and on timeout stopping, the task it ' +
              'started) act on task ARNs generated at run time.'
          : '',
      )
      acknowledge(
        policy,
        `IAM5[Resource::${arnReference(fn)}:*]`,
        'Step Functions invokes the ingest function by ARN; the :* covers only its versions and aliases.',
      )
    }
    const mapPolicy = this.backfill.node.findChild('DistributedMapPolicy')
    const executions = `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${Stack.of(this).getLogicalId(this.backfill.node.defaultChild as CfnElement)}"}]}]}`
    const reason =
      'The Distributed Map starts and manages child executions of this one state machine, whose names are generated at run time.'
    acknowledge(mapPolicy, `IAM5[Resource::${executions}:*]`, reason)
    acknowledge(mapPolicy, `IAM5[Resource::${executions}/*:*]`, reason)
  }
}

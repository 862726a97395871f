import { Aws, type CfnElement, Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib'
import * as ec2 from 'aws-cdk-lib/aws-ec2'
import * as ecs from 'aws-cdk-lib/aws-ecs'
import * as iam from 'aws-cdk-lib/aws-iam'
import type * as kms from 'aws-cdk-lib/aws-kms'
import type * as lambda from 'aws-cdk-lib/aws-lambda'
import * as logs from 'aws-cdk-lib/aws-logs'
import type * as sns from 'aws-cdk-lib/aws-sns'
import * as sfn from 'aws-cdk-lib/aws-stepfunctions'
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks'
import { Construct } from 'constructs'
import { TASK_INTEGRATIONS } from '../../lambdas/ingest/src/aws-calls.js'
import {
  DATA_QUALITY_ERROR,
  ECS_SERVICE_RETRY,
  INGEST_RETRY,
  LAMBDA_SERVICE_RETRY,
  LARGE_FILE_OUTCOMES,
  lambdaServiceRetryBudgetSeconds,
  STATES,
  TASK_CRASHED_ERROR,
  TASK_EVENT_ENV,
  TASK_EXIT_CODES,
  TASK_EXIT_ERRORS,
} from '../../lambdas/ingest/src/orchestration.js'
import type { PipelineConfig } from './config.js'
import type { CurrentTable } from './current-table.js'
import type { LargeFileTask } from './large-file-task.js'
import { acknowledge, acknowledgeXRay, arnReference, subnetById } from './nag.js'
import type { Storage } from './storage.js'

interface StateMachinesProps {
  config: PipelineConfig
  storage: Storage
  ingest: lambda.IFunction
  alerts: sns.ITopic
  /** The key that encrypts the alerts topic; publishing needs it. */
  alertsKey: kms.IKey
  /** The Fargate task for files above the threshold; `undefined` deploys without size routing. */
  largeFiles: LargeFileTask | undefined
  /** The Iceberg table every successful ingest is merged into; the backfill rebuilds it. */
  currentTable: CurrentTable
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

/** A retrier as orchestration.ts states it. */
interface RetryPolicy {
  readonly errors: readonly string[]
  readonly intervalSeconds: number
  readonly maxRetries: number
  readonly backoffRate: number
  readonly maxDelaySeconds?: number
  readonly jitter?: keyof typeof sfn.JitterType
}

/** The names the definition gives the task's cluster and network, filled in by DefinitionSubstitutions. */
const LARGE_FILE_SUBSTITUTIONS = { cluster: 'LargeFileClusterArn', securityGroup: 'LargeFileSecurityGroup' }

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
    const removalPolicy = config.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN
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
        removalPolicy,
      })

    const substitutions = this.largeFileSubstitutions(props.largeFiles)
    const attempts = INGEST_RETRY.maxRetries + 1
    const serviceRetryMinutes = Math.ceil(lambdaServiceRetryBudgetSeconds() / 60)
    const largeFileMinutes = (props.largeFiles?.settings.timeoutMinutes ?? 0) * attempts + serviceRetryMinutes
    this.ingest = new sfn.StateMachine(this, 'IngestStateMachine', {
      stateMachineName: `${config.namePrefix}-ingest`,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(this.ingestDefinition(props)),
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
    const backfillInvoke = this.invokeIngest('IngestObject', props.ingest, {
      event: backfillEvent,
      executionId: sfn.JsonPath.executionId,
    })
    // The S3 item reader gives each object's Size: the same routing as an upload's event.
    const backfillItem = props.largeFiles
      ? this.routeBySize('RouteObjectBySize', '$.Size', props.largeFiles.settings.thresholdBytes, {
          small: backfillInvoke,
          large: this.largeFileRun('IngestLargeObject', props.largeFiles, backfillEvent),
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
          .next(this.startRebuild(STATES.rebuildAfterBackfill, props.currentTable))
          .next(new sfn.Succeed(this, 'BackfillDone')),
      ),
      ...(substitutions ? { definitionSubstitutions: substitutions } : {}),
      tracingEnabled: true,
      logs: { destination: logGroup('Backfill'), level: sfn.LogLevel.ALL, includeExecutionData: true },
    })
    this.acknowledgeFindings(props.ingest, props.largeFiles !== undefined)
    this.acknowledgeRebuildFindings(props.currentTable)
    if (props.largeFiles) this.acknowledgeLargeFileFindings(props.largeFiles)
  }

  /**
   * The cluster and security group the definition names, as DefinitionSubstitutions: the
   * definition text then references only the Lambda, the topic and the buckets, which is what
   * the local harness (local/src/s3/synthesized-template.ts) resolves; the subnets are passed the
   * same way. The task definition is named by its family, a literal.
   */
  private largeFileSubstitutions(largeFiles: LargeFileTask | undefined): Record<string, string> | undefined {
    if (largeFiles === undefined) return undefined
    return {
      [LARGE_FILE_SUBSTITUTIONS.cluster]: largeFiles.cluster.clusterArn,
      [LARGE_FILE_SUBSTITUTIONS.securityGroup]: largeFiles.securityGroup.securityGroupId,
      ...Object.fromEntries(largeFiles.subnets.map((subnet, i) => [`LargeFileSubnet${i}`, subnet.subnetId])),
    }
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

  private acknowledgeLargeFileFindings(largeFiles: LargeFileTask): void {
    // The CDK builds the family's ARN by splitting the task definition's ARN (its Ref); cdk-nag names it so.
    const ref = JSON.stringify({
      Ref: Stack.of(this).getLogicalId(largeFiles.taskDefinition.node.defaultChild as CfnElement),
    })
    const part = (i: number) => `{"Fn::Select":[${i},{"Fn::Split":[":",${ref}]}]}`
    const resourcePart = (i: number) => `{"Fn::Select":[${i},{"Fn::Split":["/",${part(5)}]}]}`
    const familyArn = `arn:${part(1)}:${part(2)}:${part(3)}:${part(4)}:${resourcePart(0)}/${resourcePart(1)}`
    for (const machine of [this.ingest, this.backfill]) {
      acknowledge(
        machine.role.node.findChild('DefaultPolicy'),
        `IAM5[Resource::${familyArn}:*]`,
        'RunTask names the task definition by family; :* covers its revisions, each deploy registering a new one.',
      )
    }
  }

  /**
   * The Choice that sends objects larger than the threshold to the Fargate
   * task. An input without a size (a direct `{ bucket, key }` request) goes
   * to the Lambda: such requests are re-runs of ordinary files, and a large
   * one is re-run through the backfill, whose items carry their size.
   */
  private routeBySize(
    id: string,
    sizePath: string,
    thresholdBytes: number,
    next: { small: sfn.IChainable; large: sfn.IChainable },
  ): sfn.Choice {
    return new sfn.Choice(this, id, {
      comment: `Objects over ${thresholdBytes} bytes run on Fargate; the rest, and requests without a size, on Lambda`,
    })
      .when(sfn.Condition.not(sfn.Condition.isPresent(sizePath)), next.small)
      .when(sfn.Condition.numberGreaterThan(sizePath, thresholdBytes), next.large)
      .otherwise(next.small)
  }

  /**
   * The large-file branch: a Parallel around `ecs:runTask.sync` that turns
   * the task's exit code into what the Lambda would have thrown or returned.
   *
   * runTask.sync fails the Task with `States.TaskFailed` when the essential
   * container exits non-zero, its Cause the stopped task's description as
   * JSON. The branch checks the Cause is JSON, parses it and chooses on
   * `Containers[0].ExitCode` (orchestration.ts, TASK_EXIT_CODES): a Fail state
   * with the Lambda's error name for each error class, so the Parallel fails with that name and the
   * same Retry (TransientError) and Catch (DataQualityThresholdError, then
   * everything) apply as on the Lambda task; or an outcome for the successful
   * ones. A task that stopped without an exit code (it never started: image
   * pull, capacity, network) is a TransientError; any other code (a crash,
   * 137 for out of memory) is {@link TASK_CRASHED_ERROR}.
   *
   * @param event - the event the task receives, as the Lambda task's `event`
   */
  private largeFileRun(id: string, largeFiles: LargeFileTask, event: unknown): sfn.Parallel {
    const { settings } = largeFiles
    const cluster = ecs.Cluster.fromClusterAttributes(this, `${id}Cluster`, {
      clusterName: largeFiles.cluster.clusterName,
      clusterArn: `\${${LARGE_FILE_SUBSTITUTIONS.cluster}}`,
      vpc: largeFiles.cluster.vpc,
      securityGroups: [],
    })
    const run = new tasks.EcsRunTask(this, `${id}Task`, {
      integrationPattern: sfn.IntegrationPattern.RUN_JOB,
      cluster,
      taskDefinition: largeFiles.taskDefinition,
      launchTarget: new tasks.EcsFargateLaunchTarget({ platformVersion: ecs.FargatePlatformVersion.LATEST }),
      assignPublicIp: settings.publicIp,
      subnets: {
        subnets: largeFiles.subnets.map((_, i) =>
          subnetById(this, `${id}Subnet${i}`, `\${LargeFileSubnet${i}}`),
        ),
      },
      securityGroups: [
        ec2.SecurityGroup.fromSecurityGroupId(
          this,
          `${id}SecurityGroup`,
          `\${${LARGE_FILE_SUBSTITUTIONS.securityGroup}}`,
        ),
      ],
      containerOverrides: [
        {
          containerDefinition: largeFiles.container,
          environment: [
            {
              name: TASK_EVENT_ENV.event,
              value: sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt('$.event')),
            },
            { name: TASK_EVENT_ENV.executionId, value: sfn.JsonPath.executionId },
          ],
        },
      ],
      taskTimeout: sfn.Timeout.duration(Duration.minutes(settings.timeoutMinutes)),
      resultPath: '$.task',
    })
    this.addRetries(run, [ECS_SERVICE_RETRY])

    const exitCodePath = '$.stopped.task.Containers[0].ExitCode'
    const outcome = (name: string, value: string, taskArnPath: string) =>
      new sfn.Pass(this, `${id}${name}`, {
        parameters: { outcome: value, 'task.$': taskArnPath },
      })
    const fail = (error: string) =>
      new sfn.Fail(this, `${id}${error}`, { error, causePath: '$.taskFailure.Cause' })
    const mapExitCode = new sfn.Choice(this, `${id}ExitCode`).when(
      sfn.Condition.not(sfn.Condition.isPresent(exitCodePath)),
      new sfn.Fail(this, `${id}NeverStarted`, { error: 'TransientError', causePath: '$.taskFailure.Cause' }),
    )
    mapExitCode.when(
      sfn.Condition.numberEquals(exitCodePath, TASK_EXIT_CODES.noRowsWritten),
      outcome('NoRowsWritten', LARGE_FILE_OUTCOMES.noRowsWritten, '$.stopped.task.TaskArn'),
    )
    mapExitCode.when(
      sfn.Condition.numberEquals(exitCodePath, TASK_EXIT_CODES.nothingToDo),
      outcome('NothingToDo', LARGE_FILE_OUTCOMES.nothingToDo, '$.stopped.task.TaskArn'),
    )
    for (const error of TASK_EXIT_ERRORS) {
      mapExitCode.when(sfn.Condition.numberEquals(exitCodePath, TASK_EXIT_CODES[error]), fail(error))
    }
    const crashed = new sfn.Fail(this, `${id}Crashed`, {
      error: TASK_CRASHED_ERROR,
      causePath: '$.taskFailure.Cause',
    })
    mapExitCode.otherwise(crashed)
    const readExitCode = new sfn.Pass(this, `${id}ReadExitCode`, {
      parameters: { 'task.$': 'States.StringToJson($.taskFailure.Cause)' },
      resultPath: '$.stopped',
    }).next(mapExitCode)
    // Parse the Cause only when it is the task's JSON description: anything else (a Cause Step
    // Functions words otherwise) fails as a crash, notified, instead of as an unhandled States.Runtime.
    const causePath = '$.taskFailure.Cause'
    const checkCause = new sfn.Choice(this, `${id}CauseIsTask`)
      .when(
        sfn.Condition.not(sfn.Condition.isPresent(causePath)),
        new sfn.Fail(this, `${id}CrashedWithoutCause`, {
          error: TASK_CRASHED_ERROR,
          cause: 'The task failed without a description',
        }),
      )
      .when(sfn.Condition.stringMatches(causePath, '{*'), readExitCode)
      .otherwise(crashed)
    run.addCatch(checkCause, { errors: [sfn.Errors.TASKS_FAILED], resultPath: '$.taskFailure' })

    const branch = new sfn.Parallel(this, id, {
      comment: 'The Fargate task, its exit code mapped to the Lambda task errors and outcomes',
      parameters: { event },
      resultSelector: { 'outcome.$': '$[0].outcome', 'task.$': '$[0].task' },
    })
    branch.branch(run.next(outcome('Processed', LARGE_FILE_OUTCOMES.processed, '$.task.TaskArn')))
    this.addRetries(branch, [INGEST_RETRY])
    return branch
  }

  /** Runs the current table's rebuild machine to its end (`startExecution.sync:2`); fails when it fails. */
  private startRebuild(id: string, currentTable: CurrentTable): tasks.StepFunctionsStartExecution {
    return new tasks.StepFunctionsStartExecution(this, id, {
      stateMachine: currentTable.rebuild,
      integrationPattern: sfn.IntegrationPattern.RUN_JOB,
      associateWithParent: true,
      resultPath: sfn.JsonPath.DISCARD,
    })
  }

  private addRetries(task: sfn.TaskStateBase | sfn.Parallel, policies: readonly RetryPolicy[]): void {
    for (const policy of policies) {
      task.addRetry({
        errors: [...policy.errors],
        interval: Duration.seconds(policy.intervalSeconds),
        maxAttempts: policy.maxRetries,
        backoffRate: policy.backoffRate,
        ...(policy.maxDelaySeconds === undefined
          ? {}
          : { maxDelay: Duration.seconds(policy.maxDelaySeconds) }),
        ...(policy.jitter === undefined ? {} : { jitterStrategy: sfn.JitterType[policy.jitter] }),
      })
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

  /**
   * Route by size → invoke the Lambda or run the Fargate task → retry transient errors →
   * catch DQ and other failures → choose on the result. Without the large-file path, the
   * definition starts at the Lambda task.
   */
  private ingestDefinition(props: StateMachinesProps): sfn.IChainable {
    const invoke = this.invokeIngest(STATES.ingest, props.ingest, {
      event: sfn.JsonPath.entirePayload,
      executionId: sfn.JsonPath.executionId,
    })
    const notify = (id: string, subject: string) =>
      new tasks.SnsPublish(this, id, {
        topic: props.alerts,
        subject,
        message: sfn.TaskInput.fromJsonPathAt('$'),
        resultPath: sfn.JsonPath.DISCARD,
      })
    const dataQualityFailure = notify(
      STATES.notifyDataQualityFailure,
      'Listings ingest: data-quality threshold breached',
    ).next(
      new sfn.Fail(this, STATES.dataQualityFailed, {
        error: DATA_QUALITY_ERROR,
        cause: 'A data-quality threshold was breached; see the report',
      }),
    )
    const failure = notify(STATES.notifyFailure, 'Listings ingest failed').next(
      new sfn.Fail(this, STATES.ingestFailed, {
        error: 'IngestFailed',
        cause: 'The ingest task failed; see the execution history',
      }),
    )
    const catchFailures = (task: sfn.TaskStateBase | sfn.Parallel) => {
      task.addCatch(dataQualityFailure, { errors: [DATA_QUALITY_ERROR], resultPath: '$.error' })
      task.addCatch(failure, { errors: [sfn.Errors.ALL], resultPath: '$.error' })
    }
    catchFailures(invoke)

    const processed = new sfn.Succeed(this, STATES.processed)
    const nothingToDo = new sfn.Succeed(this, STATES.nothingToDo)
    const noRows = notify(STATES.notifyNoRows, 'Listings ingest: a file produced no rows').next(processed)
    // The MERGE after every ingest that published rows, and after `already_processed` too: the
    // MERGE is idempotent, so a redelivered event repairs a merge that failed the first time. A
    // zero-row file has nothing to merge; a breach never gets here (caught above, no Parquet).
    const merge = props.currentTable
      .mergeStep(this)
      .next(
        new sfn.Choice(this, STATES.afterMerge)
          .when(sfn.Condition.stringEquals('$.status', 'processed'), processed)
          .otherwise(nothingToDo),
      )
    const check = new sfn.Choice(this, STATES.checkResult)
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

    const largeFile = this.largeFileRun(STATES.ingestLargeFile, props.largeFiles, sfn.JsonPath.entirePayload)
    catchFailures(largeFile)
    // The task reports an exit code, not the summary (source Last-Modified, ETag, Parquet key) the
    // MERGE needs: a processed large file rebuilds the table instead, from the live outputs' manifests,
    // which is correct whatever order files arrive in. Large files are rare; a rebuild scans the table.
    const rebuild = this.startRebuild(STATES.rebuildAfterLargeFile, props.currentTable)
    rebuild.addCatch(failure, { errors: [sfn.Errors.ALL], resultPath: '$.error' })
    const checkLargeFile = new sfn.Choice(this, STATES.checkLargeFileResult)
      .when(sfn.Condition.stringEquals('$.outcome', LARGE_FILE_OUTCOMES.noRowsWritten), noRows)
      .when(sfn.Condition.stringEquals('$.outcome', LARGE_FILE_OUTCOMES.processed), rebuild.next(processed))
      .otherwise(nothingToDo)
    return this.routeBySize(
      STATES.routeBySize,
      '$.detail.object.size',
      props.largeFiles.settings.thresholdBytes,
      {
        small: lambdaPath,
        large: largeFile.next(checkLargeFile),
      },
    )
  }

  private invokeIngest(
    id: string,
    fn: lambda.IFunction,
    payload: Record<string, unknown>,
  ): tasks.LambdaInvoke {
    const task = new tasks.LambdaInvoke(this, id, {
      lambdaFunction: fn,
      payload: sfn.TaskInput.fromObject(payload),
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
    })
    this.addRetries(task, [LAMBDA_SERVICE_RETRY, INGEST_RETRY])
    return task
  }
}

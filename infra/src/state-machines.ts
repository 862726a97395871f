import { Aws, type CfnElement, Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib'
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
  INGEST_RETRY,
  LAMBDA_SERVICE_RETRY,
  lambdaServiceRetryBudgetSeconds,
  STATES,
} from '../../lambdas/ingest/src/orchestration.js'
import type { PipelineConfig } from './config.js'
import { acknowledge, acknowledgeXRay, arnReference } from './nag.js'
import type { Storage } from './storage.js'

interface StateMachinesProps {
  config: PipelineConfig
  storage: Storage
  ingest: lambda.IFunction
  alerts: sns.ITopic
  /** The key that encrypts the alerts topic; publishing needs it. */
  alertsKey: kms.IKey
}

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

    this.ingest = new sfn.StateMachine(this, 'IngestStateMachine', {
      stateMachineName: `${config.namePrefix}-ingest`,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(this.ingestDefinition(props)),
      tracingEnabled: true,
      logs: { destination: logGroup('Ingest'), level: sfn.LogLevel.ALL, includeExecutionData: true },
      timeout: Duration.minutes(
        config.lambdaTimeoutMinutes * (INGEST_RETRY.maxRetries + 1) +
          Math.ceil(lambdaServiceRetryBudgetSeconds() / 60) +
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

    const backfillItem = this.invokeIngest('IngestObject', props.ingest, {
      event: {
        bucket: storage.raw.bucketName,
        'key.$': '$.Key',
        'etag.$': '$.Etag',
      },
      executionId: sfn.JsonPath.executionId,
    })
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
      definitionBody: sfn.DefinitionBody.fromChainable(map.next(new sfn.Succeed(this, 'BackfillDone'))),
      tracingEnabled: true,
      logs: { destination: logGroup('Backfill'), level: sfn.LogLevel.ALL, includeExecutionData: true },
    })
    this.acknowledgeFindings(props.ingest)
  }

  private acknowledgeFindings(fn: lambda.IFunction): void {
    for (const machine of [this.ingest, this.backfill]) {
      const policy = machine.role.node.findChild('DefaultPolicy')
      acknowledgeXRay(policy)
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

  /** Invoke → retry transient errors → catch DQ and other failures → choose on the result. */
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
    invoke.addCatch(dataQualityFailure, { errors: [DATA_QUALITY_ERROR], resultPath: '$.error' })
    invoke.addCatch(failure, { errors: [sfn.Errors.ALL], resultPath: '$.error' })

    const processed = new sfn.Succeed(this, STATES.processed)
    const check = new sfn.Choice(this, STATES.checkResult)
      .when(
        sfn.Condition.and(
          sfn.Condition.stringEquals('$.status', 'processed'),
          sfn.Condition.numberEquals('$.counts.rows_after_dedup', 0),
        ),
        notify(STATES.notifyNoRows, 'Listings ingest: a file produced no rows').next(processed),
      )
      .when(sfn.Condition.stringEquals('$.status', 'processed'), processed)
      .otherwise(new sfn.Succeed(this, STATES.nothingToDo))
    return invoke.next(check)
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
    task.addRetry({
      errors: [...LAMBDA_SERVICE_RETRY.errors],
      interval: Duration.seconds(LAMBDA_SERVICE_RETRY.intervalSeconds),
      maxAttempts: LAMBDA_SERVICE_RETRY.maxRetries,
      backoffRate: LAMBDA_SERVICE_RETRY.backoffRate,
      maxDelay: Duration.seconds(LAMBDA_SERVICE_RETRY.maxDelaySeconds),
      jitterStrategy: sfn.JitterType[LAMBDA_SERVICE_RETRY.jitter],
    })
    task.addRetry({
      errors: [...INGEST_RETRY.errors],
      interval: Duration.seconds(INGEST_RETRY.intervalSeconds),
      maxAttempts: INGEST_RETRY.maxRetries,
      backoffRate: INGEST_RETRY.backoffRate,
    })
    return task
  }
}

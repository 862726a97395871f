import { type CfnElement, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib'
import type * as lambda from 'aws-cdk-lib/aws-lambda'
import * as logs from 'aws-cdk-lib/aws-logs'
import type * as sns from 'aws-cdk-lib/aws-sns'
import * as sfn from 'aws-cdk-lib/aws-stepfunctions'
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks'
import { Construct } from 'constructs'
import { DATA_QUALITY_ERROR, INGEST_RETRY, STATES } from '../../lambdas/ingest/src/orchestration.js'
import type { PipelineConfig } from './config.js'
import { acknowledge, acknowledgeXRay, arnReference } from './nag.js'
import type { Storage } from './storage.js'

interface StateMachinesProps {
  config: PipelineConfig
  storage: Storage
  ingest: lambda.IFunction
  alerts: sns.ITopic
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
    const logGroup = (name: string) =>
      new logs.LogGroup(this, `${name}Logs`, {
        logGroupName: `/aws/vendedlogs/states/${config.namePrefix}-${name.toLowerCase()}`,
        encryptionKey: storage.key,
        retention: config.logRetentionDays as logs.RetentionDays,
        removalPolicy,
      })

    this.ingest = new sfn.StateMachine(this, 'IngestStateMachine', {
      stateMachineName: `${config.namePrefix}-ingest`,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(this.ingestDefinition(props)),
      tracingEnabled: true,
      logs: { destination: logGroup('Ingest'), level: sfn.LogLevel.ALL, includeExecutionData: true },
      timeout: Duration.minutes(config.lambdaTimeoutMinutes * (INGEST_RETRY.maxRetries + 1) + 10),
    })

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
      errors: [...INGEST_RETRY.errors],
      interval: Duration.seconds(INGEST_RETRY.intervalSeconds),
      maxAttempts: INGEST_RETRY.maxRetries,
      backoffRate: INGEST_RETRY.backoffRate,
    })
    return task
  }
}

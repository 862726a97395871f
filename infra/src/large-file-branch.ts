/**
 * The large-file branch of the ingest and backfill state machines: the
 * Fargate task run by `ecs:runTask.sync`, its exit code mapped to what the
 * Lambda task would have thrown or returned (lambdas/ingest/src/orchestration.ts),
 * the cluster and network passed as DefinitionSubstitutions, and the cdk-nag
 * acknowledgement its grant needs.
 */
import { type CfnElement, Duration, Stack } from 'aws-cdk-lib'
import * as ec2 from 'aws-cdk-lib/aws-ec2'
import * as ecs from 'aws-cdk-lib/aws-ecs'
import * as sfn from 'aws-cdk-lib/aws-stepfunctions'
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks'
import type { Construct } from 'constructs'
import {
  ECS_SERVICE_RETRY,
  INGEST_RETRY,
  LARGE_FILE_OUTCOMES,
  TASK_CRASHED_ERROR,
  TASK_EVENT_ENV,
  TASK_EXIT_CODES,
  TASK_EXIT_ERRORS,
} from '../../lambdas/ingest/src/orchestration.js'
import type { LargeFileTask } from './large-file-task.js'
import { acknowledge, subnetById } from './nag.js'
import { addRetries } from './sfn-retries.js'

/** The names the definition gives the task's cluster and network, filled in by DefinitionSubstitutions. */
const LARGE_FILE_SUBSTITUTIONS = { cluster: 'LargeFileClusterArn', securityGroup: 'LargeFileSecurityGroup' }

/**
 * The cluster and security group the definition names, as DefinitionSubstitutions: the
 * definition text then references only the Lambda, the topic and the buckets, which is what
 * the local harness (local/src/s3/synthesized-template.ts) resolves; the subnets are passed the
 * same way. The task definition is named by its family, a literal.
 */
export function largeFileSubstitutions(
  largeFiles: LargeFileTask | undefined,
): Record<string, string> | undefined {
  if (largeFiles === undefined) return undefined
  return {
    [LARGE_FILE_SUBSTITUTIONS.cluster]: largeFiles.cluster.clusterArn,
    [LARGE_FILE_SUBSTITUTIONS.securityGroup]: largeFiles.securityGroup.securityGroupId,
    ...Object.fromEntries(largeFiles.subnets.map((subnet, i) => [`LargeFileSubnet${i}`, subnet.subnetId])),
  }
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
 * @param scope - where the states are created
 * @param id - the Parallel's state name, and the start of its inner states' names
 * @param event - the event the task receives, as the Lambda task's `event`
 */
export function largeFileRun(
  scope: Construct,
  id: string,
  largeFiles: LargeFileTask,
  event: unknown,
): sfn.Parallel {
  const { settings } = largeFiles
  const cluster = ecs.Cluster.fromClusterAttributes(scope, `${id}Cluster`, {
    clusterName: largeFiles.cluster.clusterName,
    clusterArn: `\${${LARGE_FILE_SUBSTITUTIONS.cluster}}`,
    vpc: largeFiles.cluster.vpc,
    securityGroups: [],
  })
  const run = new tasks.EcsRunTask(scope, `${id}Task`, {
    integrationPattern: sfn.IntegrationPattern.RUN_JOB,
    cluster,
    taskDefinition: largeFiles.taskDefinition,
    launchTarget: new tasks.EcsFargateLaunchTarget({ platformVersion: ecs.FargatePlatformVersion.LATEST }),
    assignPublicIp: settings.publicIp,
    subnets: {
      subnets: largeFiles.subnets.map((_, i) =>
        subnetById(scope, `${id}Subnet${i}`, `\${LargeFileSubnet${i}}`),
      ),
    },
    securityGroups: [
      ec2.SecurityGroup.fromSecurityGroupId(
        scope,
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
  addRetries(run, [ECS_SERVICE_RETRY])

  const exitCodePath = '$.stopped.task.Containers[0].ExitCode'
  const outcome = (name: string, value: string, taskArnPath: string) =>
    new sfn.Pass(scope, `${id}${name}`, {
      parameters: { outcome: value, 'task.$': taskArnPath },
    })
  const fail = (error: string) =>
    new sfn.Fail(scope, `${id}${error}`, { error, causePath: '$.taskFailure.Cause' })
  const mapExitCode = new sfn.Choice(scope, `${id}ExitCode`).when(
    sfn.Condition.not(sfn.Condition.isPresent(exitCodePath)),
    new sfn.Fail(scope, `${id}NeverStarted`, { error: 'TransientError', causePath: '$.taskFailure.Cause' }),
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
  const crashed = new sfn.Fail(scope, `${id}Crashed`, {
    error: TASK_CRASHED_ERROR,
    causePath: '$.taskFailure.Cause',
  })
  mapExitCode.otherwise(crashed)
  const readExitCode = new sfn.Pass(scope, `${id}ReadExitCode`, {
    parameters: { 'task.$': 'States.StringToJson($.taskFailure.Cause)' },
    resultPath: '$.stopped',
  }).next(mapExitCode)
  // Parse the Cause only when it is the task's JSON description: anything else (a Cause Step
  // Functions words otherwise) fails as a crash, notified, instead of as an unhandled States.Runtime.
  const causePath = '$.taskFailure.Cause'
  const checkCause = new sfn.Choice(scope, `${id}CauseIsTask`)
    .when(
      sfn.Condition.not(sfn.Condition.isPresent(causePath)),
      new sfn.Fail(scope, `${id}CrashedWithoutCause`, {
        error: TASK_CRASHED_ERROR,
        cause: 'The task failed without a description',
      }),
    )
    .when(sfn.Condition.stringMatches(causePath, '{*'), readExitCode)
    .otherwise(crashed)
  run.addCatch(checkCause, { errors: [sfn.Errors.TASKS_FAILED], resultPath: '$.taskFailure' })

  const branch = new sfn.Parallel(scope, id, {
    comment: 'The Fargate task, its exit code mapped to the Lambda task errors and outcomes',
    parameters: { event },
    resultSelector: { 'outcome.$': '$[0].outcome', 'task.$': '$[0].task' },
  })
  branch.branch(run.next(outcome('Processed', LARGE_FILE_OUTCOMES.processed, '$.task.TaskArn')))
  addRetries(branch, [INGEST_RETRY])
  return branch
}

/**
 * Acknowledges the cdk-nag finding of the task-definition family wildcard
 * that `ecs:runTask` puts in each machine's policy.
 */
export function acknowledgeLargeFileFindings(
  machines: readonly sfn.StateMachine[],
  largeFiles: LargeFileTask,
): void {
  // The CDK builds the family's ARN by splitting the task definition's ARN (its Ref); cdk-nag names it so.
  const ref = JSON.stringify({
    Ref: Stack.of(largeFiles).getLogicalId(largeFiles.taskDefinition.node.defaultChild as CfnElement),
  })
  const part = (i: number) => `{"Fn::Select":[${i},{"Fn::Split":[":",${ref}]}]}`
  const resourcePart = (i: number) => `{"Fn::Select":[${i},{"Fn::Split":["/",${part(5)}]}]}`
  const familyArn = `arn:${part(1)}:${part(2)}:${part(3)}:${part(4)}:${resourcePart(0)}/${resourcePart(1)}`
  for (const machine of machines) {
    acknowledge(
      machine.role.node.findChild('DefaultPolicy'),
      `IAM5[Resource::${familyArn}:*]`,
      'RunTask names the task definition by family; :* covers its revisions, each deploy registering a new one.',
    )
  }
}

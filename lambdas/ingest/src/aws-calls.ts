/**
 * Every AWS call the deployed pipeline makes, in one place.
 *
 * The Lambda's S3 client refuses any command not listed in {@link S3_COMMANDS}
 * (see `s3-io.ts`), the CDK stack derives the Lambda's S3 and KMS grants from
 * {@link LAMBDA_S3_CALLS}, and the policy test (test/infra/policy.test.ts)
 * evaluates each call here, plus the service calls the template implies,
 * against the synthesized IAM, KMS and resource policies. Adding an SDK call
 * therefore means adding it here, where the test sees it.
 *
 * Plain data with no imports: it is bundled into the Lambda.
 */

/** A KMS operation an AWS service performs with the caller's permissions on an encrypted resource. */
export type KmsOperation = 'kms:Decrypt' | 'kms:GenerateDataKey'

/** How S3 authorizes one kind of request. */
export interface S3CommandGrant {
  /** The IAM action S3 checks for the request. */
  readonly action: string
  /** The action S3 checks instead when the request names a `VersionId`; absent when the code never sends one. */
  readonly versionedAction?: string
  /**
   * KMS operations S3 performs as the caller on an SSE-KMS object. Multipart
   * uploads need both: S3 decrypts the parts to assemble the object.
   */
  readonly kms: readonly KmsOperation[]
}

/**
 * The S3 commands the Lambda sends (by SDK command name, without `Command`),
 * including those `@aws-sdk/lib-storage`'s `Upload` issues for a multipart
 * upload. No `ListParts` or `PutObjectTagging`: the code passes no tags and
 * never resumes an upload.
 */
export const S3_COMMANDS = {
  HeadObject: { action: 's3:GetObject', versionedAction: 's3:GetObjectVersion', kms: [] },
  GetObject: { action: 's3:GetObject', versionedAction: 's3:GetObjectVersion', kms: ['kms:Decrypt'] },
  PutObject: { action: 's3:PutObject', kms: ['kms:GenerateDataKey'] },
  CreateMultipartUpload: { action: 's3:PutObject', kms: ['kms:GenerateDataKey', 'kms:Decrypt'] },
  UploadPart: { action: 's3:PutObject', kms: ['kms:GenerateDataKey', 'kms:Decrypt'] },
  CompleteMultipartUpload: { action: 's3:PutObject', kms: ['kms:GenerateDataKey', 'kms:Decrypt'] },
  AbortMultipartUpload: { action: 's3:AbortMultipartUpload', kms: [] },
  DeleteObject: { action: 's3:DeleteObject', kms: [] },
} as const satisfies Record<string, S3CommandGrant>

/** An S3 command the Lambda may send. */
export type S3CommandName = keyof typeof S3_COMMANDS

/**
 * What a Lambda call touches: the source object, the lookup, or one of the
 * outputs of `outputKeysFor` (by its field name). `report` is both report
 * objects, the JSON and its HTML page beside it (`reportHtmlKey`): same
 * prefix, same calls, same grant.
 */
export type S3Target = 'source' | 'lookup' | 'manifest' | 'parquet' | 'rejected' | 'report'

/** One kind of S3 request the Lambda makes. */
export interface LambdaS3Call {
  readonly command: S3CommandName
  readonly target: S3Target
  /** The request names a `VersionId` (reads pinned to the version HEAD saw). @default false */
  readonly versioned?: boolean
  /**
   * The code expects this object may be absent and treats 404 as an answer,
   * which S3 gives only to a caller allowed `s3:ListBucket` on the bucket (else 403).
   * @default false
   */
  readonly mayBeMissing?: boolean
  /** Why the code makes it. */
  readonly why: string
}

const WRITE_STREAMED = (target: 'parquet' | 'rejected'): LambdaS3Call[] => [
  { command: 'PutObject', target, why: `${target} under 8 MiB: one PUT on publish` },
  {
    command: 'CreateMultipartUpload',
    target,
    why: `${target} over 8 MiB: lib-storage starts a multipart upload`,
  },
  { command: 'UploadPart', target, why: `${target} over 8 MiB: each 8 MiB part` },
  { command: 'CompleteMultipartUpload', target, why: `${target} over 8 MiB: publish makes it visible` },
  {
    command: 'AbortMultipartUpload',
    target,
    why: `${target} discarded (breach or failure): nothing appears`,
  },
]

/** Every S3 request the ingest Lambda makes (process-object.ts and the modules it calls, through s3-io.ts). */
export const LAMBDA_S3_CALLS: readonly LambdaS3Call[] = [
  {
    command: 'HeadObject',
    target: 'source',
    mayBeMissing: true,
    why: 'which version is current; gone means skipped',
  },
  { command: 'GetObject', target: 'source', versioned: true, why: 'both passes read the version HEAD saw' },
  { command: 'GetObject', target: 'source', why: 'the same read of an object that has no version id' },
  { command: 'HeadObject', target: 'lookup', mayBeMissing: true, why: 'the lookup must exist' },
  { command: 'GetObject', target: 'lookup', versioned: true, why: 'read the lookup version HEAD saw' },
  { command: 'GetObject', target: 'lookup', why: 'the lookup may live in an unversioned bucket' },
  { command: 'GetObject', target: 'manifest', mayBeMissing: true, why: 'was this version processed before?' },
  { command: 'PutObject', target: 'manifest', why: 'record which version the outputs belong to' },
  { command: 'PutObject', target: 'report', why: 'the DQ report (JSON, then its HTML page), breach or not' },
  ...WRITE_STREAMED('parquet'),
  ...WRITE_STREAMED('rejected'),
  { command: 'DeleteObject', target: 'parquet', why: "a replaced version's Parquet under another dt=" },
  { command: 'DeleteObject', target: 'rejected', why: "a replaced version's rejects under another dt=" },
  {
    command: 'DeleteObject',
    target: 'report',
    why: "a replaced version's report and its HTML page under another dt=",
  },
]

/** The IAM action one Lambda call needs on its object. */
export function actionFor(call: LambdaS3Call): string {
  const grant: S3CommandGrant = S3_COMMANDS[call.command]
  if (!call.versioned) return grant.action
  if (grant.versionedAction === undefined) throw new Error(`${call.command} is never sent with a VersionId`)
  return grant.versionedAction
}

/** An action a Step Functions task integration performs with the state machine's role. */
export interface TaskIntegration {
  /** The IAM action on the resource the task names. */
  readonly action: string
  /** The task parameter that names the resource (`Resource`: the state's own Resource). */
  readonly resourceParameter: string
  /** What the target service does with the caller's permissions on the resource's KMS key, if encrypted. */
  readonly kmsViaService?: { readonly service: string; readonly operations: readonly KmsOperation[] }
}

/**
 * The Step Functions integrations the state machines use, by the ASL `Resource`
 * of the Task (or ItemReader). The infra grants KMS for encrypted topics from
 * here; the policy test refuses a Task whose integration is not listed.
 */
export const TASK_INTEGRATIONS = {
  // A Task whose Resource is the function's own ARN (the CDK's payloadResponseOnly form).
  'arn:aws:lambda:function': { action: 'lambda:InvokeFunction', resourceParameter: 'Resource' },
  'arn:aws:states:::lambda:invoke': { action: 'lambda:InvokeFunction', resourceParameter: 'FunctionName' },
  'arn:aws:states:::sns:publish': {
    action: 'sns:Publish',
    resourceParameter: 'TopicArn',
    // SNS encrypts the message under the topic's key as the publisher.
    kmsViaService: { service: 'sns', operations: ['kms:GenerateDataKey', 'kms:Decrypt'] },
  },
  'arn:aws:states:::s3:listObjectsV2': { action: 's3:ListBucket', resourceParameter: 'Bucket' },
  // The large-file task; RunTask names the task definition by family. See ECS_RUN_JOB_ACTIONS for the rest.
  'arn:aws:states:::ecs:runTask.sync': { action: 'ecs:RunTask', resourceParameter: 'TaskDefinition' },
} as const satisfies Record<string, TaskIntegration>

/**
 * What `ecs:runTask.sync` does with the state machine's role besides RunTask:
 * it passes the task's roles to ECS, watches and (on timeout or abort) stops
 * the task, and manages the EventBridge rule through which ECS reports the
 * task's state changes to Step Functions.
 */
export const ECS_RUN_JOB_ACTIONS = {
  passRoles: { action: 'iam:PassRole', toService: 'ecs-tasks.amazonaws.com' },
  onTask: ['ecs:DescribeTasks', 'ecs:StopTask'],
  managedRule: {
    name: 'StepFunctionsGetEventsForECSTaskRule',
    actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
  },
} as const

/**
 * What ECS does with the large-file task's execution role to start it: pull
 * the image from ECR and send the container's output to CloudWatch Logs (the
 * awslogs driver). The task role's own calls are {@link LAMBDA_S3_CALLS}: it
 * runs the same program as the Lambda.
 */
export const TASK_EXECUTION_ACTIONS = {
  ecrToken: 'ecr:GetAuthorizationToken',
  ecrPull: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
  logs: ['logs:CreateLogStream', 'logs:PutLogEvents'],
} as const

/**
 * What a Distributed Map does with the state machine's role: it starts child
 * executions of its own state machine and manages them.
 */
export const DISTRIBUTED_MAP_ACTIONS = {
  onStateMachine: ['states:StartExecution'],
  onExecutions: ['states:DescribeExecution', 'states:StopExecution'],
} as const

/**
 * What an AWS service needs on a customer-managed key to use it for this
 * stack's resources: CloudWatch Logs for encrypted log groups, CloudWatch
 * alarms for the encrypted alerts topic.
 */
export const SERVICE_KEY_USE = {
  logs: [
    'kms:Encrypt',
    'kms:Decrypt',
    'kms:GenerateDataKey',
    'kms:ReEncryptFrom',
    'kms:ReEncryptTo',
    'kms:DescribeKey',
  ],
  alarms: ['kms:GenerateDataKey', 'kms:Decrypt'],
} as const

/** What the Lambda's role needs to write its own logs (Lambda calls these with the function's role). */
export const LAMBDA_LOG_ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents'] as const

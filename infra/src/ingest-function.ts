import { join } from 'node:path'
import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib'
import * as iam from 'aws-cdk-lib/aws-iam'
import * as lambda from 'aws-cdk-lib/aws-lambda'
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs'
import * as logs from 'aws-cdk-lib/aws-logs'
import { Construct } from 'constructs'
import {
  actionFor,
  LAMBDA_LOG_ACTIONS,
  LAMBDA_S3_CALLS,
  S3_COMMANDS,
  type S3Target,
} from '../../lambdas/ingest/src/aws-calls.js'
import { DQ_SERVICE_NAME } from '../../lambdas/ingest/src/dq-metrics.js'
import type { PipelineConfig } from './config.js'
import { acknowledge, acknowledgeXRay, arnReference } from './nag.js'
import { repositoryRoot } from './paths.js'
import { PROCESSED_PREFIXES, type Storage } from './storage.js'

/** Where the function reads its category lookup. */
export interface LookupLocation {
  bucket: string
  key: string
}

/**
 * The transform as a Lambda function: bundled from lambdas/ingest with the
 * local esbuild (no Docker), on a role that can read only the incoming prefix
 * and the lookup, and write only the output prefixes of the processed bucket.
 */
export class IngestFunction extends Construct {
  readonly function: nodejs.NodejsFunction
  readonly logGroup: logs.LogGroup

  constructor(
    scope: Construct,
    id: string,
    props: { config: PipelineConfig; storage: Storage; lookup: LookupLocation },
  ) {
    super(scope, id)
    const { config, storage, lookup } = props
    const root = repositoryRoot()
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      encryptionKey: storage.key,
      retention: config.logRetentionDays,
      removalPolicy: config.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    })
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Ingest Lambda: read incoming listings and the lookup, write processed outputs',
    })
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: join(root, 'lambdas/ingest/src/handler.ts'),
      handler: 'handler',
      projectRoot: root,
      depsLockFilePath: join(root, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: config.lambdaMemoryMb,
      timeout: Duration.minutes(config.lambdaTimeoutMinutes),
      role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: lambda.Tracing.ACTIVE,
      environment: {
        PROCESSED_BUCKET: storage.processed.bucketName,
        LOOKUP_URI: `s3://${lookup.bucket}/${lookup.key}`,
        INCOMING_PREFIX: config.incomingPrefix,
        OUTPUT_KMS_KEY_ARN: storage.key.keyArn,
        POWERTOOLS_SERVICE_NAME: DQ_SERVICE_NAME,
        // Let the heap use most of the function's memory (the dedup index lives there), and give
        // the young generation room: the transform allocates short-lived strings per row.
        NODE_OPTIONS: `--enable-source-maps --max-old-space-size=${Math.floor(config.lambdaMemoryMb * 0.8)}`,
        ...(config.maxRejectedRatio === undefined
          ? {}
          : { MAX_REJECTED_RATIO: String(config.maxRejectedRatio) }),
        ...(config.maxUnmatchedSegmentRatio === undefined
          ? {}
          : { MAX_UNMATCHED_SEGMENT_RATIO: String(config.maxUnmatchedSegmentRatio) }),
      },
      bundling: {
        forceDockerBundling: false,
        format: nodejs.OutputFormat.ESM,
        target: 'node24',
        minify: true,
        logLevel: nodejs.LogLevel.WARNING,
        sourceMap: true,
        mainFields: ['module', 'main'],
        // Bundle the SDK too: the version tested here is the version that runs.
        externalModules: [],
        // Powertools and the SDK still use require() in places; ESM bundles need one.
        banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
      },
    })
    this.grantLeastPrivilege(role, storage, lookup, config.incomingPrefix)
  }

  /**
   * Explicit actions only, each on the narrowest resource it supports, derived
   * from the table of calls the code makes (lambdas/ingest/src/aws-calls.ts):
   * each target gets exactly the S3 actions its calls need, KMS only through S3.
   */
  private grantLeastPrivilege(
    role: iam.Role,
    storage: Storage,
    lookup: LookupLocation,
    incomingPrefix: string,
  ): void {
    const { raw, processed, key } = storage
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: [...LAMBDA_LOG_ACTIONS],
        resources: [this.logGroup.logGroupArn, `${this.logGroup.logGroupArn}:log-stream:*`],
      }),
    )
    const lookupBucketArn =
      lookup.bucket === raw.bucketName ? raw.bucketArn : `arn:${Aws.PARTITION}:s3:::${lookup.bucket}`
    const targets: Record<S3Target, { bucketArn: string; keys: string }> = {
      source: { bucketArn: raw.bucketArn, keys: `${incomingPrefix}*` },
      lookup: { bucketArn: lookupBucketArn, keys: lookup.key },
      manifest: { bucketArn: processed.bucketArn, keys: `${PROCESSED_PREFIXES.manifests}*` },
      parquet: { bucketArn: processed.bucketArn, keys: `${PROCESSED_PREFIXES.listings}*` },
      rejected: { bucketArn: processed.bucketArn, keys: `${PROCESSED_PREFIXES.rejected}*` },
      report: { bucketArn: processed.bucketArn, keys: `${PROCESSED_PREFIXES.reports}*` },
    }
    for (const [target, { bucketArn, keys }] of Object.entries(targets) as [
      S3Target,
      (typeof targets)[S3Target],
    ][]) {
      const actions = [...new Set(LAMBDA_S3_CALLS.filter((c) => c.target === target).map(actionFor))].sort()
      if (actions.length === 0) continue
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: `S3For${target[0]?.toUpperCase()}${target.slice(1)}`,
          actions,
          resources: [`${bucketArn}/${keys}`],
        }),
      )
    }
    // S3 answers 404 for a missing key only to a caller allowed ListBucket (else 403). AWS does not
    // document whether that check carries s3:prefix, so the condition holds when it is absent and
    // otherwise limits listing to the keys the function may find missing.
    const mayBeMissing = [...new Set(LAMBDA_S3_CALLS.filter((c) => c.mayBeMissing).map((c) => c.target))]
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ListForNotFound',
        actions: ['s3:ListBucket'],
        resources: [...new Set(mayBeMissing.map((target) => targets[target].bucketArn))],
        conditions: {
          StringLikeIfExists: { 's3:prefix': mayBeMissing.map((target) => targets[target].keys) },
        },
      }),
    )
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'UseDataKeyThroughS3',
        actions: [...new Set(LAMBDA_S3_CALLS.flatMap((c) => S3_COMMANDS[c.command].kms))].sort(),
        resources: [key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${Aws.REGION}.amazonaws.com` } },
      }),
    )
    const policy = role.node.findChild('DefaultPolicy')
    acknowledgeXRay(policy)
    acknowledge(
      policy,
      `IAM5[Resource::${arnReference(this.logGroup)}:log-stream:*]`,
      "Lambda names its log streams at run time; the grant is limited to this function's own log group.",
    )
    acknowledge(
      policy,
      `IAM5[Resource::${arnReference(raw)}/${incomingPrefix}*]`,
      'The function reads whichever file lands under the incoming prefix; keys are not known in advance.',
    )
    const outputs = [
      PROCESSED_PREFIXES.listings,
      PROCESSED_PREFIXES.rejected,
      PROCESSED_PREFIXES.reports,
      PROCESSED_PREFIXES.manifests,
    ]
    for (const prefix of outputs) {
      acknowledge(
        policy,
        `IAM5[Resource::${arnReference(processed)}/${prefix}*]`,
        `Output keys under ${prefix} derive from each source file's name and date; the grant is limited to that prefix.`,
      )
    }
  }
}

import { join } from 'node:path'
import { Duration } from 'aws-cdk-lib'
import * as iam from 'aws-cdk-lib/aws-iam'
import * as lambda from 'aws-cdk-lib/aws-lambda'
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs'
import * as logs from 'aws-cdk-lib/aws-logs'
import { Construct } from 'constructs'
import { LAMBDA_LOG_ACTIONS } from '../../lambdas/ingest/src/aws-calls.js'
import { heapLimitMiB } from './capacity.js'
import type { PipelineConfig } from './config.js'
import { acknowledge, acknowledgeXRay, arnReference } from './nag.js'
import { grantObjectProcessing, type LookupLocation, objectProcessingEnvironment } from './object-grants.js'
import { repositoryRoot } from './paths.js'
import { removalProps } from './removal.js'
import type { Storage } from './storage.js'

/** Props of {@link IngestFunction}. */
export interface IngestFunctionProps {
  /** The stack's settings: memory, timeout, thresholds, the incoming prefix, log retention, removal. */
  readonly config: PipelineConfig
  /** The buckets it reads and writes and the key it encrypts with. */
  readonly storage: Storage
  /** Where it reads the category lookup. */
  readonly lookup: LookupLocation
}

/**
 * The transform as a Lambda function: bundled from lambdas/ingest with the
 * local esbuild (no Docker), on a role that can read only the incoming prefix
 * and the lookup, and write only the output prefixes of the processed bucket.
 */
export class IngestFunction extends Construct {
  readonly function: nodejs.NodejsFunction
  readonly logGroup: logs.LogGroup

  constructor(scope: Construct, id: string, props: IngestFunctionProps) {
    super(scope, id)
    const { config, storage, lookup } = props
    const root = repositoryRoot()
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      encryptionKey: storage.key,
      retention: config.logRetentionDays,
      ...removalProps(config.removalPolicy).logGroup,
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
        ...objectProcessingEnvironment(config, storage, lookup),
        // Let the heap use most of the function's memory (the dedup index lives there), and give
        // the young generation room: the transform allocates short-lived strings per row.
        NODE_OPTIONS: `--enable-source-maps --max-old-space-size=${heapLimitMiB(config.lambdaMemoryMb)}`,
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
   * Explicit actions only, each on the narrowest resource it supports: its
   * own log group, and what `processObject` calls, derived from the table of
   * its calls (lambdas/ingest/src/aws-calls.ts) by {@link grantObjectProcessing},
   * the same grants as the large-file task's.
   */
  private grantLeastPrivilege(
    role: iam.Role,
    storage: Storage,
    lookup: LookupLocation,
    incomingPrefix: string,
  ): void {
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: [...LAMBDA_LOG_ACTIONS],
        resources: [this.logGroup.logGroupArn, `${this.logGroup.logGroupArn}:log-stream:*`],
      }),
    )
    grantObjectProcessing(role, storage, lookup, incomingPrefix)
    const policy = role.node.findChild('DefaultPolicy')
    acknowledgeXRay(policy)
    acknowledge(
      policy,
      `IAM5[Resource::${arnReference(this.logGroup)}:log-stream:*]`,
      "Lambda names its log streams at run time; the grant is limited to this function's own log group.",
    )
  }
}

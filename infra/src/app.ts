import { App, Validations } from 'aws-cdk-lib'
import { AwsSolutionsChecks } from 'cdk-nag'
import { IngestStack } from './ingest-stack.js'

/** Behaviour the stack relies on, set here so tests and `cdk synth` agree. */
export const FEATURE_FLAGS = {
  // Grant log delivery by bucket policy, not the legacy ACL (which needs ObjectWriter ownership).
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
  '@aws-cdk/aws-iam:minimizePolicies': true,
  '@aws-cdk/core:checkSecretUsage': true,
}

/**
 * Builds the CDK app: the pipeline stack, environment-agnostic, with the
 * AWS Solutions checks of cdk-nag failing synthesis on any finding that is
 * not acknowledged with a reason.
 */
export function buildApp(context: Record<string, unknown> = {}): { app: App; stack: IngestStack } {
  const app = new App({ analyticsReporting: false, context: { ...FEATURE_FLAGS, ...context } })
  const stack = new IngestStack(app, 'ListingsIngest', {
    description:
      'Marketplace listings ingest: S3 -> EventBridge -> Step Functions -> Lambda -> Parquet, with DQ alarms',
  })
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app))
  return { app, stack }
}

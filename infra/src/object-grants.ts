/**
 * What the object-processing program (lambdas/ingest/src/process-object.ts)
 * needs wherever it runs, the ingest Lambda or the large-file task: its grants,
 * derived from the table of its calls, and its environment.
 */
import { Aws } from 'aws-cdk-lib'
import * as iam from 'aws-cdk-lib/aws-iam'
import { actionFor, LAMBDA_S3_CALLS, S3_COMMANDS, type S3Target } from '../../lambdas/ingest/src/aws-calls.js'
import { DQ_SERVICE_NAME } from '../../lambdas/ingest/src/dq-metrics.js'
import { PROCESSED_PREFIXES } from '../../lambdas/ingest/src/output-keys.js'
import { plainDecimal } from '../../shared/src/setting-values.js'
import type { PipelineConfig } from './config.js'
import { acknowledge, arnReference } from './nag.js'
import type { Storage } from './storage.js'

/** Where the program reads its category lookup. */
export interface LookupLocation {
  readonly bucket: string
  readonly key: string
}

/**
 * Grants a role what `processObject` (lambdas/ingest/src/process-object.ts)
 * calls, derived from the table of its calls (lambdas/ingest/src/aws-calls.ts):
 * each target gets exactly the S3 actions its calls need, `ListBucket` only
 * where a missing key must read as 404, and KMS only through S3. The same
 * grants for the ingest Lambda (infra/src/ingest-function.ts) and the
 * large-file task (infra/src/large-file-task.ts), which run the same program.
 */
export function grantObjectProcessing(
  role: iam.Role,
  storage: Storage,
  lookup: LookupLocation,
  incomingPrefix: string,
): void {
  const { raw, processed, key } = storage
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
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: `S3For${target[0]?.toUpperCase()}${target.slice(1)}`,
        actions,
        resources: [`${bucketArn}/${keys}`],
      }),
    )
  }
  // S3 answers 404 for a missing key only to a caller allowed ListBucket (else 403). AWS does not
  // document whether that check carries s3:prefix, so the condition holds when it is absent and
  // otherwise limits listing to the keys the program may find missing.
  const mayBeMissing = [...new Set(LAMBDA_S3_CALLS.filter((c) => c.mayBeMissing).map((c) => c.target))]
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ListForNotFound',
      actions: ['s3:ListBucket'],
      resources: [...new Set(mayBeMissing.map((target) => targets[target].bucketArn))],
      conditions: {
        StringLikeIfExists: { 's3:prefix': mayBeMissing.map((target) => targets[target].keys) },
      },
    }),
  )
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'UseDataKeyThroughS3',
      actions: [...new Set(LAMBDA_S3_CALLS.flatMap((c) => S3_COMMANDS[c.command].kms))].sort(),
      resources: [key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${Aws.REGION}.amazonaws.com` } },
    }),
  )
  const policy = role.node.findChild('DefaultPolicy')
  acknowledge(
    policy,
    `IAM5[Resource::${arnReference(raw)}/${incomingPrefix}*]`,
    'The program reads whichever file lands under the incoming prefix; keys are not known in advance.',
  )
  for (const prefix of [
    PROCESSED_PREFIXES.listings,
    PROCESSED_PREFIXES.rejected,
    PROCESSED_PREFIXES.reports,
    PROCESSED_PREFIXES.manifests,
  ]) {
    acknowledge(
      policy,
      `IAM5[Resource::${arnReference(processed)}/${prefix}*]`,
      `Output keys under ${prefix} derive from each source file's name and date; the grant is limited to that prefix.`,
    )
  }
}

/**
 * The environment of the object-processing program, as the ingest Lambda gets
 * it (infra/src/ingest-function.ts) and the large-file task
 * (infra/src/large-file-task.ts).
 */
export function objectProcessingEnvironment(
  config: PipelineConfig,
  storage: Storage,
  lookup: LookupLocation,
): Record<string, string> {
  return {
    PROCESSED_BUCKET: storage.processed.bucketName,
    LOOKUP_URI: `s3://${lookup.bucket}/${lookup.key}`,
    INCOMING_PREFIX: config.incomingPrefix,
    OUTPUT_KMS_KEY_ARN: storage.key.keyArn,
    POWERTOOLS_SERVICE_NAME: DQ_SERVICE_NAME,
    ...(config.maxRejectedRatio === undefined
      ? {}
      : { MAX_REJECTED_RATIO: plainDecimal(config.maxRejectedRatio) }),
    ...(config.maxUnmatchedSegmentRatio === undefined
      ? {}
      : { MAX_UNMATCHED_SEGMENT_RATIO: plainDecimal(config.maxUnmatchedSegmentRatio) }),
  }
}

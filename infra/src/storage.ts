import { Aws, Duration } from 'aws-cdk-lib'
import * as iam from 'aws-cdk-lib/aws-iam'
import * as kms from 'aws-cdk-lib/aws-kms'
import * as s3 from 'aws-cdk-lib/aws-s3'
import { Construct } from 'constructs'
import { PROCESSED_PREFIXES } from '../../lambdas/ingest/src/output-keys.js'
import type { PipelineConfig } from './config.js'
import { acknowledge } from './nag.js'
import { removalProps } from './removal.js'

/** Props of {@link Storage}. */
export interface StorageProps {
  /** The stack's settings: names, the incoming prefix, retention periods, the removal policy. */
  readonly config: PipelineConfig
}

/**
 * A bucket's lifecycle rules: `rules` between the two every bucket has,
 * aborting incomplete multipart uploads after a week first and expiring old
 * versions after `oldVersionDays` last.
 */
function lifecycleRules(rules: s3.LifecycleRule[], oldVersionDays: number): s3.LifecycleRule[] {
  return [
    { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
    ...rules,
    { id: 'expire-old-versions', noncurrentVersionExpiration: Duration.days(oldVersionDays) },
  ]
}

/**
 * The data at rest: a customer-managed KMS key with rotation, the raw and
 * processed buckets encrypted with it (bucket keys on, versioned, public
 * access blocked, TLS only, access-logged), and the access-log bucket.
 */
export class Storage extends Construct {
  readonly key: kms.Key
  readonly raw: s3.Bucket
  readonly processed: s3.Bucket
  readonly accessLogs: s3.Bucket

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id)
    const { config } = props
    const removal = removalProps(config.removalPolicy)

    this.key = new kms.Key(this, 'DataKey', {
      alias: `alias/${config.namePrefix}-data`,
      description: 'Encrypts listings data, logs, notifications and query results',
      enableKeyRotation: true,
      ...removal.key,
    })
    // CloudWatch Logs and alarms (publishing to the encrypted topic) use the key as services.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchLogs',
        principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
        actions: [
          'kms:Encrypt',
          'kms:Decrypt',
          'kms:ReEncryptFrom',
          'kms:ReEncryptTo',
          'kms:GenerateDataKey',
          'kms:GenerateDataKeyWithoutPlaintext',
          'kms:DescribeKey',
        ],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:*`,
          },
        },
      }),
    )
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    )

    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      // Server access logs can only be delivered to SSE-S3 buckets.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(config.logRetentionDays) }],
      ...removal.bucket,
    })
    acknowledge(
      this.accessLogs,
      'S1',
      'This is the access-log bucket itself; logging it into itself would loop.',
    )

    const common: s3.BucketProps = {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogs,
      ...removal.bucket,
    }
    this.raw = new s3.Bucket(this, 'Raw', {
      ...common,
      serverAccessLogsPrefix: 'raw/',
      lifecycleRules: lifecycleRules(
        [
          {
            id: 'age-incoming',
            prefix: config.incomingPrefix,
            transitions: [
              { storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(30) },
              { storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(90) },
            ],
          },
        ],
        90,
      ),
    })
    // EventBridge notifications set on the bucket itself: eventBridgeEnabled would add
    // a custom-resource Lambda (with an AWS managed policy) to do the same thing.
    const rawResource = this.raw.node.defaultChild as s3.CfnBucket
    rawResource.notificationConfiguration = { eventBridgeConfiguration: { eventBridgeEnabled: true } }

    this.processed = new s3.Bucket(this, 'Processed', {
      ...common,
      serverAccessLogsPrefix: 'processed/',
      lifecycleRules: lifecycleRules(
        [
          {
            id: 'expire-rejects',
            prefix: PROCESSED_PREFIXES.rejected,
            expiration: Duration.days(config.rejectedRetentionDays),
          },
          {
            id: 'expire-athena-results',
            prefix: PROCESSED_PREFIXES.athenaResults,
            expiration: Duration.days(30),
          },
        ],
        30,
      ),
    })
  }
}

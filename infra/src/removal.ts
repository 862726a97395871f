import { RemovalPolicy } from 'aws-cdk-lib'
import type * as athena from 'aws-cdk-lib/aws-athena'
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb'
import type * as kms from 'aws-cdk-lib/aws-kms'
import type * as logs from 'aws-cdk-lib/aws-logs'
import type * as s3 from 'aws-cdk-lib/aws-s3'
import type { PipelineConfig } from './config.js'

/**
 * What each kind of resource does when the stack is deleted, under the
 * configured `removalPolicy`: the one place that turns `'retain' | 'destroy'`
 * into resource props, spread into each construct's props.
 *
 * - Data and what explains it (the buckets, the key that encrypts them, the
 *   log groups) follow the setting: `retain` keeps them, `destroy` deletes them.
 * - Buckets are never emptied on deletion (`autoDeleteObjects` stays off): it
 *   would add a custom-resource Lambda allowed to delete every object, so with
 *   `destroy` a bucket that still holds objects makes the deletion fail, and
 *   the operator empties it first (docs/operations.md).
 * - The Athena workgroup deletes its saved queries with it under `destroy`;
 *   under `retain` CloudFormation cannot delete a workgroup that has any.
 * - The current table's writer lock is always deleted: it holds one item that
 *   is meaningless without the stack.
 */
export interface RemovalProps {
  readonly bucket: Pick<s3.BucketProps, 'removalPolicy' | 'autoDeleteObjects'>
  readonly key: Pick<kms.KeyProps, 'removalPolicy'>
  readonly logGroup: Pick<logs.LogGroupProps, 'removalPolicy'>
  readonly workGroup: Pick<athena.CfnWorkGroupProps, 'recursiveDeleteOption'>
  readonly lockTable: Pick<dynamodb.TableProps, 'removalPolicy'>
}

/** The removal props of each kind of resource for the configured setting; see {@link RemovalProps}. */
export function removalProps(setting: PipelineConfig['removalPolicy']): RemovalProps {
  const removalPolicy = setting === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN
  return {
    bucket: { removalPolicy, autoDeleteObjects: false },
    key: { removalPolicy },
    logGroup: { removalPolicy },
    workGroup: { recursiveDeleteOption: setting === 'destroy' },
    lockTable: { removalPolicy: RemovalPolicy.DESTROY },
  }
}

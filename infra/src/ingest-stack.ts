import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib'
import * as events from 'aws-cdk-lib/aws-events'
import * as targets from 'aws-cdk-lib/aws-events-targets'
import * as sns from 'aws-cdk-lib/aws-sns'
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions'
import * as sqs from 'aws-cdk-lib/aws-sqs'
import type { Construct } from 'constructs'
import { parseS3Uri } from '../../lambdas/ingest/src/config.js'
import {
  DEFAULT_LOOKUP_KEY,
  incomingKeyEventPattern,
  type KeyFilter,
} from '../../lambdas/ingest/src/incoming-keys.js'
import { Analytics } from './analytics.js'
import { readPipelineConfig } from './config.js'
import { CurrentTable } from './current-table.js'
import { IngestFunction } from './ingest-function.js'
import { LargeFileTask } from './large-file-task.js'
import { Monitoring } from './monitoring.js'
import { acknowledge } from './nag.js'
import { StateMachines } from './state-machines.js'
import { Storage } from './storage.js'

/**
 * The listings pipeline on AWS: an upload to the raw bucket's incoming prefix
 * raises an EventBridge event, a Step Functions execution runs the transform
 * Lambda, outputs land in the processed bucket, Athena can query them, and
 * alarms watch the runs and the data. Environment-agnostic: it synthesizes
 * with no account, region or credentials.
 */
export class IngestStack extends Stack {
  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, props)
    const config = readPipelineConfig(this.node)
    const storage = new Storage(this, 'Storage', { config })
    const lookup = config.lookupUri
      ? parseS3Uri('lookupUri', config.lookupUri)
      : { bucket: storage.raw.bucketName, key: DEFAULT_LOOKUP_KEY }

    const alerts = new sns.Topic(this, 'Alerts', {
      topicName: `${config.namePrefix}-alerts`,
      masterKey: storage.key,
      enforceSSL: true,
    })
    if (config.alarmEmail) alerts.addSubscription(new subscriptions.EmailSubscription(config.alarmEmail))

    const ingestFunction = new IngestFunction(this, 'IngestFunction', { config, storage, lookup })
    const largeFiles = config.largeFiles
      ? new LargeFileTask(this, 'LargeFiles', { config, settings: config.largeFiles, storage, lookup })
      : undefined
    // Before the state machines: the ingest machine merges into the current table.
    const analytics = new Analytics(this, 'Analytics', { config, storage })
    const currentTable = new CurrentTable(this, 'CurrentTable', { config, storage, analytics })
    const machines = new StateMachines(this, 'Orchestration', {
      config,
      storage,
      ingest: ingestFunction.function,
      alerts,
      alertsKey: storage.key,
      largeFiles,
      currentTable,
    })

    const deadLetters = new sqs.Queue(this, 'UndeliveredEvents', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    })
    acknowledge(
      deadLetters,
      'SQS3',
      'This queue is the dead-letter queue of the EventBridge target; nothing sits behind it.',
    )
    const keyFilter = incomingKeyEventPattern(config.incomingPrefix)
    assertPatternFits(keyFilter)
    new events.Rule(this, 'IncomingCsv', {
      description: 'Starts an ingest execution for every .csv or .csv.gz created under the incoming prefix',
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: {
          bucket: { name: [storage.raw.bucketName] },
          object: { key: keyFilter },
        },
      },
      targets: [
        new targets.SfnStateMachine(machines.ingest, {
          deadLetterQueue: deadLetters,
          retryAttempts: 8,
          maxEventAge: Duration.hours(24),
        }),
      ],
    })

    new Monitoring(this, 'Monitoring', {
      config,
      alerts,
      ingestFunction: ingestFunction.function,
      ingest: machines.ingest,
      backfill: machines.backfill,
      deadLetters,
      currentTable: { maintenance: currentTable.maintenance, rebuild: currentTable.rebuild },
    })

    new CfnOutput(this, 'RawBucketName', { value: storage.raw.bucketName })
    new CfnOutput(this, 'ProcessedBucketName', { value: storage.processed.bucketName })
    new CfnOutput(this, 'LookupUri', { value: `s3://${lookup.bucket}/${lookup.key}` })
    new CfnOutput(this, 'IngestStateMachineArn', { value: machines.ingest.stateMachineArn })
    new CfnOutput(this, 'BackfillStateMachineArn', { value: machines.backfill.stateMachineArn })
    new CfnOutput(this, 'AlertTopicArn', { value: alerts.topicArn })
    new CfnOutput(this, 'AthenaWorkGroup', { value: analytics.workGroupName })
    if (largeFiles) {
      new CfnOutput(this, 'LargeFileThresholdBytes', { value: String(largeFiles.settings.thresholdBytes) })
      new CfnOutput(this, 'LargeFileCluster', { value: largeFiles.cluster.clusterName })
    }
    new CfnOutput(this, 'GlueTable', { value: `${analytics.databaseName}.${analytics.tableName}` })
    new CfnOutput(this, 'CurrentTableName', { value: `${analytics.databaseName}.${currentTable.tableName}` })
    new CfnOutput(this, 'RebuildStateMachineArn', { value: currentTable.rebuild.stateMachineArn })
  }
}

/** EventBridge's default quota for the size of one rule's event pattern, in characters. */
export const MAX_EVENT_PATTERN_CHARS = 2048

/**
 * Refuses, at synthesis, an incoming prefix so long that the rule's pattern
 * (eight wildcards, each repeating the prefix) would exceed
 * {@link MAX_EVENT_PATTERN_CHARS}, which a deploy would reject. Measured on
 * the pattern as deployed, with the longest bucket name S3 allows (63).
 */
function assertPatternFits(keyFilter: KeyFilter[]): void {
  const deployed = {
    source: ['aws.s3'],
    'detail-type': ['Object Created'],
    detail: { bucket: { name: ['b'.repeat(63)] }, object: { key: keyFilter } },
  }
  const size = JSON.stringify(deployed).length
  if (size > MAX_EVENT_PATTERN_CHARS) {
    throw new Error(
      `context incomingPrefix is too long: the EventBridge rule's pattern would be ${size} characters, over the ${MAX_EVENT_PATTERN_CHARS} EventBridge accepts; use a shorter prefix`,
    )
  }
}

import { Aws, Duration } from 'aws-cdk-lib'
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch'
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions'
import * as iam from 'aws-cdk-lib/aws-iam'
import type * as lambda from 'aws-cdk-lib/aws-lambda'
import type * as sns from 'aws-cdk-lib/aws-sns'
import type * as sqs from 'aws-cdk-lib/aws-sqs'
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions'
import { Construct } from 'constructs'
import {
  DQ_DIMENSIONS,
  DQ_METRICS,
  DQ_METRICS_NAMESPACE,
  rejectReasonMetric,
} from '../../lambdas/ingest/src/dq-metrics.js'
import { REJECT_REASONS } from '../../shared/src/contract.js'
import type { PipelineConfig } from './config.js'

interface MonitoringProps {
  config: PipelineConfig
  alerts: sns.ITopic
  ingestFunction: lambda.IFunction
  ingest: sfn.StateMachine
  backfill: sfn.StateMachine
  deadLetters: sqs.IQueue
  /** The current table's own state machines, when the stack has the table. @default undefined */
  currentTable?: { maintenance: sfn.StateMachine; rebuild: sfn.StateMachine }
}

/**
 * The rows-written anomaly alarm: CloudWatch learns the metric's usual band
 * (by hour of day and day of week) and alarms when a period's average falls
 * below it, so a sudden drop in volume alerts without a hand-set threshold.
 */
export const ROWS_WRITTEN_ANOMALY = {
  name: 'rows-written-anomaly',
  /** Width of the band in standard deviations. */
  stdDevs: 2,
  /** The files of one hour are averaged: the metric is one value per processed file. */
  period: Duration.hours(1),
} as const

/** A DQ metric as the Lambda emits it: same namespace, name and dimensions. */
export function dqMetric(
  metric: { name: string },
  statistic: string,
  period = Duration.minutes(5),
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: DQ_METRICS_NAMESPACE,
    metricName: metric.name,
    dimensionsMap: { ...DQ_DIMENSIONS },
    statistic,
    period,
  })
}

/** The name of one of this stack's alarms. */
export function alarmName(namePrefix: string, name: string): string {
  return `${namePrefix}-${name}`
}

/** The ARNs of this stack's alarms, as an `ArnLike` pattern: the only alarms that may notify. */
export function alarmArnPattern(namePrefix: string): string {
  return `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:${alarmName(namePrefix, '*')}`
}

/**
 * Alarms on the pipeline's health (failed executions, Lambda errors and
 * throttles, undelivered events) and on the data itself (rejected share over
 * the limit, a breach, a file that wrote no rows, a drop in rows written
 * outside the learned band), all notifying the alert topic, plus a dashboard
 * of the DQ metrics.
 */
export class Monitoring extends Construct {
  readonly alarms: cloudwatch.Alarm[] = []

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id)
    const { config } = props
    // An alarm action publishes as cloudwatch.amazonaws.com, which needs the topic's own consent
    // (and, for the encrypted topic, the key's: storage.ts). Only this account's alarms of this stack.
    props.alerts.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowThisStacksAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [props.alerts.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: { 'aws:SourceArn': alarmArnPattern(config.namePrefix) },
        },
      }),
    )
    const alarm = (
      name: string,
      metric: cloudwatch.IMetric,
      threshold: number,
      description: string,
      comparison = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    ) => {
      const created = new cloudwatch.Alarm(this, name, {
        metric,
        alarmName: alarmName(config.namePrefix, name),
        alarmDescription: description,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: comparison,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      })
      created.addAlarmAction(new actions.SnsAction(props.alerts))
      this.alarms.push(created)
      return created
    }
    alarm(
      'ingest-executions-failed',
      props.ingest.metricFailed({ period: Duration.minutes(5) }),
      0,
      'An ingest execution failed (bad input, configuration, or retries exhausted)',
    )
    alarm(
      'backfill-executions-failed',
      props.backfill.metricFailed({ period: Duration.minutes(5) }),
      0,
      'A backfill execution failed',
    )
    alarm(
      'lambda-errors',
      props.ingestFunction.metricErrors({ period: Duration.minutes(5) }),
      0,
      'The ingest Lambda raised errors',
    )
    alarm(
      'lambda-throttles',
      props.ingestFunction.metricThrottles({ period: Duration.minutes(5) }),
      0,
      'The ingest Lambda was throttled',
    )
    alarm(
      'undelivered-events',
      props.deadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      0,
      'S3 events could not start the state machine and wait in the dead-letter queue',
    )
    alarm(
      'rejected-share-high',
      dqMetric(DQ_METRICS.rejectedPercent, 'Maximum'),
      config.rejectedPercentAlarm,
      `A file had more than ${config.rejectedPercentAlarm}% of its rows rejected`,
    )
    alarm(
      'threshold-breached',
      dqMetric(DQ_METRICS.thresholdBreaches, 'Sum'),
      0,
      'A file breached a data-quality threshold; its Parquet was withheld',
    )
    alarm(
      'no-rows-written',
      dqMetric(DQ_METRICS.rowsWritten, 'Minimum'),
      0,
      'A processed file wrote no rows',
      cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
    )

    const anomaly = new cloudwatch.AnomalyDetectionAlarm(this, ROWS_WRITTEN_ANOMALY.name, {
      metric: dqMetric(DQ_METRICS.rowsWritten, 'Average', ROWS_WRITTEN_ANOMALY.period),
      alarmName: alarmName(config.namePrefix, ROWS_WRITTEN_ANOMALY.name),
      alarmDescription: 'Rows written per file dropped below the band CloudWatch learned from past files',
      stdDevs: ROWS_WRITTEN_ANOMALY.stdDevs,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_LOWER_THRESHOLD,
      evaluationPeriods: 1,
      // No file in an hour is no evidence of a drop; the upload-side alarms cover missing events.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    })
    anomaly.addAlarmAction(new actions.SnsAction(props.alerts))
    this.alarms.push(anomaly)
    if (props.currentTable) {
      alarm(
        'current-table-maintenance-failed',
        props.currentTable.maintenance.metricFailed({ period: Duration.minutes(5) }),
        0,
        'Compacting or vacuuming the current table failed',
      )
      alarm(
        'current-table-rebuild-failed',
        props.currentTable.rebuild.metricFailed({ period: Duration.minutes(5) }),
        0,
        'Rebuilding the current table failed',
      )
    }

    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${config.namePrefix}-data-quality`,
    })
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Rows per run',
        left: [DQ_METRICS.sourceRows, DQ_METRICS.validRows, DQ_METRICS.rowsWritten].map((m) =>
          dqMetric(m, 'Sum'),
        ),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Rejections and gaps',
        left: [
          DQ_METRICS.droppedMissingRequired,
          DQ_METRICS.droppedNonPositivePrice,
          DQ_METRICS.duplicatesRemoved,
          DQ_METRICS.rowsWithoutSegment,
        ].map((m) => dqMetric(m, 'Sum')),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Shares (%)',
        left: [DQ_METRICS.rejectedPercent, DQ_METRICS.withoutSegmentPercent].map((m) =>
          dqMetric(m, 'Maximum'),
        ),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Threshold breaches and rejections by reason',
        left: [dqMetric(DQ_METRICS.thresholdBreaches, 'Sum')],
        right: REJECT_REASONS.map((reason) => dqMetric({ name: rejectReasonMetric(reason) }, 'Sum')),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Executions and duration',
        left: [props.ingest.metricSucceeded(), props.ingest.metricFailed()],
        right: [dqMetric(DQ_METRICS.durationMs, 'Maximum')],
        width: 12,
      }),
    )
  }
}

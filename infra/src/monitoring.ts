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

/** Props of {@link Monitoring}. */
export interface MonitoringProps {
  /** The stack's settings: the name prefix, the rejected-share alarm threshold. */
  readonly config: PipelineConfig
  /** Where every alarm notifies. */
  readonly alerts: sns.ITopic
  /** The ingest Lambda: its errors and throttles. */
  readonly ingestFunction: lambda.IFunction
  /** The ingest state machine: its failed executions. */
  readonly ingest: sfn.StateMachine
  /** The backfill state machine: its failed executions. */
  readonly backfill: sfn.StateMachine
  /** The EventBridge target's dead-letter queue: events that could not start an execution. */
  readonly deadLetters: sqs.IQueue
  /** The current table's own state machines, when the stack has the table. @default undefined */
  readonly currentTable?: { readonly maintenance: sfn.StateMachine; readonly rebuild: sfn.StateMachine }
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

/** One alarm on a fixed threshold: alarms when one 5-minute (or the metric's) period crosses it. */
interface ThresholdAlarm {
  /** The construct id and the end of the alarm's name. */
  readonly name: string
  readonly metric: cloudwatch.IMetric
  /** @default 0 */
  readonly threshold?: number
  readonly description: string
  /** @default GREATER_THAN_THRESHOLD */
  readonly comparison?: cloudwatch.ComparisonOperator
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
    const fiveMinutes = { period: Duration.minutes(5) }
    const thresholdAlarms = (specs: readonly ThresholdAlarm[]) => {
      for (const spec of specs) {
        const created = new cloudwatch.Alarm(this, spec.name, {
          metric: spec.metric,
          alarmName: alarmName(config.namePrefix, spec.name),
          alarmDescription: spec.description,
          threshold: spec.threshold ?? 0,
          evaluationPeriods: 1,
          comparisonOperator: spec.comparison ?? cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        })
        created.addAlarmAction(new actions.SnsAction(props.alerts))
        this.alarms.push(created)
      }
    }
    thresholdAlarms([
      {
        name: 'ingest-executions-failed',
        metric: props.ingest.metricFailed(fiveMinutes),
        description: 'An ingest execution failed (bad input, configuration, or retries exhausted)',
      },
      {
        name: 'backfill-executions-failed',
        metric: props.backfill.metricFailed(fiveMinutes),
        description: 'A backfill execution failed',
      },
      {
        name: 'lambda-errors',
        metric: props.ingestFunction.metricErrors(fiveMinutes),
        description: 'The ingest Lambda raised errors',
      },
      {
        name: 'lambda-throttles',
        metric: props.ingestFunction.metricThrottles(fiveMinutes),
        description: 'The ingest Lambda was throttled',
      },
      {
        name: 'undelivered-events',
        metric: props.deadLetters.metricApproximateNumberOfMessagesVisible(fiveMinutes),
        description: 'S3 events could not start the state machine and wait in the dead-letter queue',
      },
      {
        name: 'rejected-share-high',
        metric: dqMetric(DQ_METRICS.rejectedPercent, 'Maximum'),
        threshold: config.rejectedPercentAlarm,
        description: `A file had more than ${config.rejectedPercentAlarm}% of its rows rejected`,
      },
      {
        name: 'threshold-breached',
        metric: dqMetric(DQ_METRICS.thresholdBreaches, 'Sum'),
        description: 'A file breached a data-quality threshold; its Parquet was withheld',
      },
      {
        name: 'no-rows-written',
        metric: dqMetric(DQ_METRICS.rowsWritten, 'Minimum'),
        description: 'A processed file wrote no rows',
        comparison: cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
      },
    ])

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
      thresholdAlarms([
        {
          name: 'current-table-maintenance-failed',
          metric: props.currentTable.maintenance.metricFailed(fiveMinutes),
          description: 'Compacting or vacuuming the current table failed',
        },
        {
          name: 'current-table-rebuild-failed',
          metric: props.currentTable.rebuild.metricFailed(fiveMinutes),
          description: 'Rebuilding the current table failed',
        },
      ])
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

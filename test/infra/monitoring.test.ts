import { describe, expect, it } from 'vitest'
import { ROWS_WRITTEN_ANOMALY } from '../../infra/src/monitoring.js'
import {
  DQ_DIMENSIONS,
  DQ_METRICS,
  DQ_METRICS_NAMESPACE,
  rejectReasonMetric,
} from '../../lambdas/ingest/src/dq-metrics.js'
import { REJECT_REASONS } from '../../shared/src/contract.js'
import { template } from './synth.js'

const t = template()
type AlarmProps = {
  AlarmName: string
  Metrics?: {
    Id: string
    Expression?: string
    MetricStat?: {
      Metric: { Namespace: string; MetricName: string; Dimensions: unknown[] }
      Period: number
      Stat: string
    }
  }[]
  ThresholdMetricId?: string
  TreatMissingData?: string
  Namespace?: string
  MetricName?: string
  Dimensions?: { Name: string; Value: unknown }[]
  Threshold?: number
  ComparisonOperator: string
  AlarmActions: unknown[]
}
const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties as AlarmProps)
const byName = (suffix: string) => {
  const alarm = alarms.find((a) => a.AlarmName.endsWith(suffix))
  if (alarm === undefined) throw new Error(`no alarm ${suffix}`)
  return alarm
}

describe('alarms', () => {
  it('watch failed executions, Lambda errors and throttles, and undelivered events', () => {
    expect(byName('ingest-executions-failed')).toMatchObject({
      Namespace: 'AWS/States',
      MetricName: 'ExecutionsFailed',
    })
    expect(byName('backfill-executions-failed')).toMatchObject({
      Namespace: 'AWS/States',
      MetricName: 'ExecutionsFailed',
    })
    expect(byName('lambda-errors')).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Errors' })
    expect(byName('lambda-throttles')).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Throttles' })
    expect(byName('undelivered-events')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
    })
  })

  it('watch the DQ metrics by exactly the namespace, names and dimensions the Lambda emits', () => {
    const dimensions = Object.entries(DQ_DIMENSIONS).map(([Name, Value]) => ({ Name, Value }))
    const dq = [
      ['rejected-share-high', DQ_METRICS.rejectedPercent.name, 10, 'GreaterThanThreshold'],
      ['threshold-breached', DQ_METRICS.thresholdBreaches.name, 0, 'GreaterThanThreshold'],
      ['no-rows-written', DQ_METRICS.rowsWritten.name, 0, 'LessThanOrEqualToThreshold'],
    ] as const
    for (const [suffix, metricName, threshold, comparison] of dq) {
      expect(byName(suffix)).toMatchObject({
        Namespace: DQ_METRICS_NAMESPACE,
        MetricName: metricName,
        Dimensions: dimensions,
        Threshold: threshold,
        ComparisonOperator: comparison,
      })
    }
  })

  it('alarm on a drop in rows written per file by anomaly detection, without a hand-set threshold', () => {
    const anomaly = byName(ROWS_WRITTEN_ANOMALY.name)
    expect(anomaly.AlarmName).toBe(`listings-ingest-${ROWS_WRITTEN_ANOMALY.name}`)
    expect(anomaly.Threshold).toBeUndefined()
    expect(anomaly.ComparisonOperator).toBe('LessThanLowerThreshold')
    expect(anomaly.TreatMissingData).toBe('notBreaching')
    const band = anomaly.Metrics?.find((m) => m.Id === anomaly.ThresholdMetricId)
    const metric = anomaly.Metrics?.find((m) => m.MetricStat !== undefined)
    expect(band?.Expression).toBe(`ANOMALY_DETECTION_BAND(${metric?.Id}, ${ROWS_WRITTEN_ANOMALY.stdDevs})`)
    expect(metric?.MetricStat).toEqual({
      Metric: {
        Namespace: DQ_METRICS_NAMESPACE,
        MetricName: DQ_METRICS.rowsWritten.name,
        Dimensions: Object.entries(DQ_DIMENSIONS).map(([Name, Value]) => ({ Name, Value })),
      },
      Period: ROWS_WRITTEN_ANOMALY.period.toSeconds(),
      Stat: 'Average',
    })
  })

  it('all notify the alert topic', () => {
    // Eight health and DQ alarms, the anomaly alarm, and two for the current table's machines when the stack has them.
    const currentTableMachines = Object.values(t.findResources('AWS::StepFunctions::StateMachine')).filter(
      (m) => String(m.Properties.StateMachineName).includes('current-table'),
    )
    expect(alarms).toHaveLength(9 + currentTableMachines.length)
    for (const alarm of alarms) {
      expect(alarm.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^Alerts/) }])
    }
  })

  it('take the rejected-share limit from context', () => {
    const custom = Object.values(
      template({ rejectedPercentAlarm: 25 }).findResources('AWS::CloudWatch::Alarm'),
    )
    expect(
      custom.find((a) => a.Properties.AlarmName.endsWith('rejected-share-high'))?.Properties.Threshold,
    ).toBe(25)
  })
})

describe('the dashboard', () => {
  it('graphs the DQ metrics', () => {
    const [dashboard] = Object.values(t.findResources('AWS::CloudWatch::Dashboard'))
    const parts = dashboard?.Properties.DashboardBody['Fn::Join'][1] as unknown[]
    const body = parts.filter((part) => typeof part === 'string').join('')
    for (const metric of Object.values(DQ_METRICS)) expect(body).toContain(`"${metric.name}"`)
    for (const reason of REJECT_REASONS) expect(body).toContain(`"${rejectReasonMetric(reason)}"`)
    expect(body).toContain(DQ_METRICS_NAMESPACE)
  })
})

import { describe, expect, it } from 'vitest'
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
  Namespace?: string
  MetricName?: string
  Dimensions?: { Name: string; Value: unknown }[]
  Threshold: number
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

  it('all notify the alert topic', () => {
    expect(alarms).toHaveLength(8)
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

import type { MetricUnit } from '@aws-lambda-powertools/metrics/types'
import type { DqReport } from '../../../shared/src/report.js'

/**
 * The data-quality metrics the Lambda emits (CloudWatch embedded metric
 * format) and the CDK stack alarms on, and how a run's report becomes them.
 * Both import this module, so a renamed metric cannot silently detach an
 * alarm. The Powertools imports are types only: the CDK app loads no Lambda code.
 */

/** CloudWatch namespace of every DQ metric. */
export const DQ_METRICS_NAMESPACE = 'ListingsIngest'

/** Powertools adds the service name as the `service` dimension of every metric. */
export const DQ_SERVICE_NAME = 'listings-ingest'

/** The dimensions every DQ metric carries: what alarms must filter on. */
export const DQ_DIMENSIONS: Readonly<Record<string, string>> = { service: DQ_SERVICE_NAME }

/** A metric's CloudWatch name and the unit it is emitted in. */
export interface DqMetric {
  name: string
  unit: MetricUnit
}

/** Metric names, with the unit each is emitted in. */
export const DQ_METRICS = {
  sourceRows: { name: 'SourceRows', unit: 'Count' },
  validRows: { name: 'ValidRowsAfterClean', unit: 'Count' },
  rowsWritten: { name: 'RowsWritten', unit: 'Count' },
  duplicatesRemoved: { name: 'DuplicatesRemoved', unit: 'Count' },
  droppedMissingRequired: { name: 'DroppedMissingRequired', unit: 'Count' },
  droppedNonPositivePrice: { name: 'DroppedNonPositivePrice', unit: 'Count' },
  rowsWithoutSegment: { name: 'RowsWithoutSegment', unit: 'Count' },
  rejectedPercent: { name: 'RejectedPercent', unit: 'Percent' },
  withoutSegmentPercent: { name: 'WithoutSegmentPercent', unit: 'Percent' },
  thresholdBreaches: { name: 'ThresholdBreaches', unit: 'Count' },
  durationMs: { name: 'IngestDuration', unit: 'Milliseconds' },
} as const satisfies Record<string, DqMetric>

/** One metric per finer rejection reason: `Rejected_missing_field`, ... */
export function rejectReasonMetric(reason: string): string {
  return `Rejected_${reason}`
}

/** What {@link recordMetrics} needs of Powertools' `Metrics`. */
export interface MetricSink {
  addMetric(name: string, unit: MetricUnit, value: number): unknown
}

/**
 * Adds one run's metrics: the report's counts, its ratios as percentages,
 * breaches, duration, and one count per rejection reason. Rows written is 0
 * after a breach, since the Parquet was withheld.
 */
export function recordMetrics(metrics: MetricSink, report: DqReport): void {
  const add = (metric: DqMetric, value: number) => metrics.addMetric(metric.name, metric.unit, value)
  add(DQ_METRICS.sourceRows, report.source_rows)
  add(DQ_METRICS.validRows, report.valid_rows_after_clean)
  add(DQ_METRICS.rowsWritten, report.status === 'succeeded' ? report.rows_after_dedup : 0)
  add(DQ_METRICS.duplicatesRemoved, report.duplicates_removed)
  add(DQ_METRICS.droppedMissingRequired, report.dropped_missing_required)
  add(DQ_METRICS.droppedNonPositivePrice, report.dropped_non_positive_price)
  add(DQ_METRICS.rowsWithoutSegment, report.rows_without_segment)
  add(DQ_METRICS.rejectedPercent, report.ratios.rejected * 100)
  add(DQ_METRICS.withoutSegmentPercent, report.ratios.without_segment * 100)
  add(DQ_METRICS.thresholdBreaches, report.thresholds.breaches.length)
  add(DQ_METRICS.durationMs, report.timings_ms.total)
  for (const [reason, count] of Object.entries(report.reasons)) {
    add({ name: rejectReasonMetric(reason), unit: 'Count' }, count)
  }
}

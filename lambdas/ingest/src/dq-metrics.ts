/**
 * The data-quality metrics the Lambda emits (CloudWatch embedded metric
 * format) and the CDK stack alarms on. Both import this module, so a renamed
 * metric cannot silently detach an alarm.
 */

/** CloudWatch namespace of every DQ metric. */
export const DQ_METRICS_NAMESPACE = 'ListingsIngest'

/** Powertools adds the service name as the `service` dimension of every metric. */
export const DQ_SERVICE_NAME = 'listings-ingest'

/** The dimensions every DQ metric carries: what alarms must filter on. */
export const DQ_DIMENSIONS: Readonly<Record<string, string>> = { service: DQ_SERVICE_NAME }

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
} as const

/** One metric per finer rejection reason: `Rejected_missing_field`, ... */
export function rejectReasonMetric(reason: string): string {
  return `Rejected_${reason}`
}

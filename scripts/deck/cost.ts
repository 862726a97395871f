/**
 * A monthly cost estimate for the pipeline, from public on-demand prices
 * (written on the slide, so a reader can redo the sums).
 */

/** Prices assumed, USD, eu-west-2 (London) on-demand list prices as of 2026. */
export const PRICES = {
  lambdaGbSecondArm: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  stateTransition: 0.025 / 1000,
  s3StandardGbMonth: 0.024,
  s3PutPer1000: 0.0053,
  s3GetPer1000: 0.00042,
  kmsKeyMonth: 1,
  kmsRequest: 0.03 / 10_000,
  customMetricMonth: 0.3,
  alarmMonth: 0.1,
  dashboardMonth: 3,
  athenaPerTbScanned: 5,
  /** Athena bills every query for at least this much scanned. */
  athenaMinimumBytes: 10 * 1024 ** 2,
} as const

/** One workload to price. */
export interface Workload {
  label: string
  filesPerDay: number
  rowsPerFile: number
}

/** Per-file figures the estimate needs, from measurement and from the stack. */
export interface PerFileFacts {
  /** Seconds the Lambda runs for one million rows. */
  secondsPerMillionRows: number
  lambdaMemoryMb: number
  /** CSV bytes per row in, Parquet bytes per row out. */
  csvBytesPerRow: number
  parquetBytesPerRow: number
  /** State transitions one successful execution makes. */
  transitionsPerFile: number
  /** S3 requests one file causes: PUTs (uploads, parts, report, manifest) and GETs/HEADs. */
  putsPerFile: number
  getsPerFile: number
  /** KMS requests per file (bucket keys make this small). */
  kmsRequestsPerFile: number
  customMetrics: number
  alarms: number
  /**
   * Bytes the current table's MERGE scans per file, as a multiple of the
   * file's own Parquet: the run's file plus the months of the table it
   * touches (about 5x for a daily export spread over recent months; 0 when
   * the stack has no current table).
   */
  mergeScanParquetMultiple: number
}

/** A priced workload, per month (30 days). */
export interface Estimate {
  workload: Workload
  lambda: number
  stepFunctions: number
  s3Requests: number
  s3Storage: number
  kms: number
  athena: number
  monitoring: number
  total: number
  /** Raw plus processed data added per month, GB. */
  storageAddedGb: number
}

/**
 * Prices a workload. Storage is what one month adds (raw CSV plus Parquet),
 * billed for half the month on average; it grows month over month until the
 * lifecycle rules move raw files to cheaper classes.
 */
export function estimateMonthlyCost(workload: Workload, facts: PerFileFacts): Estimate {
  const files = workload.filesPerDay * 30
  const seconds = (facts.secondsPerMillionRows * workload.rowsPerFile) / 1e6
  const lambda =
    files * (seconds * (facts.lambdaMemoryMb / 1024) * PRICES.lambdaGbSecondArm + PRICES.lambdaRequest)
  const stepFunctions = files * facts.transitionsPerFile * PRICES.stateTransition
  const s3Requests =
    files *
    ((facts.putsPerFile * PRICES.s3PutPer1000) / 1000 + (facts.getsPerFile * PRICES.s3GetPer1000) / 1000)
  const storageAddedGb =
    (files * workload.rowsPerFile * (facts.csvBytesPerRow + facts.parquetBytesPerRow)) / 1024 ** 3
  const s3Storage = (storageAddedGb / 2) * PRICES.s3StandardGbMonth
  const kms = PRICES.kmsKeyMonth + files * facts.kmsRequestsPerFile * PRICES.kmsRequest
  const mergeBytes = facts.mergeScanParquetMultiple * workload.rowsPerFile * facts.parquetBytesPerRow
  const athena =
    facts.mergeScanParquetMultiple === 0
      ? 0
      : (files * Math.max(mergeBytes, PRICES.athenaMinimumBytes) * PRICES.athenaPerTbScanned) / 1e12
  const monitoring =
    facts.customMetrics * PRICES.customMetricMonth + facts.alarms * PRICES.alarmMonth + PRICES.dashboardMonth
  const total = lambda + stepFunctions + s3Requests + s3Storage + kms + athena + monitoring
  return {
    workload,
    lambda,
    stepFunctions,
    s3Requests,
    s3Storage,
    kms,
    athena,
    monitoring,
    total,
    storageAddedGb,
  }
}

/** `$1.23`, or `<$0.01`. */
export function dollars(amount: number): string {
  return amount < 0.01 ? '<$0.01' : `$${amount.toFixed(2)}`
}

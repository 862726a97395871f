import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { type DqReport, InputError, ingest, thresholdsFrom } from '../../shared/src/index.js'
import { type CliOptions, HELP, parseCliArgs, UsageError } from './args.js'
import { AtomicFile, fileSource } from './files.js'
import { createLogger } from './logger.js'
import { ProgressLine } from './progress.js'

/** The CLI's exit codes, as the ingest contract defines them. */
export const ExitCode = { ok: 0, unexpected: 1, badInput: 2, thresholdBreached: 3, interrupted: 130 } as const

/** Where one run's outputs are published, relative to `--out`. */
export function outputPaths(out: string) {
  return {
    parquet: join(out, 'processed', 'data.parquet'),
    rejected: join(out, 'rejected', 'rejected_rows.csv'),
    report: join(out, 'dq_report.json'),
  }
}

/**
 * Runs the CLI and returns its exit code. Every failure becomes one line on
 * stderr; nothing is thrown.
 *
 * @param argv - the arguments after the script name
 */
export async function main(argv: readonly string[]): Promise<number> {
  let options: CliOptions
  try {
    options = parseCliArgs(argv)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    process.stderr.write(`listings-ingest: ${error.message} (see --help)\n`)
    return ExitCode.badInput
  }
  if (options.help) {
    process.stdout.write(`${HELP}\n`)
    return ExitCode.ok
  }
  const outputs: AtomicFile[] = []
  const onSignal = () => {
    void Promise.allSettled(outputs.map((file) => file.discard())).then(() =>
      process.exit(ExitCode.interrupted),
    )
  }
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal)
  try {
    return await runIngest(options, outputs)
  } catch (error) {
    await Promise.allSettled(outputs.map((file) => file.discard()))
    if (error instanceof InputError) {
      process.stderr.write(`listings-ingest: error: ${error.message}\n`)
      return ExitCode.badInput
    }
    const message = error instanceof Error ? error.message : String(error)
    process.stderr.write(`listings-ingest: unexpected error: ${message}\n`)
    return ExitCode.unexpected
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal)
  }
}

async function runIngest(options: CliOptions, outputs: AtomicFile[]): Promise<number> {
  const logger = createLogger(options.quiet)
  const listings = await fileSource(options.listings)
  const lookup = await fileSource(options.lookup)
  const paths = outputPaths(options.out)
  const parquet = await AtomicFile.create(paths.parquet)
  outputs.push(parquet)
  const rejected = await AtomicFile.create(paths.rejected)
  outputs.push(rejected)
  const reportFile = await AtomicFile.create(paths.report)
  outputs.push(reportFile)

  const progress = showProgress(options) ? new ProgressLine(process.stderr) : undefined
  let report: DqReport
  try {
    report = await ingest({
      listings,
      lookup,
      parquet,
      rejected,
      nullMarkers: options.nullMarkers,
      thresholds: thresholdsFrom(options),
      rowGroupSize: options.rowGroupSize,
      // With a second core, encode Parquet on a worker thread running this same bundle.
      ...(availableParallelism() > 1 ? { parquetWorker: new URL(import.meta.url) } : {}),
      ...(progress ? { onProgress: (update) => progress.update(update) } : {}),
    })
  } finally {
    progress?.clear()
  }

  const published = withLocations(report, paths)
  await reportFile.write(Buffer.from(`${JSON.stringify(published, null, 2)}\n`))
  if (report.status === 'succeeded') await parquet.publish()
  else await parquet.discard()
  await rejected.publish()
  await reportFile.publish()
  if (options.json) process.stdout.write(`${JSON.stringify(published, null, 2)}\n`)

  const summary = {
    status: report.status,
    source_rows: report.source_rows,
    valid_rows_after_clean: report.valid_rows_after_clean,
    rows_after_dedup: report.rows_after_dedup,
    dropped_missing_required: report.dropped_missing_required,
    dropped_non_positive_price: report.dropped_non_positive_price,
    duration_ms: report.timings_ms.total,
    report: paths.report,
  }
  if (report.status === 'succeeded') {
    logger.info('ingest succeeded', { ...summary, parquet: paths.parquet })
    return ExitCode.ok
  }
  logger.warn('data-quality threshold breached; parquet not published', {
    ...summary,
    breaches: report.thresholds.breaches,
  })
  const reasons = report.thresholds.breaches
    .map((breach) => `${breach.threshold} ${breach.actual.toFixed(4)} > ${breach.limit}`)
    .join('; ')
  process.stderr.write(
    `listings-ingest: data-quality threshold breached (${reasons}); ${paths.parquet} not published, see ${paths.report}\n`,
  )
  return ExitCode.thresholdBreached
}

function showProgress(options: CliOptions): boolean {
  return options.progress && !options.quiet && process.stderr.isTTY === true
}

/** The report as published: with the path of each output file. */
function withLocations(report: DqReport, paths: ReturnType<typeof outputPaths>) {
  return {
    ...report,
    output: {
      parquet: { ...report.output.parquet, path: paths.parquet },
      rejected: { ...report.output.rejected, path: paths.rejected },
    },
  }
}

import { availableParallelism } from 'node:os'
import { type DqReport, InputError, ingest, thresholdsFrom } from '../../shared/src/index.js'
import { type CliOptions, HELP, parseCliArgs, UsageError } from './args.js'
import { fileSource } from './files.js'
import { createLogger } from './logger.js'
import { ProgressLine } from './progress.js'
import { faultAt, type OutputName, publishedPaths, RunOutputs } from './publish.js'

/**
 * The CLI's exit codes, as the ingest contract defines them. An interrupted
 * run exits 128 + the signal's number as shells do, except that SIGHUP (a
 * closed terminal) is reported like Ctrl-C: 130 for SIGINT and SIGHUP, 143 for SIGTERM.
 */
export const ExitCode = {
  ok: 0,
  unexpected: 1,
  badInput: 2,
  thresholdBreached: 3,
  interrupted: 130,
  terminated: 143,
} as const

/** The signals that interrupt a run, and the exit code each ends it with. */
const INTERRUPTS = {
  SIGINT: ExitCode.interrupted,
  SIGHUP: ExitCode.interrupted,
  SIGTERM: ExitCode.terminated,
}

/** Where one run's outputs are published, relative to `--out`. */
export function outputPaths(out: string): Record<OutputName, string> {
  return publishedPaths(out)
}

/**
 * Runs the CLI and returns its exit code. Every failure becomes one line on
 * stderr; nothing is thrown. An interrupt (SIGINT, SIGTERM, SIGHUP) removes
 * the run's unpublished outputs and its lock, prints one line and exits the
 * process at once; one that arrives after the outputs were published lets the
 * run finish.
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
  let outputs: RunOutputs | undefined
  const onSignal = (signal: keyof typeof INTERRUPTS) => {
    // Too late to undo: the outputs are published, and what is left (tidying up) takes
    // microseconds. The run finishes and exits 0 or 3, so a non-zero exit never means
    // "published".
    if (outputs?.committed) return
    // Synchronous to the end: the run stops here, in a state RunOutputs can undo.
    outputs?.abandonSync()
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K')
    process.stderr.write('listings-ingest: interrupted\n')
    process.exit(INTERRUPTS[signal])
  }
  const signals = Object.keys(INTERRUPTS) as (keyof typeof INTERRUPTS)[]
  for (const signal of signals) process.on(signal, onSignal)
  try {
    return await runIngest(options, (created) => {
      outputs = created
    })
  } catch (error) {
    outputs?.abandonSync()
    if (error instanceof InputError) {
      process.stderr.write(`listings-ingest: error: ${oneLine(error.message)}\n`)
      return ExitCode.badInput
    }
    const message = error instanceof Error ? error.message : String(error)
    process.stderr.write(`listings-ingest: unexpected error: ${oneLine(message)}\n`)
    return ExitCode.unexpected
  } finally {
    for (const signal of signals) process.off(signal, onSignal)
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ')
}

async function runIngest(options: CliOptions, onOutputs: (outputs: RunOutputs) => void): Promise<number> {
  const logger = createLogger(options.quiet)
  const listings = await fileSource(options.listings)
  const lookup = await fileSource(options.lookup)
  const paths = outputPaths(options.out)
  const outputs = RunOutputs.openSync(options.out, onOutputs)
  const live = outputs.livePath()

  const progress = showProgress(options) ? new ProgressLine(process.stderr) : undefined
  let report: DqReport
  try {
    report = await ingest({
      listings,
      lookup,
      parquet: outputs.files.parquet,
      rejected: outputs.files.rejected,
      nullMarkers: options.nullMarkers,
      thresholds: thresholdsFrom(options),
      rowGroupSize: options.rowGroupSize,
      // With a second core, encode Parquet on a worker thread running this same bundle.
      ...(availableParallelism() > 1 ? { parquetWorker: new URL(import.meta.url) } : {}),
      onProgress: (update) => {
        progress?.update(update)
        void faultAt(update.phase)
      },
    })
  } finally {
    progress?.clear()
  }

  const succeeded = report.status === 'succeeded'
  const published = asPublished(report, paths, succeeded ? undefined : live, outputs.runId)
  const untidy = await outputs.publish(Buffer.from(`${JSON.stringify(published, null, 2)}\n`), succeeded)
  if (untidy !== undefined)
    logger.warn('outputs published; tidying up failed, the next run finishes it', { problem: untidy })
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
    run: outputs.runId,
  }
  if (succeeded) {
    logger.info('ingest succeeded', { ...summary, parquet: paths.parquet })
    return ExitCode.ok
  }
  logger.warn('data-quality threshold breached; parquet not published', {
    ...summary,
    breaches: report.thresholds.breaches,
    live_parquet: live,
  })
  const reasons = report.thresholds.breaches
    .map((breach) => `${breach.threshold} ${breach.actual.toFixed(4)} > ${breach.limit}`)
    .join('; ')
  const kept = live === null ? 'no Parquet is published' : `${live} still holds an earlier run's data`
  process.stderr.write(
    `listings-ingest: data-quality threshold breached (${reasons}); this run's Parquet not published (${kept}), see ${paths.report}\n`,
  )
  return ExitCode.thresholdBreached
}

function showProgress(options: CliOptions): boolean {
  return options.progress && !options.quiet && process.stderr.isTTY === true
}

/** What the published report says about the Parquet file. */
export type PublishedParquet =
  | (DqReport['output']['parquet'] & { published: true; path: string })
  | {
      published: false
      /** The Parquet still published from an earlier run, or null when there is none. */
      live: string | null
    }

/**
 * The report as published: with the run's id and the path of each output
 * file. A breached run's Parquet was never published, so the report names no
 * size or hash for it, only which Parquet (if any) readers still find.
 *
 * @param live - after a breach, the Parquet still published; undefined when this run's Parquet is published
 */
function asPublished(
  report: DqReport,
  paths: Record<OutputName, string>,
  live: string | null | undefined,
  runId: string,
) {
  const parquet: PublishedParquet =
    live === undefined
      ? { ...report.output.parquet, published: true, path: paths.parquet }
      : { published: false, live }
  return {
    ...report,
    output: {
      run_id: runId,
      parquet,
      rejected: { ...report.output.rejected, path: paths.rejected },
    },
  }
}

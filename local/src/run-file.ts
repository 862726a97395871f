import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { isS3Uri, type S3Location, s3Uri } from '../../lambdas/ingest/src/s3-uri.js'
import type { ByteSource } from '../../shared/src/byte-streams.js'
import { InputError } from '../../shared/src/errors.js'
import { ingest } from '../../shared/src/ingest.js'
import { decodedSource } from '../../shared/src/input-format.js'
import { breachReasons, publishedReport, runCounts } from '../../shared/src/published-report.js'
import { type DqReport, thresholdsFrom } from '../../shared/src/report.js'
import { renderDqReportHtml } from '../../shared/src/report-html.js'
import type { CliOptions } from './args.js'
import { ExitCode, failure, oneLine } from './exit-codes.js'
import { faultAt } from './fault-injection.js'
import { fileSource } from './files.js'
import type { ListingsInput } from './inputs.js'
import { ProgressLine } from './progress.js'
import { RunOutputs } from './publish.js'
import { publishedPaths } from './published-paths.js'
import type { RunContext } from './run-context.js'
import { publishedUris, S3RunOutputs } from './s3-outputs.js'
import { s3Source } from './s3-source.js'
import { childPrefix } from './s3-uri.js'
import { type FileOutcome, summaryLines } from './summary.js'

/**
 * One listings file's run: open its inputs (local or `s3://`), transform
 * them into fresh outputs, publish those with the report (JSON and page),
 * and say how it went: a summary on a terminal, a log line otherwise, and
 * after a breach one line that says what stays live. A failure is undone
 * (nothing half-published) and becomes the file's one error line.
 */

/**
 * Runs one listings file into its output folder; never throws.
 *
 * @param label - the file's place in a batch, for the progress line (`[2/3] day2.csv`)
 * @returns how it ended, and whether the rest of the batch should stop (the lookup is unusable)
 */
export async function runFile(
  context: RunContext,
  input: ListingsInput,
  label: string | undefined,
): Promise<{ outcome: FileOutcome; stopsBatch: boolean }> {
  const prefix =
    context.outPrefix === undefined || input.outputName === undefined
      ? context.outPrefix
      : childPrefix(context.outPrefix, input.outputName)
  const out =
    prefix !== undefined
      ? s3Uri(prefix)
      : input.outputName === undefined
        ? context.out
        : join(context.out, input.outputName)
  try {
    const outcome = await runIngest(context, input.path, out, prefix, label)
    return { outcome, stopsBatch: false }
  } catch (error) {
    // An interrupt is undoing this run and exits when done: its failure is not news.
    if (context.current.stopping) await new Promise<never>(() => undefined)
    await abandon(context.current.outputs)
    const { exitCode, error: line } = failure(error)
    const lookupFailed = error instanceof InputError && error.file === context.lookup
    return { outcome: { listings: input.path, out, exitCode, error: line }, stopsBatch: lookupFailed }
  } finally {
    context.current.outputs = undefined
  }
}

/** Undoes a run's unpublished outputs: at once on disk, by aborting its uploads on S3. */
async function abandon(outputs: RunOutputs | S3RunOutputs | undefined): Promise<void> {
  if (outputs instanceof S3RunOutputs) await outputs.abandon()
  else outputs?.abandonSync()
}

async function runIngest(
  context: RunContext,
  listingsPath: string,
  out: string,
  prefix: S3Location | undefined,
  label: string | undefined,
): Promise<FileOutcome> {
  const { options, logger } = context
  const listings = await openSource(context, listingsPath, 'listings')
  const lookup = await openSource(context, context.lookup, 'lookup')
  // A format the pipeline does not read is diagnosed before any output folder is made.
  await probe(listings)
  await probe(lookup)
  const onCreated = (created: RunOutputs | S3RunOutputs) => {
    context.current.outputs = created
  }
  const paths = prefix === undefined ? publishedPaths(out) : publishedUris(prefix)
  const outputs =
    prefix === undefined
      ? RunOutputs.openSync(out, onCreated)
      : await S3RunOutputs.open(context.s3(), prefix, onCreated)
  const live = outputs.livePath()

  const progress = showProgress(options) ? new ProgressLine(process.stderr, label) : undefined
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
      memoryBudgetBytes: options.memoryBudgetBytes,
      // With a second core, encode Parquet on a worker thread running this same bundle.
      ...(availableParallelism() > 1 ? { parquetWorker: new URL(import.meta.url) } : {}),
      onProgress: (update) => {
        progress?.update(update)
        void faultAt(update.phase)
      },
    })
    progress?.publishing()
  } catch (error) {
    progress?.clear()
    throw error
  }

  const succeeded = report.status === 'succeeded'
  const published = publishedReport(report, {
    runId: outputs.runId,
    parquet: paths.parquet,
    rejected: paths.rejected,
    live,
  })
  let untidy: string | undefined
  try {
    untidy = await outputs.publish(
      Buffer.from(`${JSON.stringify(published, null, 2)}\n`),
      // Links relative to the page, which sits beside dq_report.json.
      Buffer.from(
        renderDqReportHtml(published, { rejected: 'rejected/rejected_rows.csv', report: 'dq_report.json' }),
      ),
      succeeded,
    )
  } finally {
    progress?.clear()
  }
  if (untidy !== undefined) {
    const warning = 'outputs published; tidying up failed, the next run finishes it'
    if (context.human) process.stderr.write(`listings-ingest: warning: ${warning} (${oneLine(untidy)})\n`)
    else logger.warn(warning, { problem: untidy })
  }

  const outcome: FileOutcome = {
    listings: listingsPath,
    out,
    exitCode: succeeded ? ExitCode.ok : ExitCode.thresholdBreached,
    reportPath: paths.report,
    report: published,
  }
  if (context.human)
    process.stderr.write(`${summaryLines({ ...outcome, report: published }, terminalWidth()).join('\n')}\n`)

  const summary = {
    status: report.status,
    listings: listingsPath,
    ...runCounts(report),
    duration_ms: report.timings_ms.total,
    report: paths.report,
    run: outputs.runId,
  }
  if (succeeded) {
    logger.info('ingest succeeded', { ...summary, parquet: paths.parquet })
    return outcome
  }
  // On a terminal the summary above and the line below say it; elsewhere the log line is for machines.
  if (!context.human)
    logger.warn('data-quality threshold breached; parquet not published', {
      ...summary,
      breaches: report.thresholds.breaches,
      live_parquet: live,
    })
  const kept = live === null ? 'no Parquet is published' : `${live} still holds an earlier run's data`
  process.stderr.write(
    `listings-ingest: data-quality threshold breached (${breachReasons(report.thresholds.breaches)}); this run's Parquet not published (${kept}), see ${paths.report}\n`,
  )
  return outcome
}

/** A listings or lookup input, local or `s3://`, decoded (gzip recognised). */
async function openSource(
  context: RunContext,
  path: string,
  role: 'listings' | 'lookup',
): Promise<ByteSource> {
  if (isS3Uri(path)) return s3Source(context.s3(), path, `--${role}`)
  return decodedSource(await fileSource(path, role))
}

/** Reads a source's first chunk, which runs its format checks (see decodedSource), and stops. */
async function probe(source: ByteSource): Promise<void> {
  for await (const _ of source.open()) break
}

function terminalWidth(): number {
  return process.stderr.columns || 80
}

function showProgress(options: CliOptions): boolean {
  return options.progress && !options.quiet && process.stderr.isTTY === true
}

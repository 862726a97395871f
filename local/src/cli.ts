import { availableParallelism } from 'node:os'
import { basename, join } from 'node:path'
import type { S3Client } from '@aws-sdk/client-s3'
import { type ByteSource, type DqReport, InputError, ingest, thresholdsFrom } from '../../shared/src/index.js'
import { decodedSource } from '../../shared/src/input-format.js'
import { renderDqReportHtml } from '../../shared/src/report-html.js'
import { type CliOptions, HELP, parseCliArgs, UsageError } from './args.js'
import { fileSource } from './files.js'
import { asInputError } from './fs-errors.js'
import { expandListings, type ListingsInput } from './inputs.js'
import {
  DEFAULTS,
  defaultExists,
  defaultPath,
  invocationOf,
  PACKAGE_NAME,
  packageVersion,
} from './invocation.js'
import { createLogger } from './logger.js'
import { ProgressLine } from './progress.js'
import { faultAt, type OutputName, publishedPaths, RunOutputs } from './publish.js'
import { publishedUris, S3RunOutputs, s3Source } from './s3-outputs.js'
import { childPrefix, createCliS3Client, isS3Uri, parseS3Uri, type S3Location, s3Uri } from './s3-uri.js'
import {
  batchLine,
  type FileOutcome,
  type PublishedParquet,
  type PublishedReport,
  summaryLines,
  worstExitCode,
} from './summary.js'

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

/** What every file's run of one command shares. */
interface RunContext {
  options: CliOptions
  lookup: string
  /** `--out`: a single file publishes here, several files in folders under it. */
  out: string
  logger: ReturnType<typeof createLogger>
  /** A person reads stderr: plain summaries instead of JSON log lines. */
  human: boolean
  /** `--out` when it is an S3 prefix. */
  outPrefix: S3Location | undefined
  /** The S3 client, made on first use (only a run that names s3:// needs credentials). */
  s3: () => S3Client
  /** The run in progress, for the signal handler; `stopping` once an interrupt is undoing it. */
  current: { outputs?: RunOutputs | S3RunOutputs | undefined; stopping?: boolean }
}

/** Undoes a run's unpublished outputs: at once on disk, by aborting its uploads on S3. */
async function abandon(outputs: RunOutputs | S3RunOutputs | undefined): Promise<void> {
  if (outputs instanceof S3RunOutputs) await outputs.abandon()
  else outputs?.abandonSync()
}

/**
 * Runs the CLI and returns its exit code. Every failure becomes one line on
 * stderr; nothing is thrown. An interrupt (SIGINT, SIGTERM, SIGHUP) removes
 * the current run's unpublished outputs and its lock, prints one line and
 * exits the process at once; one that arrives after the outputs were
 * published lets the run finish. With several listings files, the ones
 * already finished keep their published outputs.
 *
 * @param argv - the arguments after the script name
 */
export async function main(argv: readonly string[]): Promise<number> {
  let options: CliOptions
  try {
    options = parseCliArgs(argv)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    return usageFailure(error.message)
  }
  if (options.help) {
    process.stdout.write(`${HELP}\n`)
    return ExitCode.ok
  }
  if (options.version) {
    process.stdout.write(`${PACKAGE_NAME} ${packageVersion()}\n`)
    return ExitCode.ok
  }

  let context: RunContext
  let inputs: ListingsInput[]
  try {
    const invocation = invocationOf(process.env, process.cwd())
    if (invocation.callerDir !== process.cwd()) {
      try {
        process.chdir(invocation.callerDir)
      } catch (error) {
        throw asInputError(invocation.callerDir, error)
      }
    }
    if (options.listings.length === 0 && !defaultExists(invocation, DEFAULTS.listings))
      throw new UsageError(
        `no --listings given, and no sample ${DEFAULTS.listings} here: name a file, a folder or a quoted pattern`,
      )
    if (options.lookup === undefined && !defaultExists(invocation, DEFAULTS.lookup))
      throw new UsageError(
        `no --lookup given, and no sample ${DEFAULTS.lookup} here: name the category lookup CSV`,
      )
    inputs = expandListings(
      options.listings.length > 0 ? options.listings : [defaultPath(invocation, DEFAULTS.listings)],
    )
    const human = process.stderr.isTTY === true && !options.quiet
    const out = options.out ?? defaultPath(invocation, DEFAULTS.out)
    let client: S3Client | undefined
    context = {
      options,
      lookup: options.lookup ?? defaultPath(invocation, DEFAULTS.lookup),
      out,
      outPrefix: isS3Uri(out) ? parseS3Uri(out, '--out', 'prefix') : undefined,
      s3: () => {
        client ??= createCliS3Client(process.env)
        return client
      },
      logger: createLogger(options.quiet ? 'ERROR' : human ? 'WARN' : 'INFO'),
      human,
      current: {},
    }
  } catch (error) {
    if (error instanceof UsageError) return usageFailure(error.message)
    return failure(error).exitCode
  }

  const { current } = context
  /** A signal that came after the current file's outputs were committed: it ends the run after that file. */
  let pending: keyof typeof INTERRUPTS | undefined
  const interrupted = (signal: keyof typeof INTERRUPTS): number => {
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K')
    process.stderr.write('listings-ingest: interrupted\n')
    return INTERRUPTS[signal]
  }
  const onSignal = (signal: keyof typeof INTERRUPTS) => {
    // Too late to undo: the outputs are published, and what is left (tidying up) takes
    // microseconds. The file's run finishes (0 or 3 for a single file, so a non-zero exit
    // never means "published"); with several files, none is started after it.
    if (current.outputs?.committed) {
      pending ??= signal
      return
    }
    const outputs = current.outputs
    if (outputs instanceof S3RunOutputs) {
      // S3 cannot be undone synchronously: abort the uploads and release the lock, then exit.
      // A second signal while that runs exits at once (the uploads then expire by lifecycle rule).
      if (current.stopping) process.exit(interrupted(signal))
      current.stopping = true
      void outputs.abandon().finally(() => process.exit(interrupted(signal)))
      return
    }
    // Synchronous to the end: the run stops here, in a state RunOutputs can undo.
    outputs?.abandonSync()
    process.exit(interrupted(signal))
  }
  const signals = Object.keys(INTERRUPTS) as (keyof typeof INTERRUPTS)[]
  for (const signal of signals) process.on(signal, onSignal)
  try {
    const outcomes: FileOutcome[] = []
    for (const [i, input] of inputs.entries()) {
      const label = inputs.length > 1 ? `[${i + 1}/${inputs.length}] ${basename(input.path)}` : undefined
      const { outcome, stopsBatch } = await runFile(context, input, label)
      outcomes.push(outcome)
      if (pending !== undefined && i < inputs.length - 1) return interrupted(pending)
      // A lookup that cannot be used fails every file the same way: say it once.
      if (stopsBatch) break
    }
    return finish(context, inputs, outcomes)
  } finally {
    for (const signal of signals) process.off(signal, onSignal)
  }
}

function usageFailure(message: string): number {
  process.stderr.write(`listings-ingest: ${message} (see --help)\n`)
  return ExitCode.badInput
}

/** Prints the one line of a failed run and says how it ends. */
function failure(error: unknown): { exitCode: number; error: string } {
  if (error instanceof InputError) {
    const line = `error: ${oneLine(error.message)}`
    process.stderr.write(`listings-ingest: ${line}\n`)
    return { exitCode: ExitCode.badInput, error: line }
  }
  const message = error instanceof Error ? error.message : String(error)
  const line = `unexpected error: ${oneLine(message)}`
  process.stderr.write(`listings-ingest: ${line}\n`)
  return { exitCode: ExitCode.unexpected, error: line }
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ')
}

/** Runs one listings file into its output folder; never throws. */
async function runFile(
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
  const paths = prefix === undefined ? outputPaths(out) : publishedUris(prefix)
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
  const published = asPublished(report, paths, succeeded ? undefined : live, outputs.runId)
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
    return outcome
  }
  // On a terminal the summary above and the line below say it; elsewhere the log line is for machines.
  if (!context.human)
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

/** After every file: `--json` output, the closing summary of several files, and the exit code. */
function finish(context: RunContext, inputs: readonly ListingsInput[], outcomes: FileOutcome[]): number {
  const exitCode = worstExitCode(outcomes.map((outcome) => outcome.exitCode))
  const single = inputs.length === 1 && inputs[0]?.outputName === undefined
  if (context.options.json) {
    const printed = single
      ? outcomes[0]?.report
      : outcomes.map(({ listings, out, exitCode: code, report, error }) => ({
          listings,
          out,
          exit_code: code,
          ...(report === undefined ? {} : { report }),
          ...(error === undefined ? {} : { error }),
        }))
    if (printed !== undefined) process.stdout.write(`${JSON.stringify(printed, null, 2)}\n`)
  }
  if (single) return exitCode
  const skipped = inputs.length - outcomes.length
  if (context.human) process.stderr.write(`${batchLine(outcomes, skipped, exitCode)}\n`)
  else
    context.logger.info('ingest of several files finished', {
      files: inputs.length,
      exit_code: exitCode,
      not_attempted: inputs.slice(outcomes.length).map((input) => input.path),
      runs: outcomes.map(({ listings, out, exitCode: code }) => ({ listings, out, exit_code: code })),
    })
  return exitCode
}

function terminalWidth(): number {
  return process.stderr.columns || 80
}

function showProgress(options: CliOptions): boolean {
  return options.progress && !options.quiet && process.stderr.isTTY === true
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
): PublishedReport {
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

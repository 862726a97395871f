import { basename } from 'node:path'
import { type CliOptions, HELP, parseCliArgs, UsageError } from './args.js'
import { finish } from './batch-finish.js'
import { ExitCode, failure, usageFailure } from './exit-codes.js'
import type { ListingsInput } from './inputs.js'
import { PACKAGE_NAME, packageVersion } from './invocation.js'
import { createRunContext, type RunContext } from './run-context.js'
import { runFile } from './run-file.js'
import { S3RunOutputs } from './s3-outputs.js'
import type { FileOutcome } from './summary.js'

/**
 * The `listings-ingest` command: parses the arguments, runs each listings
 * file in turn (run-file.ts), handles interrupts, and ends with the
 * command's output and exit code (batch-finish.ts).
 */

/** The signals that interrupt a run, and the exit code each ends it with. */
const INTERRUPTS = {
  SIGINT: ExitCode.interrupted,
  SIGHUP: ExitCode.interrupted,
  SIGTERM: ExitCode.terminated,
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

  let run: { context: RunContext; inputs: ListingsInput[] }
  try {
    run = createRunContext(options)
  } catch (error) {
    if (error instanceof UsageError) return usageFailure(error.message)
    return failure(error).exitCode
  }
  const { context, inputs } = run

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

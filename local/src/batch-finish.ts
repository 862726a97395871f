import type { ListingsInput } from './inputs.js'
import type { RunContext } from './run-context.js'
import { batchLine, type FileOutcome, worstExitCode } from './summary.js'

/**
 * The end of a command, after every file has run: the `--json` output (the
 * report of a single file, or one entry per file of a batch), the closing
 * account of a batch (a line on a terminal, a log line otherwise), and the
 * command's exit code, the worst of its files'.
 */

/**
 * Prints what the command ends with and returns its exit code.
 *
 * @param outcomes - the files run, in order; fewer than `inputs` when the batch stopped early
 */
export function finish(
  context: RunContext,
  inputs: readonly ListingsInput[],
  outcomes: FileOutcome[],
): number {
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

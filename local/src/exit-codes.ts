import { InputError } from '../../shared/src/errors.js'

/**
 * How a CLI run ends: its exit code, and the one line on stderr that says
 * why when it failed. Every failure becomes one such line; nothing is thrown
 * past `main`.
 */

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

/** Prints a usage mistake with a pointer to `--help`; exits {@link ExitCode.badInput}. */
export function usageFailure(message: string): number {
  process.stderr.write(`listings-ingest: ${message} (see --help)\n`)
  return ExitCode.badInput
}

/**
 * Prints the one line of a failed run and says how it ends: bad input
 * (an {@link InputError}) exits 2, anything else 1.
 *
 * @returns the exit code, and the line as printed (without the program name)
 */
export function failure(error: unknown): { exitCode: number; error: string } {
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

/** Text on one line: each line break, with the blanks around it, becomes one space. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ')
}

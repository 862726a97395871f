import { Logger, type LogItem } from '@aws-lambda-powertools/logger'

/**
 * The Powertools logger, writing every level to stderr.
 *
 * Powertools sends info and debug to stdout, as Lambda expects; a CLI keeps
 * stdout for the data it was asked to print (`--json`), so all logs go to
 * stderr as one JSON object per line.
 */
export class StderrLogger extends Logger {
  protected override printLog(_logLevel: number, log: LogItem): void {
    log.prepareForPrint()
    process.stderr.write(`${JSON.stringify(log.getAttributes())}\n`)
  }
}

/**
 * Creates the CLI's logger.
 *
 * @param level - the least severe level logged: ERROR for --quiet, WARN on a
 *   terminal (where a plain summary replaces the info lines), else INFO
 */
export function createLogger(level: 'ERROR' | 'WARN' | 'INFO' = 'INFO'): Logger {
  return new StderrLogger({ serviceName: 'listings-ingest', logLevel: level })
}

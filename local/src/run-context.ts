import type { S3Client } from '@aws-sdk/client-s3'
import { isS3Uri, type S3Location } from '../../lambdas/ingest/src/s3-uri.js'
import { type CliOptions, UsageError } from './args.js'
import { asInputError } from './fs-errors.js'
import { expandListings, type ListingsInput } from './inputs.js'
import { DEFAULTS, defaultExists, defaultPath, invocationOf } from './invocation.js'
import { createLogger } from './logger.js'
import type { RunOutputs } from './publish.js'
import type { S3RunOutputs } from './s3-outputs.js'
import { createCliS3Client, parseS3Uri } from './s3-uri.js'

/**
 * What every listings file's run of one command shares (options, lookup,
 * `--out`, logger, S3 client), worked out once from the options and where
 * the command was run: the sample files stand in for `--listings` and
 * `--lookup` when there are none.
 */

/** What every file's run of one command shares. */
export interface RunContext {
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

/**
 * The context of a command, and the listings files it runs, in order. Runs
 * from the folder the command was started in (`npm run` starts it elsewhere).
 *
 * @throws {UsageError} when no listings or lookup is given and there is no sample to stand in
 * @throws {InputError} when a path cannot be used
 */
export function createRunContext(options: CliOptions): { context: RunContext; inputs: ListingsInput[] } {
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
  const inputs = expandListings(
    options.listings.length > 0 ? options.listings : [defaultPath(invocation, DEFAULTS.listings)],
  )
  const human = process.stderr.isTTY === true && !options.quiet
  const out = options.out ?? defaultPath(invocation, DEFAULTS.out)
  let client: S3Client | undefined
  const context: RunContext = {
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
  return { context, inputs }
}

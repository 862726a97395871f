import { statSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { ConfigurationError } from '../../../lambdas/ingest/src/errors.js'
import { describeWholeNumber, parseWholeNumber, plainDecimal } from '../../../shared/src/setting-values.js'
import { optionalRatio, UsageError } from '../args.js'
import { DEFAULT_LOCAL_S3_PORT, LOCAL_CREDENTIALS } from './local-s3.js'
import { INCOMING_PREFIX, LOOKUP_KEY, PROCESSED_BUCKET, RAW_BUCKET, startLocalPipeline } from './pipeline.js'

/**
 * `npm run local:s3`: keeps a local S3-API server and the pipeline running so
 * a person can drop files with any S3 client and watch them being processed.
 * Ctrl-C stops it and removes its storage.
 *
 * Exit codes: 0 stopped by Ctrl-C/SIGTERM; 2 a bad flag, a missing lookup
 * or a port in use (one line on stderr, nothing left behind); 1 anything else.
 */
const USAGE_ERROR = 2
const PROGRAM = 'local-s3'
/** The ports a server may listen on; 0 asks the system for a free one. */
const PORT_RANGE = { min: 0, max: 65535 }

interface ServeOptions {
  port: number
  lookup: string
  env: Record<string, string>
}

function parseOptions(argv: string[]): ServeOptions {
  let values: Record<string, string | undefined>
  try {
    ;({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        port: { type: 'string', default: String(DEFAULT_LOCAL_S3_PORT) },
        lookup: { type: 'string', default: 'data/category_lookup.csv' },
        'max-rejected-ratio': { type: 'string' },
        'max-unmatched-segment-ratio': { type: 'string' },
      },
    }))
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0])
  }
  const portText = values.port ?? ''
  const port = parseWholeNumber(portText, PORT_RANGE)
  if (port === undefined)
    throw new UsageError(`--port must be ${describeWholeNumber(PORT_RANGE)}, got ${JSON.stringify(portText)}`)
  const lookup = resolve(values.lookup ?? '')
  let isFile = false
  try {
    isFile = statSync(lookup).isFile()
  } catch {
    throw new UsageError(`--lookup ${values.lookup}: no such file`)
  }
  if (!isFile) throw new UsageError(`--lookup ${values.lookup}: not a regular file`)
  // Checked here, so a bad ratio is one line at start rather than a failed execution per upload.
  const env: Record<string, string> = {}
  const maxRejected = optionalRatio('--max-rejected-ratio', values['max-rejected-ratio'])
  if (maxRejected !== undefined) env.MAX_REJECTED_RATIO = plainDecimal(maxRejected)
  const maxUnmatched = optionalRatio('--max-unmatched-segment-ratio', values['max-unmatched-segment-ratio'])
  if (maxUnmatched !== undefined) env.MAX_UNMATCHED_SEGMENT_RATIO = plainDecimal(maxUnmatched)
  return { port, lookup, env }
}

async function serve(options: ServeOptions): Promise<void> {
  const pipeline = await startLocalPipeline(options.lookup, {
    port: options.port,
    env: options.env,
    logLevel: 'INFO',
    onExecution(execution, event) {
      const line = {
        key: event.detail.object.key,
        status: execution.status,
        path: execution.path,
        error: execution.error,
        task_error: execution.taskError,
        notifications: execution.notifications.map((n) => n.subject),
        output: execution.output,
      }
      process.stdout.write(`${JSON.stringify(line)}\n`)
    },
  })
  // Listen for Ctrl-C before telling anyone the server is up.
  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    await pipeline.close()
    process.exit(0)
  }
  process.on('SIGINT', stop).on('SIGTERM', stop)
  const { endpoint } = pipeline.s3
  const credentials = `AWS_ACCESS_KEY_ID=${LOCAL_CREDENTIALS.accessKeyId} AWS_SECRET_ACCESS_KEY=${LOCAL_CREDENTIALS.secretAccessKey} AWS_REGION=us-east-1`
  process.stdout.write(`Local pipeline running (the synthesized ingest state machine, in aws-local-stepfunctions).
  endpoint:    ${endpoint}   (path-style)
  credentials: ${credentials}
  raw bucket:  ${RAW_BUCKET} (drop CSV files under ${INCOMING_PREFIX}; lookup at ${LOOKUP_KEY})
  processed:   ${PROCESSED_BUCKET}
Try, in another shell:
  export ${credentials}
  aws --endpoint-url ${endpoint} s3 cp data/listings.csv s3://${RAW_BUCKET}/${INCOMING_PREFIX}listings.csv
  aws --endpoint-url ${endpoint} s3 ls --recursive s3://${PROCESSED_BUCKET}/
Ctrl-C to stop.
`)
}

let port: number | undefined
try {
  const options = parseOptions(process.argv.slice(2))
  port = options.port
  await serve(options)
} catch (error) {
  const code = (error as { code?: string }).code
  const usage = error instanceof UsageError || error instanceof ConfigurationError || code === 'EADDRINUSE'
  const message =
    code === 'EADDRINUSE'
      ? `port ${port} is already in use (choose another with --port)`
      : String((error as Error).message ?? error).split('\n')[0]
  process.stderr.write(`${PROGRAM}: ${usage ? '' : 'unexpected error: '}${message}\n`)
  process.exit(usage ? USAGE_ERROR : 1)
}

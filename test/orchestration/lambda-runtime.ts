import { execFile, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import type { LambdaFunction } from '../../local/src/s3/lambda-invoke.js'

/**
 * The deployed Lambda, run locally: the bundled asset from a cloud assembly,
 * on the Node major its `Runtime` names (fetched from the npm registry, which
 * serves Node releases as the `node` package), one process per invocation as
 * a cold Lambda would be.
 */

/** The function in a CDK template whose code is a bundled asset of the cloud assembly. */
export interface BundledFunction {
  /** Path of the bundle's entry, `<cdk.out>/asset.<hash>/index.mjs`. */
  entry: string
  /** `Runtime`, e.g. `nodejs24.x`. */
  runtime: string
  /** `Handler`, e.g. `index.handler`. */
  handler: string
  /** The environment variables that are plain strings in the template (references are left out). */
  environment: Record<string, string>
}

/**
 * Finds the function whose `Code.S3Key` is `<hash>.zip` for an `asset.<hash>`
 * folder of `outdir` that holds a bundle.
 *
 * @throws {Error} unless exactly one function is bundled
 */
export function bundledFunction(outdir: string, templateFile: string): BundledFunction {
  const template = JSON.parse(readFileSync(join(outdir, templateFile), 'utf8')) as {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>
  }
  const assets = readdirSync(outdir).filter(
    (name) => name.startsWith('asset.') && existsSync(join(outdir, name, 'index.mjs')),
  )
  const found = Object.values(template.Resources).flatMap((resource) => {
    const key = (resource.Properties?.Code as { S3Key?: unknown } | undefined)?.S3Key
    const asset = assets.find((name) => key === `${name.slice('asset.'.length)}.zip`)
    if (resource.Type !== 'AWS::Lambda::Function' || asset === undefined) return []
    const variables =
      (resource.Properties.Environment as { Variables?: Record<string, unknown> })?.Variables ?? {}
    return [
      {
        entry: join(outdir, asset, 'index.mjs'),
        runtime: String(resource.Properties.Runtime),
        handler: String(resource.Properties.Handler),
        environment: Object.fromEntries(
          Object.entries(variables).filter(
            (entry): entry is [string, string] => typeof entry[1] === 'string',
          ),
        ),
      },
    ]
  })
  if (found.length !== 1 || found[0] === undefined)
    throw new Error(`expected one function with a bundled asset in ${outdir}, found ${found.length}`)
  return found[0]
}

const binaries = new Map<string, Promise<string>>()

/**
 * A Node binary of the major a Lambda runtime names (`nodejs24.x` → 24),
 * fetched once with `npm exec --package=node@<major>` into npm's cache, then
 * run directly. Needs only the npm registry.
 *
 * @throws {Error} for a runtime that is not Node, or when npm cannot fetch it
 */
export function nodeBinaryFor(runtime: string): Promise<string> {
  const major = /^nodejs(\d+)\.x$/.exec(runtime)?.[1]
  if (major === undefined) throw new Error(`not a Node.js Lambda runtime: ${runtime}`)
  let binary = binaries.get(major)
  if (binary === undefined) {
    binary = promisify(execFile)(
      'npm',
      ['exec', '--yes', `--package=node@${major}`, '--', 'node', '-p', 'process.execPath'],
      { timeout: 300_000, env: { ...process.env, npm_config_update_notifier: 'false' } },
    ).then(({ stdout }) => stdout.trim())
    binaries.set(major, binary)
  }
  return binary
}

/** What a Lambda invocation needs besides the payload. */
export interface BundledLambdaOptions {
  node: string
  fn: BundledFunction
  /** Environment on top of the template's plain variables (endpoint, buckets, credentials). */
  env: Record<string, string>
  /** Called with each invocation's stderr (the function's logs). */
  onLogs?: (text: string) => void
}

/**
 * A {@link LambdaFunction} that invokes the bundle in a fresh `node` process:
 * the payload goes in on stdin, the result or the runtime's error document
 * (`errorType`, `errorMessage`, `trace`) comes back on file descriptor 3,
 * logs and EMF metrics go to stdout and stderr as in Lambda.
 */
export function bundledLambda(options: BundledLambdaOptions): LambdaFunction {
  const runner = join(mkdtempSync(join(tmpdir(), 'lambda-runner-')), 'runner.mjs')
  const [file, exported] = options.fn.handler.split('.') as [string, string]
  if (file !== 'index') throw new Error(`unexpected handler ${options.fn.handler}`)
  writeFileSync(runner, RUNNER)
  return (event, context) =>
    new Promise((resolve, reject) => {
      const child = spawn(options.node, [runner, pathToFileURL(options.fn.entry).href, exported], {
        env: {
          PATH: process.env.PATH ?? '',
          ...options.fn.environment,
          AWS_LAMBDA_FUNCTION_NAME: 'local',
          AWS_EXECUTION_ENV: `AWS_Lambda_${options.fn.runtime}`,
          ...options.env,
        },
        stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      })
      const reply: Buffer[] = []
      let logs = ''
      child.stdio[3]?.on('data', (chunk: Buffer) => reply.push(chunk))
      child.stdout?.on('data', (chunk: Buffer) => {
        logs += chunk
      })
      child.stderr?.on('data', (chunk: Buffer) => {
        logs += chunk
      })
      child.on('error', reject)
      child.on('close', (code) => {
        options.onLogs?.(logs)
        const text = Buffer.concat(reply).toString('utf8')
        if (text === '')
          return reject(new Error(`the function process exited ${code} with no reply: ${logs.trim()}`))
        const answer = JSON.parse(text) as { result?: unknown; errorType?: string; errorMessage?: string }
        if (answer.errorType === undefined) return resolve(answer.result)
        const error = new Error(answer.errorMessage)
        error.name = answer.errorType
        reject(error)
      })
      child.stdin?.end(
        JSON.stringify({ event, context: { awsRequestId: context.awsRequestId ?? randomUUID() } }),
      )
    })
}

/** The runtime's side of an invocation, as a file the runtime's `node` runs. */
const RUNNER = `
import { writeSync } from 'node:fs'
const [entry, exported] = process.argv.slice(2)
let input = ''
for await (const chunk of process.stdin) input += chunk
const { event, context } = JSON.parse(input)
let answer
try {
  const module = await import(entry)
  const result = await module[exported](event, { ...context, getRemainingTimeInMillis: () => 900000 })
  answer = { result: result ?? null }
} catch (error) {
  answer = {
    errorType: error?.name ?? 'Error',
    errorMessage: String(error?.message ?? error),
    trace: String(error?.stack ?? '').split('\\n'),
  }
}
writeSync(3, JSON.stringify(answer))
process.exit(0)
`

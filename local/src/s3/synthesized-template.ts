import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

/**
 * The CloudFormation template of the ingest stack exactly as `cdk synth`
 * produces it, and the state-machine definitions in it as plain ASL JSON.
 *
 * The template comes from running the CDK app (`dist/infra-app.mjs`, the
 * `app` of cdk.json) the way the CDK CLI runs it: `CDK_OUTDIR` names the
 * cloud-assembly folder and `CDK_CONTEXT_JSON` carries cdk.json's context.
 * Only asset bundling is skipped (context `aws:cdk:bundling-stacks` = []),
 * which changes the Lambda's code asset and nothing else. Running the app in
 * a child process keeps infra/ (type-checked under its own tsconfig) out of
 * the local code's compilation and works the same from the TypeScript
 * sources and from the bundles in dist/.
 */

/** A CloudFormation template, as far as this module reads it. */
export interface Template {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>
}

/** An ASL state-machine definition. */
export interface AslDefinition {
  StartAt: string
  States: Record<string, AslState>
  TimeoutSeconds?: number
  [field: string]: unknown
}

/** One ASL state, with the fields this project reads typed. */
export interface AslState {
  Type: string
  Resource?: string
  Parameters?: Record<string, unknown>
  Retry?: AslRetrier[]
  Catch?: { ErrorEquals: string[]; Next: string; ResultPath?: string | null }[]
  Next?: string
  End?: boolean
  TimeoutSeconds?: number
  [field: string]: unknown
}

/** One `Retry` entry; absent fields take ASL's defaults. */
export interface AslRetrier {
  ErrorEquals: string[]
  IntervalSeconds?: number
  MaxAttempts?: number
  BackoffRate?: number
  MaxDelaySeconds?: number
  JitterStrategy?: 'FULL' | 'NONE'
}

/** A state machine of the template, resolved. */
export interface SynthesizedStateMachine {
  /** `StateMachineName` as synthesized, e.g. `listings-ingest-ingest`. */
  name: string
  definition: AslDefinition
  /** The longest `Timeout` of the Lambda functions the definition invokes, in seconds. */
  lambdaTimeoutSeconds: number | undefined
}

/** The account, region and partition that placeholder ARNs use. */
export const PLACEHOLDER_ENV = { partition: 'aws', region: 'us-east-1', account: '000000000000' } as const

/** Context the CDK CLI adds to skip asset bundling (NodejsFunction's esbuild run) for every stack. */
const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] }

const memo = new Map<string, Promise<Template>>()

/**
 * Synthesizes the stack as `cdk synth` does (bundling skipped) and returns
 * its template. Cached per process, and on disk under the system temp folder
 * keyed by the app bundle, the lock file and the context, so only a changed
 * stack is synthesized again (a synthesis with cdk-nag takes a few seconds).
 *
 * @param context - extra CDK context, as `-c key=value` would give
 * @throws {Error} with the app's stderr when synthesis fails
 */
export function synthesizedTemplate(context: Record<string, unknown> = {}): Promise<Template> {
  const key = JSON.stringify(context)
  let template = memo.get(key)
  if (template === undefined) {
    template = synthesize(context)
    memo.set(key, template)
    template.catch(() => memo.delete(key))
  }
  return template
}

async function synthesize(extraContext: Record<string, unknown>): Promise<Template> {
  const root = repositoryRoot()
  const app = join(root, 'dist/infra-app.mjs')
  if (!existsSync(app)) throw new Error(`${app} is missing: run npm run build first`)
  const cdkJson = JSON.parse(await readFile(join(root, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>
  }
  const context = { ...cdkJson.context, ...extraContext, ...SKIP_BUNDLING }
  const fingerprint = createHash('sha256')
    .update(await readFile(app))
    .update(await readFile(join(root, 'package-lock.json')))
    .update(JSON.stringify(context))
    .digest('hex')
    .slice(0, 24)
  const cacheDir = join(tmpdir(), 'listings-ingest-synth')
  const cached = join(cacheDir, `${fingerprint}.template.json`)
  const lock = `${cached}.lock`
  await mkdir(cacheDir, { recursive: true })
  // Test files run in parallel processes: one synthesizes, the others wait for its result.
  for (;;) {
    try {
      return JSON.parse(await readFile(cached, 'utf8')) as Template
    } catch {
      // Not synthesized yet for this app and context.
    }
    try {
      await mkdir(lock)
    } catch {
      const age = Date.now() - ((await stat(lock).catch(() => undefined))?.mtimeMs ?? 0)
      if (age > STALE_LOCK_MS) await rm(lock, { recursive: true, force: true })
      else await sleep(250)
      continue
    }
    try {
      const text = await runApp(root, app, context)
      const partial = `${cached}.${process.pid}.tmp`
      await writeFile(partial, text)
      await rename(partial, cached)
      return JSON.parse(text) as Template
    } finally {
      await rm(lock, { recursive: true, force: true })
    }
  }
}

/** A synthesis lock older than this was left by a process that died. */
const STALE_LOCK_MS = 180_000

/** Runs the CDK app as the CDK CLI does and returns the stack's template text. */
async function runApp(root: string, app: string, context: Record<string, unknown>): Promise<string> {
  const outdir = await mkdtemp(join(tmpdir(), 'cdk-synth-'))
  try {
    // The environment the CDK CLI gives the app; no AWS credentials are needed or passed.
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')))
    await promisify(execFile)(process.execPath, [app], {
      cwd: root,
      env: { ...env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify(context) },
      maxBuffer: 64 * 1024 * 1024,
    }).catch((error: { stderr?: string; message: string }) => {
      throw new Error(`cdk synth of ${app} failed: ${error.stderr?.trim() || error.message}`)
    })
    const manifest = await readFile(join(outdir, 'manifest.json'), 'utf8')
    return await readFile(join(outdir, stackTemplateFile(manifest)), 'utf8')
  } finally {
    await rm(outdir, { recursive: true, force: true })
  }
}

/** The template file of the one stack in a cloud assembly's manifest. */
function stackTemplateFile(manifestText: string): string {
  const manifest = JSON.parse(manifestText) as {
    artifacts?: Record<string, { type?: string; properties?: { templateFile?: string } }>
  }
  const stacks = Object.values(manifest.artifacts ?? {}).filter(
    (artifact) => artifact.type === 'aws:cloudformation:stack',
  )
  const file = stacks[0]?.properties?.templateFile
  if (stacks.length !== 1 || file === undefined)
    throw new Error(`expected one stack in the cloud assembly, found ${stacks.length}`)
  return file
}

/**
 * The state machine whose `StateMachineName` ends in `-<suffix>` (the stack
 * names them `<namePrefix>-ingest` and `<namePrefix>-backfill`), with its
 * `DefinitionString` resolved: references become placeholder ARNs and names
 * (see {@link resolveReference}). Logical IDs are never relied on.
 *
 * @throws {Error} when not exactly one state machine matches
 */
export function stateMachineNamed(template: Template, suffix: string): SynthesizedStateMachine {
  const matches = Object.values(template.Resources).filter(
    (resource) =>
      resource.Type === 'AWS::StepFunctions::StateMachine' &&
      String(resource.Properties?.StateMachineName ?? '').endsWith(`-${suffix}`),
  )
  const [machine] = matches
  if (matches.length !== 1 || machine === undefined)
    throw new Error(`expected one state machine named *-${suffix}, found ${matches.length}`)
  const props = machine.Properties ?? {}
  const timeouts = referencedIds(props.DefinitionString)
    .map((id) => template.Resources[id])
    .filter((resource) => resource?.Type === 'AWS::Lambda::Function')
    .map((resource) => Number(resource?.Properties?.Timeout ?? 3))
  return {
    name: String(props.StateMachineName),
    definition: JSON.parse(resolveString(template, props.DefinitionString)) as AslDefinition,
    lambdaTimeoutSeconds: timeouts.length === 0 ? undefined : Math.max(...timeouts),
  }
}

/** Logical IDs that `Ref` or `Fn::GetAtt` name anywhere inside a template expression. */
function referencedIds(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(referencedIds)
  if (typeof value !== 'object' || value === null) return []
  const { Ref: ref, 'Fn::GetAtt': getAtt } = value as { Ref?: unknown; 'Fn::GetAtt'?: unknown }
  if (typeof ref === 'string') return [ref]
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return [getAtt[0]]
  return Object.values(value).flatMap(referencedIds)
}

/** A string-valued template expression (a literal, `Fn::Join`, `Ref`, `Fn::GetAtt`) as text. */
function resolveString(template: Template, value: unknown): string {
  if (typeof value === 'string') return value
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join']
  if (join) return join[1].map((part) => resolveString(template, part)).join(join[0])
  return resolveReference(template, value)
}

/**
 * A placeholder for a `Ref` or `Fn::GetAtt … Arn`, chosen by the referenced
 * resource's type: a Lambda function's ARN, an SNS topic's ARN, an S3
 * bucket's name (`bucket-<logical id, lower case>`), a state machine's ARN,
 * a DynamoDB table's or an Athena workgroup's name, or a pseudo parameter.
 *
 * @throws {Error} for any other reference, so a new one is noticed, not guessed
 */
export function resolveReference(template: Template, reference: unknown): string {
  const { partition, region, account } = PLACEHOLDER_ENV
  const ref = (reference as { Ref?: string }).Ref
  const getAtt = (reference as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt']
  const pseudo: Record<string, string> = {
    'AWS::Partition': partition,
    'AWS::Region': region,
    'AWS::AccountId': account,
    'AWS::URLSuffix': 'amazonaws.com',
  }
  if (ref !== undefined && pseudo[ref] !== undefined) return pseudo[ref]
  const id = ref ?? (getAtt?.[1] === 'Arn' ? getAtt[0] : undefined)
  const resource = id === undefined ? undefined : template.Resources[id]
  const name = (property: string) => String(resource?.Properties?.[property] ?? id)
  switch (resource?.Type) {
    case 'AWS::Lambda::Function':
      return `arn:${partition}:lambda:${region}:${account}:function:${name('FunctionName')}`
    case 'AWS::SNS::Topic':
      return `arn:${partition}:sns:${region}:${account}:${name('TopicName')}`
    case 'AWS::S3::Bucket':
      if (ref !== undefined) return `bucket-${String(id).toLowerCase()}`
      break
    // The current table's rebuild (startExecution.sync:2), its lock table and its workgroup.
    case 'AWS::StepFunctions::StateMachine':
      return `arn:${partition}:states:${region}:${account}:stateMachine:${name('StateMachineName')}`
    case 'AWS::DynamoDB::Table':
      if (ref !== undefined) return name('TableName')
      break
    case 'AWS::Athena::WorkGroup':
      if (ref !== undefined) return name('Name')
      break
  }
  throw new Error(`cannot resolve ${JSON.stringify(reference)} in a state-machine definition`)
}

/**
 * The repository root: the folder above this module holding
 * package-lock.json (from local/src/s3 or from dist/ alike). The same walk
 * as infra/src/paths.ts, which local code cannot import (see the module doc).
 */
function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package-lock.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error('package-lock.json not found above the local S3 runner')
    dir = parent
  }
  return dir
}

/** A Distributed Map's item processor, runnable as an ordinary state machine. */
export interface ItemProcessor {
  /** The processor's states, with the listed bucket's placeholder replaced by `bucket`. */
  definition: AslDefinition
  /** The Map state itself, for assertions on ItemReader, MaxConcurrency and the like. */
  map: AslState
}

/**
 * The `ItemProcessor` of the definition's one Distributed Map, which the
 * interpreter cannot run as a Map: its `ProcessorConfig` dropped, and the
 * bucket that the map's S3 item reader lists (a placeholder after
 * resolution) replaced by `bucket`, so the processor reads the same bucket
 * the local items come from.
 *
 * @throws {Error} when the definition has no or several Distributed Maps
 */
export function distributedMapItemProcessor(definition: AslDefinition, bucket: string): ItemProcessor {
  const maps = Object.values(definition.States).filter(
    (state) =>
      state.Type === 'Map' &&
      (state.ItemProcessor as { ProcessorConfig?: { Mode?: string } } | undefined)?.ProcessorConfig?.Mode ===
        'DISTRIBUTED',
  )
  const [map] = maps
  if (maps.length !== 1 || map === undefined)
    throw new Error(`expected one Distributed Map, found ${maps.length}`)
  const { ProcessorConfig: _config, ...processor } = map.ItemProcessor as AslDefinition
  const listed = (map.ItemReader as { Parameters?: { Bucket?: unknown } } | undefined)?.Parameters?.Bucket
  const text = JSON.stringify(processor)
  return {
    definition: JSON.parse(
      typeof listed === 'string' ? text.replaceAll(JSON.stringify(listed), JSON.stringify(bucket)) : text,
    ) as AslDefinition,
    map,
  }
}

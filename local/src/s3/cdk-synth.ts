import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { repositoryRoot } from '../../../infra/src/paths.js'

/**
 * The CloudFormation template of the ingest stack exactly as `cdk synth`
 * produces it (synthesized-template.ts reads the state machines out of it).
 *
 * The template comes from running the CDK app (`dist/infra-app.mjs`, the
 * `app` of cdk.json) the way the CDK CLI runs it: `CDK_OUTDIR` names the
 * cloud-assembly folder and `CDK_CONTEXT_JSON` carries cdk.json's context.
 * Only asset bundling is skipped (context `aws:cdk:bundling-stacks` = []),
 * which changes the Lambda's code asset and nothing else. Running the app in
 * a child process keeps the CDK app's code (type-checked under infra's own
 * tsconfig) out of the local code's compilation and works the same from the
 * TypeScript sources and from the bundles in dist/.
 */

/** A CloudFormation template, as far as this module reads it. */
export interface Template {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>
}

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

import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { synthesizedTemplate } from '../../local/src/s3/cdk-synth.js'
import { LOCAL_CREDENTIALS } from '../../local/src/s3/local-s3.js'

/**
 * `npm run local:s3` as a person runs it (the built dist/local-s3.mjs, which
 * the test run's global setup builds): bad flags give exit 2 and one line,
 * and nothing is left in the temp folder.
 */

const COMMAND = 'dist/local-s3.mjs'
const running: ChildProcess[] = []
const servers: Server[] = []

afterEach(async () => {
  for (const child of running.splice(0)) child.kill('SIGKILL')
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))))
})

/** Runs the command to its end with its own empty temp folder. */
function run(args: string[]) {
  const temp = mkdtempSync(join(tmpdir(), 'local-s3-command-'))
  const result = spawnSync(process.execPath, [COMMAND, ...args], {
    encoding: 'utf8',
    env: { ...process.env, TMPDIR: temp },
    timeout: 20_000,
  })
  return { ...result, leftover: readdirSync(temp) }
}

describe('npm run local:s3 with bad flags', () => {
  it.each([
    [['--port', '99999'], /^local-s3: --port must be a whole number from 0 to 65535, got "99999"$/],
    [['--port', 'abc'], /^local-s3: --port must be a whole number from 0 to 65535, got "abc"$/],
    [['--port', '0x10'], /^local-s3: --port must be a whole number from 0 to 65535, got "0x10"$/],
    [['--port=-1'], /^local-s3: --port must be a whole number from 0 to 65535, got "-1"$/],
    [['--lookup', 'no/such/lookup.csv'], /^local-s3: --lookup no\/such\/lookup\.csv: no such file$/],
    [['--lookup', 'data'], /^local-s3: --lookup data: not a regular file$/],
    [['--lookup'], /^local-s3: Option '--lookup <value>' argument missing/],
    [['--colour'], /^local-s3: Unknown option '--colour'/],
    [['--max-rejected-ratio', '2'], /^local-s3: --max-rejected-ratio must be a number from 0 to 1, got "2"$/],
    [
      ['--max-rejected-ratio', '1e-1'],
      /^local-s3: --max-rejected-ratio must be a number from 0 to 1, got "1e-1"$/,
    ],
  ])('%j exits 2 with one line and leaves no temp folder', (args, message) => {
    const result = run(args)
    expect(result.status, result.stderr).toBe(2)
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1)
    expect(result.stderr.trim()).toMatch(message)
    expect(result.stdout).toBe('')
    expect(result.leftover).toEqual([])
  })

  it('a port already in use exits 2 with one line and leaves no temp folder', async () => {
    const server = createServer()
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    const temp = mkdtempSync(join(tmpdir(), 'local-s3-command-'))
    const child = spawn(process.execPath, [COMMAND, '--port', String(port)], {
      env: { ...process.env, TMPDIR: temp },
    })
    running.push(child)
    let stderr = ''
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    const code = await new Promise((resolve) => child.on('close', resolve))
    expect(code, stderr).toBe(2)
    expect(stderr).toBe(`local-s3: port ${port} is already in use (choose another with --port)\n`)
    expect(readdirSync(temp)).toEqual([])
  })
})

describe('npm run local:s3', () => {
  beforeAll(async () => {
    await synthesizedTemplate()
  }, 180_000)

  it('prints its endpoint, the local credentials and ready-to-run aws commands; Ctrl-C removes its storage', async () => {
    const temp = mkdtempSync(join(tmpdir(), 'local-s3-command-'))
    // The synthesis cache of this run, so the command needs no cold synthesis of its own.
    cpSync(join(tmpdir(), 'listings-ingest-synth'), join(temp, 'listings-ingest-synth'), { recursive: true })
    const child = spawn(process.execPath, [COMMAND, '--port', '0'], { env: { ...process.env, TMPDIR: temp } })
    running.push(child)
    let stdout = ''
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk) => {
        stdout += chunk
        if (stdout.includes('Ctrl-C to stop.')) resolve()
      })
      child.on('close', (code) => reject(new Error(`exited ${code} before it was ready: ${stdout}`)))
    })
    const endpoint = /endpoint: +(http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1]
    expect(endpoint).toBeDefined()
    expect(stdout).toContain(
      `AWS_ACCESS_KEY_ID=${LOCAL_CREDENTIALS.accessKeyId} AWS_SECRET_ACCESS_KEY=${LOCAL_CREDENTIALS.secretAccessKey}`,
    )
    expect(stdout).toContain(
      `aws --endpoint-url ${endpoint} s3 cp data/listings.csv s3://raw/incoming/listings.csv`,
    )
    expect(readdirSync(temp).filter((name) => name.startsWith('local-s3-'))).toHaveLength(1)
    child.kill('SIGINT')
    expect(await new Promise((resolve) => child.on('close', resolve))).toBe(0)
    expect(readdirSync(temp)).toEqual(['listings-ingest-synth'])
  }, 60_000)
})

import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer, request, type Server } from 'node:http'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type LocalS3, startLocalS3 } from '../../local/src/s3/local-s3.js'
import {
  expectOneLineError,
  HEADER,
  ROOT,
  type Run,
  removeWorkspaces,
  startCli,
  workspace,
} from './run-cli.js'

const BUCKET = 'lake'
const SAMPLE_LISTINGS = readFileSync(join(ROOT, 'data/listings.csv'))
const SAMPLE_LOOKUP = readFileSync(join(ROOT, 'data/category_lookup.csv'))

let s3: LocalS3
beforeAll(async () => {
  s3 = await startLocalS3([BUCKET, 'other'])
  await put('in/listings.csv', SAMPLE_LISTINGS)
  await put('in/listings.csv.gz', gzipSync(SAMPLE_LISTINGS))
  await put('in/lookup.csv', SAMPLE_LOOKUP)
})
afterAll(async () => {
  s3.client.destroy() // its kept-alive sockets would hold the server open
  await s3.close()
  removeWorkspaces()
})
const proxies: Server[] = []
afterEach(async () => {
  for (const server of proxies) server.closeAllConnections()
  await Promise.all(proxies.splice(0).map((server) => new Promise((done) => server.close(done))))
})

async function put(key: string, body: Buffer | string, bucket = BUCKET): Promise<void> {
  await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))
}

async function keysUnder(prefix: string, bucket = BUCKET): Promise<string[]> {
  const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))
  return (listed.Contents ?? []).map((object) => object.Key ?? '').sort()
}

async function body(key: string): Promise<Buffer> {
  const got = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))
  return Buffer.from(
    await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  )
}

async function runIdOf(key: string): Promise<string | undefined> {
  return (await s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))).Metadata?.['run-id']
}

/** Runs the CLI against the local server (or a proxy in front of it), from a scratch folder. */
function ingest(args: string[], endpoint = s3.endpoint, env: Record<string, string> = {}): Promise<Run> {
  return startCli(args, workspace(), { S3_ENDPOINT: endpoint, ...env }).done
}

/** The URI of `key` in the test bucket. */
function inBucket(key: string): string {
  return `s3://${BUCKET}/${key}`
}

/** The flags of a quiet run from the listings at `listingsKey` to the prefix `outPrefix`, both in the test bucket. */
function quietS3Run(listingsKey: string, outPrefix: string): string[] {
  return ['--quiet', '--listings', inBucket(listingsKey), '--out', inBucket(outPrefix)]
}

/** What a run publishes under its prefix, in key order (the HTML page beside the JSON report). */
const PUBLISHED = ['dq_report.html', 'dq_report.json', 'processed/data.parquet', 'rejected/rejected_rows.csv']

interface Report {
  status: string
  source_rows: number
  rows_after_dedup: number
  output: {
    run_id: string
    parquet: { published: boolean; path?: string; live?: string | null; sha256?: string; rows?: number }
    rejected: { path: string; sha256: string }
  }
}

describe('the CLI on s3:// URIs', () => {
  it('reads the listings and lookup from S3 and publishes the three outputs under the --out prefix, each naming the run', async () => {
    const run = await ingest([
      '--listings',
      inBucket('in/listings.csv'),
      '--lookup',
      inBucket('in/lookup.csv'),
      '--out',
      inBucket('runs/a/'),
    ])
    expect(run.status, run.stderr).toBe(0)
    expect(await keysUnder('runs/a/')).toEqual(PUBLISHED.map((name) => `runs/a/${name}`))
    const report = JSON.parse((await body('runs/a/dq_report.json')).toString()) as Report
    expect(report.status).toBe('succeeded')
    expect(report.output.parquet).toMatchObject({
      published: true,
      path: inBucket('runs/a/processed/data.parquet'),
    })
    expect(report.output.rejected.path).toBe(inBucket('runs/a/rejected/rejected_rows.csv'))
    const parquet = await body('runs/a/processed/data.parquet')
    expect(parquet.subarray(0, 4).toString()).toBe('PAR1')
    expect(createHash('sha256').update(parquet).digest('hex')).toBe(report.output.parquet.sha256)
    const rejected = await body('runs/a/rejected/rejected_rows.csv')
    expect(createHash('sha256').update(rejected).digest('hex')).toBe(report.output.rejected.sha256)
    for (const name of PUBLISHED) expect(await runIdOf(`runs/a/${name}`)).toBe(report.output.run_id)
  })

  it('gives the same outputs as the local run of the same files (gzip recognised on S3 too)', async () => {
    const local = await startCli(['--quiet', '--json'], workspace()).done
    const remote = await ingest([
      '--quiet',
      '--json',
      '--listings',
      inBucket('in/listings.csv.gz'),
      '--lookup',
      inBucket('in/lookup.csv'),
      '--out',
      inBucket('runs/gz'),
    ])
    expect(local.status, local.stderr).toBe(0)
    expect(remote.status, remote.stderr).toBe(0)
    const [l, r] = [JSON.parse(local.stdout) as Report, JSON.parse(remote.stdout) as Report]
    expect(r.source_rows).toBe(l.source_rows)
    expect(r.rows_after_dedup).toBe(l.rows_after_dedup)
    expect(r.output.parquet.sha256).toBe(l.output.parquet.sha256)
    expect(r.output.rejected.sha256).toBe(l.output.rejected.sha256)
  })

  it('writes local inputs to S3 and S3 inputs to a local folder', async () => {
    const toLocal = await ingest(['--quiet', '--listings', inBucket('in/listings.csv'), '--out', 'here'])
    expect(toLocal.status, toLocal.stderr).toBe(0)
    expect(readFileSync(join(toLocal.cwd, 'here/processed/data.parquet')).subarray(0, 4).toString()).toBe(
      'PAR1',
    )
    const toS3 = await ingest(['--quiet', '--out', inBucket('runs/from-local')])
    expect(toS3.status, toS3.stderr).toBe(0)
    expect(await keysUnder('runs/from-local/')).toEqual(PUBLISHED.map((name) => `runs/from-local/${name}`))
  })

  it('gives several listings objects a folder each under the prefix', async () => {
    await put('in/second.csv', `${HEADER}\n2024-01-01,s1,UK,Bikes,i1,10\n`)
    const run = await ingest([
      '--quiet',
      '--listings',
      inBucket('in/listings.csv'),
      '--listings',
      inBucket('in/second.csv'),
      '--out',
      inBucket('runs/many/'),
    ])
    expect(run.status, run.stderr).toBe(0)
    expect(await keysUnder('runs/many/')).toEqual([
      ...PUBLISHED.map((name) => `runs/many/listings/${name}`),
      ...PUBLISHED.map((name) => `runs/many/second/${name}`),
    ])
  })

  it('after a breach publishes the report and rejects and keeps the live Parquet (exit 3)', async () => {
    const first = await ingest(['--quiet', '--out', inBucket('runs/breach/')])
    expect(first.status, first.stderr).toBe(0)
    const liveParquet = await body('runs/breach/processed/data.parquet')
    const liveRun = await runIdOf('runs/breach/processed/data.parquet')
    const run = await ingest(['--quiet', '--max-rejected-ratio', '0', '--out', inBucket('runs/breach/')])
    expect(run.status, run.stderr).toBe(3)
    const report = JSON.parse((await body('runs/breach/dq_report.json')).toString()) as Report
    expect(report.output.parquet).toEqual({
      published: false,
      live: inBucket('runs/breach/processed/data.parquet'),
    })
    expect(await body('runs/breach/processed/data.parquet')).toEqual(liveParquet)
    expect(await runIdOf('runs/breach/processed/data.parquet')).toBe(liveRun)
    expect(await runIdOf('runs/breach/rejected/rejected_rows.csv')).toBe(report.output.run_id)
    expect(await keysUnder('runs/breach/')).toEqual(PUBLISHED.map((name) => `runs/breach/${name}`))
  })
})

describe('one run per --out prefix', () => {
  it('refuses a prefix whose lock another run holds, naming it, and touches nothing', async () => {
    const owner = { pid: 4242, host: 'build-01', started_at: '2026-11-29T05:22:30.000Z', run: 'r1' }
    await put('runs/locked/.lock', JSON.stringify(owner))
    const run = await ingest(['--out', inBucket('runs/locked/')])
    expect(run.status).toBe(2)
    expectOneLineError(
      run,
      /^listings-ingest: error: s3:\/\/lake\/runs\/locked\/: another ingest run is writing here \(pid 4242 on build-01, started 2026-11-29T05:22:30\.000Z\); wait for it to finish, or delete s3:\/\/lake\/runs\/locked\/\.lock if that run is gone$/,
    )
    expect(await keysUnder('runs/locked/')).toEqual(['runs/locked/.lock'])
  })

  it('refuses a prefix whose lock is not a lock document (no pid, host and run id), saying it cannot be read', async () => {
    await put('runs/garbled/.lock', JSON.stringify({ run_id: 'r1' }))
    const run = await ingest(['--out', inBucket('runs/garbled/')])
    expect(run.status).toBe(2)
    expectOneLineError(
      run,
      /^listings-ingest: error: s3:\/\/lake\/runs\/garbled\/: another ingest run is writing here \(its lock file cannot be read\); wait for it to finish, or delete s3:\/\/lake\/runs\/garbled\/\.lock if that run is gone$/,
    )
    expect(await keysUnder('runs/garbled/')).toEqual(['runs/garbled/.lock'])
  })

  it('takes the lock with If-None-Match: * and deletes it after publishing', async () => {
    const wire = await recordingProxy()
    const run = await ingest(['--quiet', '--out', inBucket('runs/lock/')], wire.endpoint)
    expect(run.status, run.stderr).toBe(0)
    const lockWrites = wire.requests.filter((r) => r.path.split('?')[0] === '/lake/runs/lock/.lock')
    expect(lockWrites.map((r) => r.method)).toEqual(['GET', 'PUT', 'GET', 'DELETE'])
    expect(lockWrites[1]?.ifNoneMatch).toBe('*')
    expect(await keysUnder('runs/lock/')).not.toContain('runs/lock/.lock')
  })
})

describe('a lock taken by a run that raced this one', () => {
  it('is refused when S3 answers the conditional PUT with 412, as AWS does for an existing key', async () => {
    // s3rver ignores If-None-Match on PUT; the proxy answers as S3 does when another run created the lock first.
    const wire = await recordingProxy((r) =>
      r.method === 'PUT' && r.ifNoneMatch === '*' ? { status: 412, code: 'PreconditionFailed' } : undefined,
    )
    const run = await ingest(['--out', inBucket('runs/raced/')], wire.endpoint)
    expect(run.status).toBe(2)
    expectOneLineError(
      run,
      /^listings-ingest: error: s3:\/\/lake\/runs\/raced\/: another ingest run is writing here; /,
    )
    expect(await keysUnder('runs/raced/')).toEqual([])
    expect(wire.requests.filter((r) => r.method === 'PUT').map((r) => r.path.split('?')[0])).toEqual([
      '/lake/runs/raced/.lock',
    ])
  })
})

describe('a failure mid-upload', () => {
  it('publishes nothing, aborts every multipart upload it started, and releases the lock', async () => {
    await put('in/big.csv', bigRejectedListings())
    const wire = await recordingProxy((r) => r.method === 'PUT' && /[?&]partNumber=/.test(r.path) && 'cut')
    const run = await ingest(quietS3Run('in/big.csv', 'runs/cut/'), wire.endpoint)
    expect(run.status).toBe(1)
    // lib-storage reports its own abort's failure when that fails too, and s3rver has no
    // AbortMultipartUpload (405): on S3 the line ends "the connection to S3 was lost or timed out (ECONNRESET)".
    expectOneLineError(
      run,
      /^listings-ingest: unexpected error: s3:\/\/lake\/runs\/cut\/rejected\/rejected_rows\.csv: (the connection to S3 was lost|MethodNotAllowed)/,
    )
    expect(wire.requests.filter((r) => r.cut).length).toBeGreaterThan(0)
    expect(await keysUnder('runs/cut/')).toEqual([])
    const started = wire.requests.filter((r) => r.method === 'POST' && /[?&]uploads(&|=|$)/.test(r.path))
    expect(started.length).toBeGreaterThan(0)
    const completed = wire.requests.filter((r) => r.method === 'POST' && /[?&]uploadId=/.test(r.path))
    expect(completed).toEqual([])
    const aborted = wire.requests.filter((r) => r.method === 'DELETE' && /[?&]uploadId=/.test(r.path))
    expect(aborted.map((r) => r.path.split('?')[0])).toEqual(started.map((r) => r.path.split('?')[0]))
  }, 60_000)
})

describe('a failure while publishing', () => {
  it("the rejects' upload failing to complete (the first publish step) leaves the previous run whole", async () => {
    const first = await ingest(['--quiet', '--out', inBucket('runs/complete/')])
    expect(first.status, first.stderr).toBe(0)
    const before = await Promise.all(PUBLISHED.map((name) => body(`runs/complete/${name}`)))
    await put('in/big-complete.csv', bigRejectedListings())
    const wire = await recordingProxy((r) => r.method === 'POST' && /[?&]uploadId=/.test(r.path) && 'cut')
    const run = await ingest(quietS3Run('in/big-complete.csv', 'runs/complete/'), wire.endpoint)
    expect(run.status, run.stderr).toBe(1)
    expectOneLineError(
      run,
      /^listings-ingest: unexpected error: s3:\/\/lake\/runs\/complete\/rejected\/rejected_rows\.csv: /,
    )
    expect(wire.requests.filter((r) => r.cut).length).toBeGreaterThan(0)
    expect(await keysUnder('runs/complete/')).toEqual(PUBLISHED.map((name) => `runs/complete/${name}`))
    expect(await Promise.all(PUBLISHED.map((name) => body(`runs/complete/${name}`)))).toEqual(before)
    // Neither the Parquet (a single PUT) nor the report was sent.
    const puts = wire.requests.filter((r) => r.method === 'PUT' && !/[?&]partNumber=/.test(r.path))
    expect(puts.map((r) => r.path.split('?')[0])).toEqual(['/lake/runs/complete/.lock'])
  }, 60_000)
})

describe('an interrupt', () => {
  // Where the signal lands depends on the machine's speed: in the write pass (the run is undone)
  // or after the publish began completing uploads (too late to undo: the run finishes). Either
  // way a non-zero exit means nothing of this run is visible, and the lock is gone.
  it('mid-run: waits for the parts in flight, aborts the uploads, releases the lock, exits 130 publishing nothing; once publishing: finishes', async () => {
    await put('in/big-int.csv', bigRejectedListings())
    const wire = await recordingProxy((r) =>
      r.method === 'PUT' && /[?&]partNumber=/.test(r.path) ? 'slow' : undefined,
    )
    const { child, done } = startCli(quietS3Run('in/big-int.csv', 'runs/int/'), workspace(), {
      S3_ENDPOINT: wire.endpoint,
    })
    await expect
      .poll(() => wire.requests.some((r) => /[?&]partNumber=/.test(r.path)), { timeout: 20_000 })
      .toBe(true)
    child.kill('SIGINT')
    const run = await done
    const started = wire.requests.filter((r) => r.method === 'POST' && /[?&]uploads(&|=|$)/.test(r.path))
    const aborted = wire.requests.filter((r) => r.method === 'DELETE' && /[?&]uploadId=/.test(r.path))
    expect(started.length).toBeGreaterThan(0)
    if (run.status === 0) {
      expect(run.stderr).toBe('')
      expect(await keysUnder('runs/int/')).toEqual(PUBLISHED.map((name) => `runs/int/${name}`))
      expect(aborted).toEqual([])
      return
    }
    expect(run.status).toBe(130)
    expect(run.stderr).toBe('listings-ingest: interrupted\n')
    expect(await keysUnder('runs/int/')).toEqual([])
    expect(aborted.map((r) => r.path.split('?')[0])).toEqual(started.map((r) => r.path.split('?')[0]))
  }, 60_000)
})

describe('errors are one line, exit 2', () => {
  it('the listings replaced during the run (S3 answers the next pinned GET with 412)', async () => {
    await put('in/replaced.csv', SAMPLE_LISTINGS)
    let gets = 0
    // s3rver ignores If-Match; the proxy answers the reads after the first as S3 does once the ETag changed.
    const wire = await recordingProxy((r) => {
      if (r.method !== 'GET' || r.path.split('?')[0] !== '/lake/in/replaced.csv') return undefined
      gets++
      return gets >= 2 ? { status: 412, code: 'PreconditionFailed' } : undefined
    })
    const run = await ingest(quietS3Run('in/replaced.csv', 'runs/replaced/'), wire.endpoint)
    expect(run.status).toBe(2)
    expectOneLineError(
      run,
      /^listings-ingest: error: s3:\/\/lake\/in\/replaced\.csv: the object was replaced while the run read it/,
    )
    expect(await keysUnder('runs/replaced/')).toEqual([])
  })

  it.each([
    [
      'a missing object',
      ['--listings', inBucket('in/nope.csv')],
      /s3:\/\/lake\/in\/nope\.csv: no such object/,
    ],
    [
      'a missing bucket',
      ['--lookup', 's3://no-such-bucket/lookup.csv'],
      /s3:\/\/no-such-bucket\/lookup\.csv: no such object/,
    ],
    [
      'a missing --out bucket',
      ['--out', 's3://no-such-bucket/out/'],
      /s3:\/\/no-such-bucket\/out\/: no such bucket/,
    ],
    [
      'a bad bucket name',
      ['--out', 's3://Bad_Bucket/out/'],
      /--out s3:\/\/Bad_Bucket\/out\/: 'Bad_Bucket' is not a valid bucket name/,
    ],
    ['a prefix as listings', ['--listings', inBucket('in/')], /--listings s3:\/\/lake\/in\/: names a prefix/],
    ['a pattern on S3', ['--listings', inBucket('in/*.csv')], /wildcards need a bucket listing/],
  ])('%s', async (_name, args, pattern) => {
    const run = await ingest(['--quiet', ...args])
    expect(run.status).toBe(2)
    expectOneLineError(run, pattern)
  })

  it('wrong credentials', async () => {
    const run = await ingest(['--listings', inBucket('in/listings.csv')], s3.endpoint, {
      AWS_ACCESS_KEY_ID: 'WRONG',
    })
    expect(run.status).toBe(2)
    expectOneLineError(
      run,
      /s3:\/\/lake\/in\/listings\.csv: (the AWS access key id is not valid|access denied)/,
    )
  })

  it('no credentials at all: one line, quickly, no credential-chain stack', async () => {
    const started = Date.now()
    const run = await startCli(['--listings', inBucket('in/listings.csv')], workspace(), {
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_PROFILE: '',
      AWS_CONFIG_FILE: '/nonexistent',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_REGION: 'eu-west-1',
      S3_ENDPOINT: s3.endpoint,
    }).done
    expect(run.status).toBe(2)
    expectOneLineError(run, /s3:\/\/lake\/in\/listings\.csv: no AWS credentials found/)
    expect(Date.now() - started).toBeLessThan(15_000)
  })

  it('an endpoint nobody listens on', async () => {
    const run = await ingest(['--listings', inBucket('in/listings.csv')], 'http://127.0.0.1:9')
    expect(run.status).toBe(2)
    expectOneLineError(run, /s3:\/\/lake\/in\/listings\.csv: cannot reach S3 \(ECONNREFUSED at S3_ENDPOINT=/)
  })
})

/** 9 MB of rows that are all rejected: the rejects file goes up as a multipart upload (8 MiB parts). */
function bigRejectedListings(): string {
  const row = `2024-01-01,s1,UK,Bikes,${'x'.repeat(200)},-1\n`
  return `${HEADER}\n${row.repeat(Math.ceil(9_000_000 / row.length))}`
}

/** One request as the proxy saw it. */
interface WireRequest {
  method: string
  path: string
  ifNoneMatch: string | undefined
  cut: boolean
}

/**
 * What the proxy does with a request instead of forwarding it: `cut` drops the
 * connection without an answer (the failure a network gives mid-upload),
 * `slow` forwards it a second and a half late (a slow link), a status answers
 * with that status and an S3 error body.
 */
type Interference = 'cut' | 'slow' | { status: number; code: string } | undefined

/**
 * An HTTP proxy in front of the local server that records every request and
 * interferes with those `rule` picks.
 */
async function recordingProxy(
  rule: (request: Omit<WireRequest, 'cut'>) => Interference | boolean = () => undefined,
): Promise<{ endpoint: string; requests: WireRequest[] }> {
  const target = new URL(s3.endpoint)
  const requests: WireRequest[] = []
  const server = createServer((incoming, outgoing) => {
    const seen = {
      method: incoming.method ?? '',
      path: incoming.url ?? '',
      ifNoneMatch: incoming.headers['if-none-match'] as string | undefined,
    }
    const interference = rule(seen)
    const dropped = interference === 'cut' || interference === true
    requests.push({ ...seen, cut: dropped })
    if (dropped) {
      incoming.socket.destroy()
      return
    }
    if (typeof interference === 'object') {
      incoming.resume()
      outgoing.writeHead(interference.status, { 'content-type': 'application/xml' })
      outgoing.end(
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${interference.code}</Code><Message>${interference.code}</Message></Error>`,
      )
      return
    }
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        method: incoming.method,
        path: incoming.url,
        headers: { ...incoming.headers, connection: 'close' },
        agent: false, // no kept-alive sockets to the server, so it can close when the tests end
      },
      (response) => {
        outgoing.writeHead(response.statusCode ?? 502, response.headers)
        response.pipe(outgoing)
      },
    )
    const forward = () => incoming.pipe(upstream)
    upstream.on('error', () => outgoing.destroy())
    // A client gone mid-request must not leave a half-sent request holding the server open.
    outgoing.on('close', () => upstream.destroy())
    if (interference === 'slow') setTimeout(forward, 1_500)
    else forward()
  })
  proxies.push(server)
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('proxy has no port')
  return { endpoint: `http://127.0.0.1:${address.port}`, requests }
}

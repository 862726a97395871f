import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LAMBDA_S3_CALLS, S3_COMMANDS } from '../../lambdas/ingest/src/aws-calls.js'
import { createS3Client } from '../../lambdas/ingest/src/handler.js'
import {
  assertListedS3Command,
  listedCommandsOnly,
  UnlistedS3CommandError,
} from '../../lambdas/ingest/src/listed-s3-commands.js'
import { getSmallObject, S3UploadSink } from '../../lambdas/ingest/src/s3-io.js'
import { type LocalS3, startLocalS3 } from '../../local/src/s3/local-s3.js'

/** Records the name of every command the client sends, after the guard let it through. */
function recordCommands(client: S3Client): string[] {
  const sent: string[] = []
  client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push((context.commandName ?? '').replace(/Command$/, ''))
      return next(args)
    },
    { step: 'initialize', name: 'recordSentCommands', priority: 'low' },
  )
  return sent
}

describe('the table of S3 calls (lambdas/ingest/src/aws-calls.ts)', () => {
  it('places every listed command on at least one target, so the policy test evaluates it', () => {
    const placed = new Set(LAMBDA_S3_CALLS.map((call) => call.command))
    expect([...placed].sort()).toEqual(Object.keys(S3_COMMANDS).sort())
  })

  it('refuses a command it does not list, and a VersionId where it grants no versioned action', () => {
    expect(() => assertListedS3Command('ListObjectsV2Command', {})).toThrow(UnlistedS3CommandError)
    expect(() => assertListedS3Command('DeleteObjectCommand', { VersionId: 'v1' })).toThrow(
      /DeleteObjectCommand with a VersionId/,
    )
    expect(() => assertListedS3Command('GetObjectCommand', { VersionId: 'v1' })).not.toThrow()
  })
})

describe('an S3 client behind the guard, on a local S3 server', () => {
  let s3: LocalS3

  beforeAll(async () => {
    s3 = await startLocalS3(['guarded'])
  })
  afterAll(async () => {
    await s3.close()
  })

  it('fails an unlisted command before it reaches S3', async () => {
    const client = listedCommandsOnly(createS3Client({ S3_ENDPOINT: s3.endpoint }))
    const sent = recordCommands(client)
    await expect(client.send(new ListObjectsV2Command({ Bucket: 'guarded' }))).rejects.toThrow(
      /ListObjectsV2Command is not listed in lambdas\/ingest\/src\/aws-calls.ts/,
    )
    expect(sent).toEqual([])
  })

  it("lets through every command lib-storage's multipart upload and abort send, all of them listed", async () => {
    const client = listedCommandsOnly(createS3Client({ S3_ENDPOINT: s3.endpoint }))
    const sent = recordCommands(client)
    const part = new Uint8Array(1024 * 1024).fill(7)
    const published = new S3UploadSink(client, { bucket: 'guarded', key: 'big.bin', contentType: 'x' }, {})
    for (let i = 0; i < 17; i++) await published.write(part)
    await published.publish()
    const discarded = new S3UploadSink(client, { bucket: 'guarded', key: 'gone.bin', contentType: 'x' }, {})
    for (let i = 0; i < 9; i++) await discarded.write(part)
    await new Promise((resolve) => setTimeout(resolve, 200))
    await discarded.discard()
    expect(await getSmallObject(client, 'guarded', 'gone.bin')).toBeUndefined()

    expect(new Set(sent)).toEqual(
      new Set([
        'CreateMultipartUpload',
        'UploadPart',
        'CompleteMultipartUpload',
        'AbortMultipartUpload',
        'GetObject',
      ]),
    )
    for (const name of sent) expect(Object.keys(S3_COMMANDS)).toContain(name)
  })
})

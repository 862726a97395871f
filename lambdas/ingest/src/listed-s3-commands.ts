/**
 * The Lambda's S3 client sends only the commands the call table lists
 * (`aws-calls.ts`), from which the IAM grants and the policy test are built:
 * an unlisted command would fail in AWS with AccessDenied; here it fails at
 * once, before any request, in every test that runs the code.
 */
import type { S3Client } from '@aws-sdk/client-s3'
import { S3_COMMANDS, type S3CommandGrant } from './aws-calls.js'

/**
 * An S3 command outside {@link S3_COMMANDS}: a programming error. The IAM
 * grants and the policy test cover exactly the commands listed there, so an
 * unlisted one would fail in AWS with AccessDenied; here it fails at once.
 */
export class UnlistedS3CommandError extends Error {
  override readonly name = 'UnlistedS3CommandError'
}

/**
 * Refuses a command not in {@link S3_COMMANDS}, or one naming a `VersionId`
 * where the table grants no versioned action.
 *
 * @param commandName - the SDK's name for it, e.g. `GetObjectCommand`
 * @throws {UnlistedS3CommandError}
 */
export function assertListedS3Command(commandName: string | undefined, input: unknown): void {
  const name = (commandName ?? '').replace(/Command$/, '')
  const grant: S3CommandGrant | undefined = Object.hasOwn(S3_COMMANDS, name)
    ? S3_COMMANDS[name as keyof typeof S3_COMMANDS]
    : undefined
  if (grant === undefined) {
    throw new UnlistedS3CommandError(
      `S3 ${commandName ?? '(unnamed command)'} is not listed in lambdas/ingest/src/aws-calls.ts, so no IAM policy grants it`,
    )
  }
  const versionId = (input as { VersionId?: unknown } | undefined)?.VersionId
  if (versionId !== undefined && grant.versionedAction === undefined) {
    throw new UnlistedS3CommandError(
      `S3 ${commandName} with a VersionId is not listed in lambdas/ingest/src/aws-calls.ts`,
    )
  }
}

const listedOnly = new WeakSet<S3Client>()

/**
 * The client, with a middleware that runs {@link assertListedS3Command}
 * before every command it sends, including the multipart commands
 * `@aws-sdk/lib-storage` sends on its own. Added once per client; every
 * function in this module sends through it.
 */
export function listedCommandsOnly(client: S3Client): S3Client {
  if (!listedOnly.has(client)) {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        assertListedS3Command(context.commandName, args.input)
        return next(args)
      },
      { step: 'initialize', name: 'refuseUnlistedS3Commands', priority: 'high' },
    )
    listedOnly.add(client)
  }
  return client
}

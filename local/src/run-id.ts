import { randomBytes } from 'node:crypto'

/**
 * The id of one run, shared by the local and the S3 outputs: it names the
 * run directory (`out/.runs/<id>`), the lock's owner and, on S3, every
 * object's `x-amz-meta-run-id`.
 */

/** A new run's id: sortable by start time (UTC, to the second), then pid and a random suffix. */
export function newRunId(): string {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
  return `${stamp}-${process.pid}-${randomBytes(3).toString('hex')}`
}

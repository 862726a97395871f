import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import { describe, expect, it } from 'vitest'
import * as errors from '../../lambdas/ingest/src/errors.js'

describe('the errors the state machine tells apart', () => {
  it('keep their names and the retried names when minified, as the function is bundled', async () => {
    const outfile = join(mkdtempSync(join(tmpdir(), 'errors-bundle-')), 'errors.mjs')
    await build({
      entryPoints: ['lambdas/ingest/src/errors.ts'],
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'node',
      outfile,
      logLevel: 'silent',
    })
    const bundled: typeof errors = await import(pathToFileURL(outfile).href)
    expect(bundled.RETRYABLE_ERRORS).toEqual(['TransientError'])
    expect(new bundled.TransientError('x').name).toBe('TransientError')
    expect(new bundled.DataQualityThresholdError('x').name).toBe('DataQualityThresholdError')
    expect(new bundled.InvalidInputError('x').name).toBe('InvalidInputError')
    expect(new bundled.ConfigurationError('x').name).toBe('ConfigurationError')
  })

  it('carry the error that caused them', () => {
    const cause = Object.assign(new Error('slow down'), { name: 'SlowDown' })
    const error = new errors.TransientError('S3 throttled', { cause })
    expect(error.cause).toBe(cause)
    expect(errors.isTransient(new Error('wrapped', { cause }))).toBe(true)
  })

  it('name each class by the literal in ERROR_NAMES', () => {
    expect(new errors.DataQualityThresholdError('x').name).toBe(errors.ERROR_NAMES.dataQuality)
    expect(new errors.InvalidInputError('x').name).toBe(errors.ERROR_NAMES.invalidInput)
    expect(new errors.ConfigurationError('x').name).toBe(errors.ERROR_NAMES.configuration)
    expect(new errors.TransientError('x').name).toBe(errors.ERROR_NAMES.transient)
  })
})

describe('isTransient', () => {
  it('retries throttling, 5xx, and dropped connections', () => {
    expect(errors.isTransient({ name: 'SlowDown', $metadata: { httpStatusCode: 503 } })).toBe(true)
    expect(errors.isTransient({ name: 'InternalError', $metadata: { httpStatusCode: 500 } })).toBe(true)
    expect(errors.isTransient(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(true)
    expect(errors.isTransient(new Error('aborted'))).toBe(true)
    expect(errors.isTransient({ name: 'TimeoutError' })).toBe(true)
  })

  it('does not retry client errors', () => {
    expect(errors.isTransient({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } })).toBe(false)
    expect(errors.isTransient({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } })).toBe(false)
    expect(errors.isTransient(new Error('missing required column'))).toBe(false)
    expect(errors.isTransient(undefined)).toBe(false)
  })
})

import { readFileSync, realpathSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { InputError } from '../../shared/src/index.js'
import { PUBLISHED } from './published-paths.js'

/**
 * Reading an output set the CLI published (`--out <dir>`) as one input of
 * the local current table (current-table.ts): its Parquet, and its source's
 * place in the source order, from the report and the source file itself.
 */

/** One published output set to merge: its Parquet and its source's place in the source order. */
export interface LocalRun {
  /** The Parquet file. */
  parquet: string
  sourceKey: string
  sourceVersion: string
  /** The source's modification time, ISO-8601 UTC. */
  sourceModifiedAt: string
  /** '' locally (no S3 events). */
  sourceSequencer: string
}

/** An output set that contributes nothing, and why. */
export interface SkippedRun {
  dir: string
  reason: string
}

/** The report of {@link readPublishedRun}: only what the merge needs. */
interface RunReport {
  status?: unknown
  input?: { listings?: { name?: unknown; sha256?: unknown; bytes?: unknown } }
  output?: { parquet?: { published?: unknown } }
  started_at?: unknown
}

/**
 * Reads one output set published by the CLI (`--out <dir>`): its report names
 * the source and its SHA-256 (the version), and the source file's mtime gives
 * its place in the source order (the local Last-Modified).
 *
 * @returns the run, or why it contributes nothing (a breach publishes no Parquet)
 * @throws {InputError} when the set cannot be read, or its source is gone or changed since the run
 */
export function readPublishedRun(dir: string): LocalRun | SkippedRun {
  const reportPath = join(dir, PUBLISHED.report)
  let report: RunReport
  try {
    report = JSON.parse(readFileSync(reportPath, 'utf8')) as RunReport
  } catch (error) {
    throw new InputError(reportPath, `not a published output set (${(error as Error).message})`)
  }
  if (report.status !== 'succeeded' || report.output?.parquet?.published !== true) {
    return { dir, reason: `status ${String(report.status)}: no Parquet was published` }
  }
  const { name, sha256, bytes } = report.input?.listings ?? {}
  if (typeof name !== 'string' || typeof sha256 !== 'string' || typeof report.started_at !== 'string') {
    throw new InputError(reportPath, 'the report does not name its source, its SHA-256 and its start time')
  }
  const source = resolve(name)
  let stat: ReturnType<typeof statSync>
  try {
    stat = statSync(source)
  } catch {
    throw new InputError(
      source,
      `the source of ${dir} is gone, so its modification time (its place in the order) is unknown`,
    )
  }
  if (stat.size !== bytes || stat.mtimeMs > Date.parse(report.started_at)) {
    throw new InputError(source, `the source changed after the run that published ${dir}; run it again`)
  }
  return {
    parquet: realpathSync(join(dir, PUBLISHED.parquet)),
    sourceKey: name,
    sourceVersion: sha256,
    sourceModifiedAt: stat.mtime.toISOString(),
    sourceSequencer: '',
  }
}

/** Whether {@link readPublishedRun} found nothing to merge. */
export function isSkipped(run: LocalRun | SkippedRun): run is SkippedRun {
  return 'reason' in run
}

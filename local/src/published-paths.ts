import { join } from 'node:path'

/**
 * Where each output of a run is published: the contract's names, relative to
 * a local `--out` (publish.ts) and under an s3:// prefix (s3-outputs.ts).
 */

/** Where each output is published, relative to `--out` (the contract's names). */
export const PUBLISHED = {
  parquet: join('processed', 'data.parquet'),
  rejected: join('rejected', 'rejected_rows.csv'),
  report: 'dq_report.json',
  /** The same report as a page for people (shared/src/report-html.ts). */
  page: 'dq_report.html',
} as const

/** One of the published outputs. */
export type OutputName = keyof typeof PUBLISHED

/** Every output, in the order of {@link PUBLISHED}. */
export const OUTPUT_NAMES = Object.keys(PUBLISHED) as OutputName[]

/** The published paths under `out`. */
export function publishedPaths(out: string): Record<OutputName, string> {
  return {
    parquet: join(out, PUBLISHED.parquet),
    rejected: join(out, PUBLISHED.rejected),
    report: join(out, PUBLISHED.report),
    page: join(out, PUBLISHED.page),
  }
}

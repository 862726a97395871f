/**
 * What the adapters (the CLI in local/, the Lambda and the large-file task in
 * lambdas/, the bench in scripts/) take from the transform through one
 * import. Anything else is imported from its own module.
 */
export type { ByteSink, ByteSource } from './byte-streams.js'
export type { RejectReason } from './contract.js'
export { bucketOf, REJECT_REASONS } from './contract.js'
export { InputError } from './errors.js'
export type { IngestProgress } from './ingest-options.js'
export { runParquetWorker } from './parquet-worker.js'

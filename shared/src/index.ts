export type { ByteDigest, ByteSink, ByteSource } from './byte-streams.js'
export { DigestingSink, digestingSource, MemorySink } from './byte-streams.js'
export type { Classification, CleanListing, Rejection } from './classify.js'
export { classifyListing, missingValueTest } from './classify.js'
export type { ListingColumn, LookupColumn, RejectBucket, RejectReason } from './contract.js'
export {
  bucketOf,
  LISTING_COLUMNS,
  LOOKUP_COLUMNS,
  REJECT_REASONS,
  REPORT_SCHEMA_VERSION,
} from './contract.js'
export type { CsvRecord, FieldSource, ReadCsvOptions } from './csv-records.js'
export { arrayFields, MAX_RECORD_BYTES, readCsvBatches, readCsvRecords } from './csv-records.js'
export { formatIsoDate, parseIsoDate } from './date.js'
export { LastOccurrenceIndex, RowSet } from './dedup.js'
export { InputError } from './errors.js'
export type { ColumnLayout } from './header.js'
export { headerNames, resolveColumns } from './header.js'
export type { IngestOptions, IngestProgress } from './ingest.js'
export { ingest } from './ingest.js'
export type { CategoryLookup, LookupStats } from './lookup.js'
export { loadCategoryLookup } from './lookup.js'
export type {
  EnrichedListing,
  FooterOptions,
  ListingsParquetOptions,
  ParquetSummary,
  RowGroupColumns,
  RowGroupEncoder,
} from './parquet.js'
export { InThreadEncoder, LISTINGS_PARQUET_SCHEMA, ListingsParquetWriter } from './parquet.js'
export { runParquetWorker, WorkerEncoder } from './parquet-worker.js'
export type { PriceProblem, PriceResult } from './price.js'
export { parsePrice } from './price.js'
export type { RejectedRecord } from './rejects.js'
export { RAW_RECORD_COLUMN, REJECT_COLUMNS, REJECT_META_COLUMNS, RejectedRowsWriter } from './rejects.js'
export type { DqReport, ThresholdBreach, Thresholds, UnmatchedCategory } from './report.js'
export { findBreaches, ratio, thresholdsFrom, topUnmatched } from './report.js'
export { isWhiteSpace, trimWhiteSpace } from './whitespace.js'

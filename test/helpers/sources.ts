import { type ByteSource, MemorySink } from '../../shared/src/byte-streams.js'
import { ingest } from '../../shared/src/ingest.js'
import type { IngestOptions } from '../../shared/src/ingest-options.js'
import type { DqReport } from '../../shared/src/report.js'

/**
 * A {@link ByteSource} over text, cut into chunks of `chunkSize` bytes so
 * tests cross chunk boundaries (inside quotes, CRLF pairs, UTF-8 sequences).
 */
export function textSource(name: string, text: string | Uint8Array, chunkSize = 7): ByteSource {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : Buffer.from(text)
  return {
    name,
    size: bytes.byteLength,
    async *open() {
      for (let offset = 0; offset < bytes.byteLength; offset += chunkSize) {
        yield bytes.subarray(offset, offset + chunkSize)
      }
    },
  }
}

/** The header every listings fixture starts with unless a test says otherwise. */
export const LISTINGS_HEADER = 'date,seller_id,region,category,item_id,price_gbp'

/** A small lookup that covers the categories the fixtures use. */
export const LOOKUP_CSV = 'category,segment\nElectronics,Tech\nFashion,Apparel\nToys,\n'

/** What one in-memory run produced. */
export interface RunResult {
  report: DqReport
  parquet: Buffer
  /** The rejected-rows file decoded as UTF-8 (invalid bytes become U+FFFD). */
  rejectedCsv: string
  /** The rejected-rows file's exact bytes. */
  rejectedBytes: Buffer
}

/** Runs {@link ingest} on CSV text (or bytes) held in memory. */
export async function runOnText(
  listingsCsv: string | Uint8Array,
  lookupCsv: string | Uint8Array = LOOKUP_CSV,
  options: Partial<Omit<IngestOptions, 'listings' | 'lookup' | 'parquet' | 'rejected'>> & {
    chunkSize?: number
  } = {},
): Promise<RunResult> {
  const { chunkSize, ...rest } = options
  const parquet = new MemorySink()
  const rejected = new MemorySink()
  const report = await ingest({
    listings: textSource('listings.csv', listingsCsv, chunkSize),
    lookup: textSource('lookup.csv', lookupCsv, chunkSize),
    parquet,
    rejected,
    ...rest,
  })
  const rejectedBytes = rejected.bytes()
  return { report, parquet: parquet.bytes(), rejectedCsv: rejectedBytes.toString('utf8'), rejectedBytes }
}

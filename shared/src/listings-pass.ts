/**
 * One read of the listings file, as both passes make it: hashed (the second
 * read must match the first), reporting progress, with the header read and
 * the contract's columns found in it.
 */

import { digestingSource } from './byte-streams.js'
import { LISTING_COLUMNS } from './contract.js'
import type { CsvRecord } from './csv-record.js'
import { readCsvBatches } from './csv-records.js'
import { InputError } from './errors.js'
import { headerNames, resolveColumns } from './header.js'
import type { IngestOptions, IngestProgress } from './ingest-options.js'

/**
 * Opens the listings for one pass, with hashing and progress reporting
 * attached, and reads the header.
 */
export async function openListings(options: IngestOptions, phase: IngestProgress['phase']) {
  const { listings, onProgress } = options
  let bytesRead = 0
  const { chunks, digest } = digestingSource(listings.open(), (bytes) => {
    bytesRead += bytes
  })
  const batches = readCsvBatches(listings.name, chunks)
  const first = await batches.next()
  const [header, ...rest] = first.done ? [] : first.value
  if (header === undefined) throw new InputError(listings.name, 'file is empty: expected a header row')
  const names = headerNames(listings.name, header)
  async function* records(): AsyncGenerator<CsvRecord[]> {
    if (rest.length > 0) yield rest
    yield* batches
  }
  return {
    header: names,
    layout: resolveColumns(listings.name, names, LISTING_COLUMNS),
    batches: records(),
    digest,
    report(rows: number) {
      onProgress?.({ phase, bytesRead, totalBytes: listings.size, rows })
    },
  }
}

/** The error for a listings file whose second read differs from its first. */
export function changedError(name: string): InputError {
  return new InputError(name, 'file changed while it was being read; run again once it is complete')
}

/**
 * Bounds shared by every entry point (the CLI's flags and the Lambda's
 * environment), so both accept and refuse exactly the same settings; how
 * their text is read is setting-values.ts's.
 */
import { describeWholeNumber, type NumberRange, parseWholeNumber } from './setting-values.js'

/**
 * The largest number of rows per Parquet row group: 1,048,576 (2^20).
 *
 * A reader decodes a row group as one unit, and the writer buffers a whole
 * row group before encoding it (about 50 bytes of column arrays per row are
 * allocated up front, plus the strings), so the bound is what both ends can
 * hold. 2^20 is Arrow C++'s default `max_row_group_length` (pyarrow writes no
 * larger group unless told to), ten times this pipeline's default, and keeps
 * one group's buffers near 50 MB of arrays. Far larger values (2^31 rows)
 * exhaust the heap before the first row is read.
 */
export const MAX_ROW_GROUP_SIZE = 1_048_576

/** Rows per Parquet row group when none is configured. */
export const DEFAULT_ROW_GROUP_SIZE = 100_000

/** The row-group sizes a setting may ask for: 1 to {@link MAX_ROW_GROUP_SIZE}. */
const ROW_GROUP_SIZE_BOUNDS: NumberRange = { min: 1, max: MAX_ROW_GROUP_SIZE }

/**
 * Reads a row-group size (a flag or a variable), or says why it cannot.
 *
 * @returns the size, or `undefined` when `text` is not a whole number from 1 to {@link MAX_ROW_GROUP_SIZE}
 *   (see setting-values.ts for the accepted forms)
 */
export function parseRowGroupSize(text: string): number | undefined {
  return parseWholeNumber(text, ROW_GROUP_SIZE_BOUNDS)
}

/** What a valid row-group size is, for error messages. */
export const ROW_GROUP_SIZE_RANGE = describeWholeNumber(ROW_GROUP_SIZE_BOUNDS)

/**
 * Bytes a run may hold for its rows when none is configured: 1 GiB. Under
 * it a run takes one pass, buffering every valid row in columns (about 40
 * bytes plus its item id, so about 20 million rows of the benchmark's data);
 * over it, two passes that hold only the dedup index. The Lambda derives its
 * budget from its memory size instead.
 */
export const DEFAULT_MEMORY_BUDGET_BYTES = 1 << 30

/**
 * The share of a runtime's memory a run may plan to spend on buffered rows;
 * the rest is Node itself (about 60 MB), the heap's young generation, read
 * chunks and the Parquet encoder. At 1,769 MB (the Lambda) that is 1,061
 * MB, about 22 million rows of the benchmark's data in one pass.
 */
export const MEMORY_BUDGET_SHARE = 0.6

/**
 * The memory budget for a runtime with `memoryMiB` of memory, such as the
 * Lambda's `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`.
 *
 * @returns bytes, for `IngestOptions.memoryBudgetBytes`
 */
export function memoryBudgetForRuntime(memoryMiB: number): number {
  return Math.floor(memoryMiB * MEMORY_BUDGET_SHARE) * 1_048_576
}

/** The memory budgets a setting may ask for, in MiB: 0 (always two passes) to 1 TiB. */
const MEMORY_BUDGET_MIB_BOUNDS: NumberRange = { min: 0, max: 1_048_576 }

/**
 * Reads a memory budget written as whole MiB (0 forces two passes), or says
 * why it cannot.
 *
 * @returns bytes, or `undefined` when `text` is not a whole number from 0 to 1,048,576
 *   (see setting-values.ts for the accepted forms)
 */
export function parseMemoryBudgetMiB(text: string): number | undefined {
  const mib = parseWholeNumber(text, MEMORY_BUDGET_MIB_BOUNDS)
  return mib === undefined ? undefined : mib * 1_048_576
}

/** What a valid memory budget is, for error messages. */
export const MEMORY_BUDGET_RANGE = describeWholeNumber(MEMORY_BUDGET_MIB_BOUNDS, 'MiB')

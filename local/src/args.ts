import { parseArgs } from 'node:util'
import {
  DEFAULT_MEMORY_BUDGET_BYTES,
  DEFAULT_ROW_GROUP_SIZE,
  MAX_ROW_GROUP_SIZE,
  MEMORY_BUDGET_RANGE,
  parseMemoryBudgetMiB,
  parseRowGroupSize,
  ROW_GROUP_SIZE_RANGE,
} from '../../shared/src/limits.js'
import { isBlank, parseNullMarkers, parseRatio, RATIO_DESCRIPTION } from '../../shared/src/setting-values.js'

/** Options of one CLI run, after validation. */
export interface CliOptions {
  /**
   * Listings to ingest, as given: files, folders (their `*.csv` and
   * `*.csv.gz`) or quoted globs; `--listings` may be repeated.
   * @default [] (the sample, data/listings.csv: see invocation.ts)
   */
  listings: string[]
  /** @default undefined (the sample, data/category_lookup.csv: see invocation.ts) */
  lookup: string | undefined
  /** @default undefined ('out': see invocation.ts) */
  out: string | undefined
  /** Extra values treated as missing. @default [] */
  nullMarkers: string[]
  /** @default undefined (no limit) */
  maxRejectedRatio: number | undefined
  /** @default undefined (no limit) */
  maxUnmatchedSegmentRatio: number | undefined
  /** At most {@link MAX_ROW_GROUP_SIZE}. @default 100000 */
  rowGroupSize: number
  /**
   * Bytes a run may spend buffering rows for one pass; above it the file is
   * read twice. @default DEFAULT_MEMORY_BUDGET_BYTES (1 GiB)
   */
  memoryBudgetBytes: number
  /** Print the report on stdout. @default false */
  json: boolean
  /** Log errors only and show no progress. @default false */
  quiet: boolean
  /** Show progress on a terminal. @default true */
  progress: boolean
  help: boolean
  /** Print the version and exit. @default false */
  version: boolean
}

/** A bad flag or flag value; the CLI exits 2 with this message. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

export const HELP = `Usage: listings-ingest [options]
       npm run ingest -- [options]      (in the repository)

Validates, cleans, deduplicates and enriches marketplace listings, then writes
  <out>/processed/data.parquet   Snappy Parquet, only when the run succeeds
  <out>/rejected/rejected_rows.csv  every rejected row with its line and reason
  <out>/dq_report.json           the data-quality report
  <out>/dq_report.html           the same report as a page to read in a browser

Options:
  --listings <path>       listings CSV, plain or gzip-compressed (recognised by
                          its bytes). To ingest several files, repeat it, name
                          a folder (its *.csv and *.csv.gz files, in name
                          order) or quote a pattern with * or ? in the file
                          name ('exports/*.csv.gz'); each file gets its own
                          outputs in <out>/<file name without .csv/.csv.gz>/
                          (default: data/listings.csv, the sample);
                          or s3://bucket/key, one object per --listings
  --lookup <file>         category lookup CSV, plain or gzip, or
                          s3://bucket/key (default: data/category_lookup.csv,
                          the sample)
  --out <dir>             output directory, or an S3 prefix
                          s3://bucket/prefix/ (default: out)
  --null-values <list>    extra values that count as missing, comma-separated,
                          e.g. "NA,null,N/A"; may be repeated (default: none,
                          only empty values are missing)
  --max-rejected-ratio <r>
                          fail with exit 3 when more than this share (0-1) of
                          source rows is rejected (default: no limit)
  --max-unmatched-segment-ratio <r>
                          fail with exit 3 when more than this share (0-1) of
                          output rows has no segment (default: no limit)
  --row-group-size <n>    rows per Parquet row group, 1 to ${MAX_ROW_GROUP_SIZE}
                          (default: ${DEFAULT_ROW_GROUP_SIZE})
  --memory-budget <MiB>   memory a run may spend buffering rows to read the
                          file once; a larger file is read twice instead
                          (0 always reads twice; default: ${DEFAULT_MEMORY_BUDGET_BYTES / 1_048_576})
  --json                  print the report on stdout (several files: a JSON
                          array of {listings, out, exit_code, report|error})
  --quiet                 print errors only: no progress, summary or logs
  --no-progress           no progress display, even on a terminal
  -V, --version           print the version
  -h, --help              show this help

Relative paths are relative to the folder you run the command from (also
under npm run ingest). The defaults are the sample in the repository; outside
it, give --listings and --lookup.

The three outputs of a run are published together: they are written under
<out>/.runs/<id>/ and made visible at once by one atomic rename of
<out>/.current.
Only one run may write to an <out> at a time (<out>/.lock).
On S3 (default AWS credentials and region; S3_ENDPOINT=http://host:port for
an S3-compatible server) the outputs are uploaded to their keys and become
visible only after the run succeeded: rejects, then Parquet, then the
report last; each object's x-amz-meta-run-id names its run, as the
report's output.run_id does. A failed or interrupted run aborts its uploads.
The lock is the object <prefix>.lock, created with If-None-Match: *.

Exit codes: 0 success; 2 unusable input or arguments; 3 a data-quality
threshold was breached (report and rejects published, Parquet withheld);
130 interrupted by SIGINT or SIGHUP, 143 by SIGTERM (nothing published);
1 anything unexpected. With several files, the worst of their codes
(1 before 2 before 3 before 0); each file's outputs stand on their own.
On a terminal a run ends with a plain summary; otherwise logs are JSON
lines on stderr.`

/**
 * Parses and validates the command line.
 *
 * @param argv - the arguments after the script name
 * @throws {UsageError} on an unknown flag, a missing value or a value out of range
 */
export function parseCliArgs(argv: readonly string[]): CliOptions {
  let values: ReturnType<typeof parse>['values']
  try {
    values = parse(argv).values
  } catch (error) {
    throw new UsageError(parserMessage(error))
  }
  return {
    listings: (values.listings ?? []).map((value) => nonEmpty('--listings', value)),
    lookup: values.lookup === undefined ? undefined : nonEmpty('--lookup', values.lookup),
    out: values.out === undefined ? undefined : nonEmpty('--out', values.out),
    nullMarkers: nullMarkers(values['null-values'] ?? []),
    maxRejectedRatio: optionalRatio('--max-rejected-ratio', values['max-rejected-ratio']),
    maxUnmatchedSegmentRatio: optionalRatio(
      '--max-unmatched-segment-ratio',
      values['max-unmatched-segment-ratio'],
    ),
    rowGroupSize:
      flagValue('--row-group-size', values['row-group-size'], parseRowGroupSize, ROW_GROUP_SIZE_RANGE) ??
      DEFAULT_ROW_GROUP_SIZE,
    memoryBudgetBytes:
      flagValue('--memory-budget', values['memory-budget'], parseMemoryBudgetMiB, MEMORY_BUDGET_RANGE) ??
      DEFAULT_MEMORY_BUDGET_BYTES,
    json: values.json ?? false,
    quiet: values.quiet ?? false,
    progress: !(values['no-progress'] ?? false),
    help: values.help ?? false,
    version: values.version ?? false,
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      listings: { type: 'string', multiple: true },
      lookup: { type: 'string' },
      out: { type: 'string' },
      'null-values': { type: 'string', multiple: true },
      'max-rejected-ratio': { type: 'string' },
      'max-unmatched-segment-ratio': { type: 'string' },
      'row-group-size': { type: 'string' },
      'memory-budget': { type: 'string' },
      json: { type: 'boolean' },
      quiet: { type: 'boolean' },
      'no-progress': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'V' },
    },
  })
}

function nonEmpty(flag: string, value: string): string {
  if (isBlank(value)) throw new UsageError(`${flag} needs a non-empty value`)
  return value
}

/**
 * Reads an optional flag's value with one of the shared setting parsers.
 *
 * @param description - what `parse` accepts, for the message (e.g. `a number from 0 to 1`)
 * @returns the value, or `undefined` when the flag was not given
 * @throws {UsageError} `<flag> must be <description>, got "<text>"`
 */
function flagValue<T>(
  flag: string,
  text: string | undefined,
  parse: (text: string) => T | undefined,
  description: string,
): T | undefined {
  if (text === undefined) return undefined
  const value = parse(text)
  if (value === undefined) throw new UsageError(`${flag} must be ${description}, got ${JSON.stringify(text)}`)
  return value
}

/**
 * Reads an optional ratio flag (`--max-rejected-ratio 0.1`).
 *
 * @throws {UsageError} naming the flag, when the value is not a number from 0 to 1
 */
export function optionalRatio(flag: string, text: string | undefined): number | undefined {
  return flagValue(flag, text, parseRatio, RATIO_DESCRIPTION)
}

/** Every `--null-values` list must name a marker: an empty one is most likely an empty shell variable. */
function nullMarkers(lists: readonly string[]): string[] {
  return lists.flatMap((list) => {
    const markers = parseNullMarkers([list])
    if (markers.length === 0) {
      throw new UsageError(
        `--null-values must name at least one marker (comma-separated), got ${JSON.stringify(list)}`,
      )
    }
    return markers
  })
}

/**
 * One line from a `util.parseArgs` error. A flag given no value (last on the
 * line, or followed by another flag) gets its own plain message: Node's is
 * three lines about "ambiguous" arguments.
 */
function parserMessage(error: unknown): string {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown }
  const text = typeof message === 'string' ? message : String(error)
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const flag = /^Option '(--[\w-]+)/.exec(text)?.[1]
    if (flag !== undefined) return `${flag} needs a value`
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    // Most often an unquoted glob the shell expanded: --listings a.csv b.csv.
    const argument = /'(.*)'/.exec(text)?.[1] ?? ''
    return `unexpected argument '${argument}': to ingest several files repeat --listings, name a folder, or quote a pattern (--listings 'exports/*.csv')`
  }
  return text.split('\n')[0] ?? text
}

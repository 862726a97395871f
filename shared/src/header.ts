import type { CsvRecord } from './csv-record.js'
import { InputError } from './errors.js'
import { trimWhiteSpace } from './whitespace.js'

/** Where each named column sits in a file's rows, resolved from its header. */
export interface ColumnLayout<Name extends string> {
  /** Field index of each required column. */
  index: Record<Name, number>
  /** Header names, trimmed, in file order. */
  names: string[]
  /** Header names that are not required, in file order; their values are ignored. */
  extra: string[]
}

/**
 * Maps a header record onto the columns a file must have.
 *
 * Names are trimmed of `White_Space` (see whitespace.ts); columns may come in
 * any order; extra columns are allowed.
 *
 * @param file - the file's name, for errors
 * @param header - the header record's fields
 * @param required - the columns the file must have
 * @throws {InputError} naming every missing column, or a required column given twice
 */
export function resolveColumns<Name extends string>(
  file: string,
  header: readonly string[],
  required: readonly Name[],
): ColumnLayout<Name> {
  const names = header.map(trimWhiteSpace)
  const missing = required.filter((column) => !names.includes(column))
  if (missing.length > 0) {
    const plural = missing.length > 1 ? 's' : ''
    throw new InputError(
      file,
      `missing required column${plural} ${missing.join(', ')} (header has: ${names.join(', ')})`,
    )
  }
  const repeated = required.filter((column) => names.indexOf(column) !== names.lastIndexOf(column))
  if (repeated.length > 0) {
    throw new InputError(file, `column ${repeated.join(', ')} appears more than once in the header`)
  }
  const index = Object.fromEntries(required.map((column) => [column, names.indexOf(column)]))
  const requiredSet = new Set<string>(required)
  return {
    index: index as Record<Name, number>,
    names,
    extra: names.filter((name) => !requiredSet.has(name)),
  }
}

/**
 * The header record's names, refusing a header that is not valid UTF-8: a
 * name that cannot be decoded cannot be matched or reported faithfully.
 *
 * @param file - the file's name, for errors
 * @param header - the file's first record
 * @throws {InputError} naming the line and the first column at fault
 */
export function headerNames(file: string, header: CsvRecord): string[] {
  for (let column = 0; column < header.fieldCount; column++) {
    if (!header.fieldIsValidUtf8(column)) {
      throw new InputError(file, `line ${header.line}: the header is not valid UTF-8 (column ${column + 1})`)
    }
  }
  return header.fields
}

/**
 * Input that cannot be processed at all: a missing file, a missing required
 * column, malformed CSV, a conflicting lookup. The CLI maps it to exit code 2
 * and prints {@link InputError.message} as its one line on stderr.
 */
export class InputError extends Error {
  override readonly name = 'InputError'

  /**
   * @param file - the file the problem is in, as the user named it
   * @param problem - what is wrong, in words a user can act on
   */
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`)
  }
}

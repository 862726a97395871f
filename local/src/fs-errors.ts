import { InputError } from '../../shared/src/index.js'

/**
 * What each file-system error code means, in words a user can act on. Every
 * code listed here is a problem with a path the user gave (exit 2); any other
 * code is unexpected (exit 1).
 */
const PROBLEMS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory, not a file',
  ENOTDIR: 'a parent of this path is not a directory',
  EEXIST: 'already exists and is in the way',
  ELOOP: 'too many levels of symbolic links (a symlink loop?)',
  ENAMETOOLONG: 'file name too long',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EMLINK: 'too many links in the parent directory',
  ENXIO: 'no such device or address',
  ENODEV: 'no such device',
  EINVAL: 'not a valid path here',
  EFBIG: 'file too large for this file system',
}

/** The error code of a Node file-system error, if it is one. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | null | undefined)?.code
  return typeof code === 'string' ? code : undefined
}

/**
 * Turns a file-system error into a one-line {@link InputError} naming `path`;
 * returns other errors unchanged.
 *
 * @param path - the path as the user would recognise it
 */
export function asInputError(path: string, error: unknown): unknown {
  if (error instanceof InputError) return error
  const code = errorCode(error)
  const problem = code === undefined ? undefined : PROBLEMS[code]
  return problem === undefined ? error : new InputError(path, problem)
}

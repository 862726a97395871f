import { randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { type FileHandle, mkdir, open, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { type ByteSink, type ByteSource, InputError } from '../../shared/src/index.js'

/**
 * Opens a local file as a {@link ByteSource}, checking first that it exists
 * and is a regular file so the user gets a clear error instead of a stack.
 *
 * @param path - the path as the user gave it
 * @throws {InputError} when the file is missing, unreadable or not a file
 */
export async function fileSource(path: string): Promise<ByteSource> {
  let size: number
  try {
    const info = await stat(path)
    if (!info.isFile()) throw new InputError(path, 'not a regular file')
    size = info.size
    // Opening now surfaces a permission problem before any work starts.
    await (await open(path, 'r')).close()
  } catch (error) {
    throw asInputError(path, error)
  }
  return {
    name: path,
    size,
    open: () => createReadStream(path, { highWaterMark: 1 << 20 }),
  }
}

/**
 * An output written under a temporary name beside its final path and renamed
 * into place only by {@link AtomicFile.publish}, so readers never see a
 * partial file and a failed run leaves the previous output untouched.
 */
export class AtomicFile implements ByteSink {
  readonly path: string
  readonly #tempPath: string
  readonly #handle: FileHandle

  private constructor(path: string, tempPath: string, handle: FileHandle) {
    this.path = path
    this.#tempPath = tempPath
    this.#handle = handle
  }

  /**
   * Creates the temporary file (and any missing parent directories).
   *
   * @param path - where the file is published
   */
  static async create(path: string): Promise<AtomicFile> {
    const tempPath = join(
      dirname(path),
      `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
    )
    try {
      await mkdir(dirname(path), { recursive: true })
      return new AtomicFile(path, tempPath, await open(tempPath, 'wx'))
    } catch (error) {
      throw asInputError(dirname(path), error)
    }
  }

  async write(chunk: Uint8Array): Promise<void> {
    let offset = 0
    while (offset < chunk.byteLength) {
      const { bytesWritten } = await this.#handle.write(chunk, offset)
      offset += bytesWritten
    }
  }

  /** Flushes to disk and renames the file into place. */
  async publish(): Promise<void> {
    await this.#handle.sync()
    await this.#handle.close()
    await rename(this.#tempPath, this.path)
  }

  /** Removes the temporary file; the published path is left as it was. */
  async discard(): Promise<void> {
    await this.#handle.close().catch(() => undefined)
    await rm(this.#tempPath, { force: true })
  }
}

/** Turns a file-system error into a one-line {@link InputError}. */
function asInputError(path: string, error: unknown): unknown {
  if (error instanceof InputError) return error
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  const problems: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EISDIR: 'is a directory, not a file',
    ENOTDIR: 'a parent of this path is not a directory',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on device',
  }
  const problem = code === undefined ? undefined : problems[code]
  return problem === undefined ? error : new InputError(path, problem)
}

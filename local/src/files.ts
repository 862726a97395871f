import { close as closeFd, closeSync, createReadStream, fsync, openSync, write as writeFd } from 'node:fs'
import { stat } from 'node:fs/promises'
import { promisify } from 'node:util'
import { type ByteSink, type ByteSource, InputError } from '../../shared/src/index.js'
import { asInputError } from './fs-errors.js'

const writeAsync = promisify(writeFd)
const fsyncAsync = promisify(fsync)
const closeAsync = promisify(closeFd)

/**
 * Opens a local file as a {@link ByteSource}, checking first that it exists
 * and is a regular file so the user gets a clear error instead of a stack.
 *
 * Only a regular file will do: the ingest reads the listings twice (once to
 * classify, once to write), and a pipe, FIFO or terminal cannot be read again.
 * Opening a FIFO would also block until a writer appears, so its type is
 * checked before it is opened.
 *
 * @param path - the path as the user gave it
 * @throws {InputError} when the file is missing, unreadable or not a regular file
 */
export async function fileSource(path: string): Promise<ByteSource> {
  let size: number
  try {
    const info = await stat(path)
    if (!info.isFile()) throw new InputError(path, notAFile(info))
    size = info.size
    // Opening now surfaces a permission problem before any work starts.
    closeSync(openSync(path, 'r'))
  } catch (error) {
    throw asInputError(path, error)
  }
  return {
    name: path,
    size,
    open: () => createReadStream(path, { highWaterMark: 1 << 20 }),
  }
}

function notAFile(info: Awaited<ReturnType<typeof stat>>): string {
  if (info.isDirectory()) return 'is a directory, not a file'
  if (info.isFIFO()) return 'is a named pipe; the listings are read twice, so give a regular file'
  if (info.isSocket()) return 'is a socket; the listings are read twice, so give a regular file'
  if (info.isCharacterDevice())
    return 'is a device or terminal; the listings are read twice, so give a regular file'
  return 'not a regular file'
}

/**
 * One output file of a run, written in the run's private directory (see
 * `RunOutputs`), so it needs no temporary name of its own: nothing reads it
 * until the whole run directory is published.
 */
export class OutputFile implements ByteSink {
  readonly path: string
  #fd: number | undefined

  private constructor(path: string, fd: number) {
    this.path = path
    this.#fd = fd
  }

  /**
   * Creates the file; it must not exist yet. Synchronous so that a signal
   * handler always knows which files exist.
   *
   * @param path - where the file is created
   */
  static createSync(path: string): OutputFile {
    try {
      return new OutputFile(path, openSync(path, 'wx'))
    } catch (error) {
      throw asInputError(path, error)
    }
  }

  async write(chunk: Uint8Array): Promise<void> {
    const fd = this.#open()
    let offset = 0
    while (offset < chunk.byteLength) {
      offset += (await writeAsync(fd, chunk, offset, chunk.byteLength - offset, null)).bytesWritten
    }
  }

  /** Flushes the file to disk and closes it. */
  async finish(): Promise<void> {
    const fd = this.#open()
    await fsyncAsync(fd)
    this.#fd = undefined
    await closeAsync(fd)
  }

  /** Closes the file without flushing it, if it is still open. */
  closeSync(): void {
    if (this.#fd === undefined) return
    const fd = this.#fd
    this.#fd = undefined
    try {
      closeSync(fd)
    } catch {
      // Already closed: nothing to release.
    }
  }

  #open(): number {
    if (this.#fd === undefined) throw new Error(`${this.path} is already closed`)
    return this.#fd
  }
}

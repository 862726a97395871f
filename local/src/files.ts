import { close as closeFd, closeSync, createReadStream, fsync, openSync, write as writeFd } from 'node:fs'
import { stat } from 'node:fs/promises'
import { promisify } from 'node:util'
import { type ByteSink, type ByteSource, InputError } from '../../shared/src/index.js'
import { asInputError } from './fs-errors.js'

const writeAsync = promisify(writeFd)
const fsyncAsync = promisify(fsync)
const closeAsync = promisify(closeFd)

/** Which input a file is, for messages: the listings are read twice, the lookup once per listings file. */
export type InputRole = 'listings' | 'lookup'

const READ_MORE_THAN_ONCE: Record<InputRole, string> = {
  listings: 'the listings are read twice (to check, then to write)',
  lookup: 'the lookup is read once for every listings file',
}

/**
 * Opens a local file as a {@link ByteSource}, checking first that it exists
 * and is a regular file so the user gets a clear error instead of a stack.
 *
 * Only a regular file will do: the ingest reads the listings twice (once to
 * classify, once to write), and a pipe, FIFO, socket or terminal can be read
 * only once. Opening a FIFO would also block until a writer appears, so its
 * type is checked before it is opened.
 *
 * @param path - the path as the user gave it
 * @param role - which input it is, for the message refusing a pipe
 * @throws {InputError} when the file is missing, unreadable or not a regular file
 */
export async function fileSource(path: string, role: InputRole = 'listings'): Promise<ByteSource> {
  let size: number
  try {
    const info = await stat(path)
    if (!info.isFile()) throw new InputError(path, notAFile(info, role))
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

function notAFile(info: Awaited<ReturnType<typeof stat>>, role: InputRole): string {
  if (info.isDirectory()) return 'is a directory, not a file'
  const kind = info.isFIFO()
    ? 'a pipe'
    : info.isSocket()
      ? 'a socket'
      : info.isCharacterDevice()
        ? 'a terminal or device'
        : undefined
  if (kind === undefined) return 'not a regular file'
  return `is ${kind}, which can be read only once, but ${READ_MORE_THAN_ONCE[role]}: save the data to a file first and give its path`
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

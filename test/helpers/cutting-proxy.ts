import { connect, createServer, type Socket } from 'node:net'

/** A TCP proxy on 127.0.0.1 that can drop connections mid-response. */
export interface CuttingProxy {
  endpoint: string
  /**
   * From now on, cut any connection once more than `bytes` have flowed back
   * to the client on it; `undefined` stops cutting.
   */
  cutAfter(bytes: number | undefined): void
  /** How many connections were cut so far. */
  readonly cuts: number
  close(): Promise<void>
}

/**
 * Starts a proxy in front of `127.0.0.1:<targetPort()>`; the port is asked
 * for on each connection, so the proxy can start before its target.
 */
export async function startCuttingProxy(targetPort: () => number): Promise<CuttingProxy> {
  let limit: number | undefined
  let cuts = 0
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    const upstream = connect(targetPort(), '127.0.0.1')
    sockets.add(client).add(upstream)
    let returned = 0
    client.on('data', (chunk) => upstream.write(chunk))
    upstream.on('data', (chunk: Buffer) => {
      returned += chunk.byteLength
      if (limit !== undefined && returned > limit) {
        cuts++
        client.write(chunk.subarray(0, Math.max(0, chunk.byteLength - (returned - limit))))
        client.destroy()
        upstream.destroy()
        return
      }
      client.write(chunk)
    })
    const closeBoth = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('close', closeBoth).on('error', closeBoth)
    upstream.on('close', closeBoth).on('error', closeBoth)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('proxy has no port')
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    cutAfter(bytes) {
      limit = bytes
    },
    get cuts() {
      return cuts
    },
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

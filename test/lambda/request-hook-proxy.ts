import { createServer, request } from 'node:http'

/** An HTTP proxy on 127.0.0.1 that can act just before it forwards a request. */
export interface RequestHookProxy {
  endpoint: string
  close(): Promise<void>
}

/**
 * Starts a proxy in front of `http://127.0.0.1:<targetPort()>` that awaits
 * `beforeForward(method, path)` before forwarding each request, so a test can
 * change the server's state at an exact point of the handler's conversation
 * (say, delete the source object just before its second read).
 */
export async function startRequestHookProxy(
  targetPort: () => number,
  beforeForward: (method: string, path: string) => Promise<void>,
): Promise<RequestHookProxy> {
  const server = createServer((incoming, outgoing) => {
    const body: Buffer[] = []
    incoming.on('data', (chunk: Buffer) => body.push(chunk))
    incoming.on('end', () => {
      beforeForward(incoming.method ?? 'GET', incoming.url ?? '/')
        .then(() => {
          const upstream = request(
            {
              host: '127.0.0.1',
              port: targetPort(),
              method: incoming.method,
              path: incoming.url,
              headers: incoming.headers,
            },
            (response) => {
              outgoing.writeHead(response.statusCode ?? 502, response.headers)
              response.pipe(outgoing)
            },
          )
          upstream.on('error', () => outgoing.destroy())
          upstream.end(Buffer.concat(body))
        })
        .catch(() => outgoing.destroy())
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('proxy has no port')
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

import { describe, expect, it } from 'vitest'
import { polyfillPromiseWithResolvers } from '../../local/src/s3/promise-with-resolvers.js'

type WithResolvers = () => { promise: Promise<unknown>; resolve: (value: unknown) => void }

describe('polyfillPromiseWithResolvers', () => {
  it('installs a working Promise.withResolvers where the runtime has none', async () => {
    const promise = Promise as unknown as { withResolvers?: WithResolvers }
    const native = promise.withResolvers
    delete promise.withResolvers
    try {
      polyfillPromiseWithResolvers()
      const installed = (Promise as unknown as { withResolvers?: WithResolvers }).withResolvers
      expect(installed).toBeTypeOf('function')
      const created = installed?.()
      created?.resolve(42)
      expect(await created?.promise).toBe(42)
    } finally {
      if (native === undefined) delete promise.withResolvers
      else promise.withResolvers = native
    }
  })
})

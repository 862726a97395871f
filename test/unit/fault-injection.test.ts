import { describe, expect, it } from 'vitest'
import { FAULT_POINTS, faultAt, parseFault } from '../../local/src/fault-injection.js'

describe('LISTINGS_INGEST_FAULT', () => {
  it('is <point>:<action>', () => {
    expect(parseFault('commit:crash')).toEqual({ point: 'commit', action: 'crash' })
    expect(parseFault('write:SIGTERM')).toEqual({ point: 'write', action: 'SIGTERM' })
  })

  it('unset or empty injects nothing, and every fault point is then a no-op', () => {
    expect(parseFault(undefined)).toBeUndefined()
    expect(parseFault('')).toBeUndefined()
    expect(process.env.LISTINGS_INGEST_FAULT ?? '').toBe('')
    for (const point of FAULT_POINTS) expect(faultAt(point)).toBeUndefined()
  })

  it.each(['commit', 'nowhere:crash', 'commit:explode', ':'])('refuses %j', (text) => {
    expect(() => parseFault(text)).toThrow(
      `LISTINGS_INGEST_FAULT must be <point>:<action>, got ${JSON.stringify(text)}`,
    )
  })
})

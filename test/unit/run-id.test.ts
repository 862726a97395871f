import { describe, expect, it } from 'vitest'
import { newRunId } from '../../local/src/run-id.js'

describe('a run id', () => {
  it('is the UTC start to the second, the pid and a random suffix', () => {
    expect(newRunId()).toMatch(new RegExp(`^\\d{8}T\\d{6}Z-${process.pid}-[0-9a-f]{6}$`))
  })

  it('differs between two runs started in the same second', () => {
    expect(newRunId()).not.toBe(newRunId())
  })
})

import { describe, expect, it } from 'vitest'
import {
  DEFAULT_MEMORY_BUDGET_BYTES,
  memoryBudgetForRuntime,
  parseMemoryBudgetMiB,
} from '../../shared/src/limits.js'

describe('the memory budget', () => {
  it('is 1 GiB by default', () => {
    expect(DEFAULT_MEMORY_BUDGET_BYTES).toBe(1_073_741_824)
  })

  it('is 60% of a runtime’s memory: 1,061 MiB for the 1,769 MB Lambda', () => {
    expect(memoryBudgetForRuntime(1769)).toBe(1061 * 1_048_576)
    expect(memoryBudgetForRuntime(128)).toBe(76 * 1_048_576)
  })

  it('reads whole MiB from a flag, 0 (two passes) included, and refuses anything else', () => {
    expect(parseMemoryBudgetMiB('512')).toBe(512 * 1_048_576)
    expect(parseMemoryBudgetMiB('0')).toBe(0)
    for (const bad of ['', ' ', '-1', '+1', '1.5', '1e3', '0x10', '512MB', '1048577']) {
      expect(parseMemoryBudgetMiB(bad), bad).toBeUndefined()
    }
  })

  it('ignores White_Space around the number, as every setting does (setting-values.ts)', () => {
    expect(parseMemoryBudgetMiB(' 5')).toBe(5 * 1_048_576)
    expect(parseMemoryBudgetMiB('\u00a05\u3000')).toBe(5 * 1_048_576)
  })
})

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const made: string[] = []

/** A new empty `--out` holding the output folders a run makes first; removed by {@link removeScratchOuts}. */
export function scratchOut(): string {
  const out = mkdtempSync(join(tmpdir(), 'scratch-out-'))
  made.push(out)
  mkdirSync(join(out, 'processed'))
  mkdirSync(join(out, 'rejected'))
  return out
}

/** Removes every directory {@link scratchOut} made (call from afterAll). */
export function removeScratchOuts(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
}

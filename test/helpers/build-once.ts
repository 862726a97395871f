import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * Global set-up of every test run:
 * - builds dist/ once, so CLI tests exercise the real compiled command;
 * - points TMPDIR at one fresh folder that is removed when the run ends, so
 *   the temporary files and folders tests make (and anything the programs
 *   under test leave) never pile up in the machine's temp directory.
 *
 * @returns the teardown vitest calls after the last test
 */
export default function setup(): () => void {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' })
  const runTemp = mkdtempSync(join(tmpdir(), 'listings-ingest-tests-'))
  process.env.TMPDIR = runTemp
  return () => rmSync(runTemp, { recursive: true, force: true })
}

import { execFileSync } from 'node:child_process'

/** Builds dist/ once per test run, so CLI tests exercise the real compiled command. */
export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' })
}

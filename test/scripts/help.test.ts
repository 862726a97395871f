import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'

/** The repository's own commands besides the CLI; dist/ is built by the global setup. */
const COMMANDS = [
  { name: 'generate-listings', args: ['scripts/generate-listings.mjs'] },
  { name: 'bench', args: ['dist/bench.mjs'] },
  { name: 'slides', args: ['dist/deck.mjs'] },
] as const

function run(args: readonly string[]) {
  return spawnSync(process.execPath, [...args], { encoding: 'utf8', timeout: 20_000 })
}

describe('every script explains itself and refuses bad flags in one line', () => {
  for (const command of COMMANDS) {
    it(`${command.name} --help prints its usage and exits 0`, () => {
      const result = run([...command.args, '--help'])
      expect(result.status).toBe(0)
      expect(result.stdout).toMatch(/^Usage: /)
      expect(result.stderr).toBe('')
    })
  }

  for (const command of COMMANDS.filter((c) => c.name !== 'slides')) {
    it(`${command.name} with an unknown flag exits 2 with one line, no stack trace`, () => {
      const result = run([...command.args, '--no-such-flag'])
      expect(result.status).toBe(2)
      expect(result.stderr.trim().split('\n')).toHaveLength(1)
      expect(result.stderr).toContain("'--no-such-flag'")
      expect(result.stderr).not.toMatch(/\n\s+at /)
    })
  }
})

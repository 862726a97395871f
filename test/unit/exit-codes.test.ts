import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest'
import { ExitCode, failure, oneLine, usageFailure } from '../../local/src/exit-codes.js'
import { InputError } from '../../shared/src/errors.js'

let stderr: MockInstance<typeof process.stderr.write>
beforeEach(() => {
  stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
})
afterEach(() => {
  stderr.mockRestore()
})

/** What was written to stderr. */
const written = () => stderr.mock.calls.map(([text]) => String(text)).join('')

describe('how a failed CLI run ends', () => {
  it('bad input: exit 2 and one line naming the file and the problem', () => {
    const result = failure(new InputError('data/listings.csv', 'missing required column\n  price_gbp'))
    expect(result).toEqual({
      exitCode: ExitCode.badInput,
      error: 'error: data/listings.csv: missing required column price_gbp',
    })
    expect(written()).toBe('listings-ingest: error: data/listings.csv: missing required column price_gbp\n')
  })

  it('anything else: exit 1 and one line saying it was unexpected', () => {
    expect(failure(new TypeError('a bug'))).toEqual({ exitCode: 1, error: 'unexpected error: a bug' })
    expect(failure('thrown text')).toEqual({ exitCode: 1, error: 'unexpected error: thrown text' })
    expect(written()).toBe(
      'listings-ingest: unexpected error: a bug\nlistings-ingest: unexpected error: thrown text\n',
    )
  })

  it('a usage mistake: exit 2, pointing to --help', () => {
    expect(usageFailure('unknown option --bogus')).toBe(2)
    expect(written()).toBe('listings-ingest: unknown option --bogus (see --help)\n')
  })
})

describe('oneLine', () => {
  it('joins lines with one space, dropping the blanks around each break', () => {
    expect(oneLine('first  \n   second\r\nthird')).toBe('first second third')
    expect(oneLine('already one line')).toBe('already one line')
  })
})

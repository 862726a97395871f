import { tmpdir } from 'node:os'
import { basename } from 'node:path'
import { describe, expect, it } from 'vitest'

describe('the test run', () => {
  it('keeps its temporary files in one folder that the global teardown removes', () => {
    expect(basename(tmpdir())).toMatch(/^listings-ingest-tests-/)
  })
})

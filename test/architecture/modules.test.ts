import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { importCycles, type ModuleImports, sourceModules } from './imports.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const modules = sourceModules(root, ['shared', 'local', 'lambdas', 'infra', 'scripts'])
const under = (folder: string) => modules.filter((module) => module.path.startsWith(folder))

/** Repository modules outside `allowed` that `module` imports. */
const reachesOutside = (module: ModuleImports, allowed: readonly string[]) =>
  module.modules.filter((path) => !allowed.some((folder) => path.startsWith(folder)))

/**
 * The longest a module may be without saying why: past it, a module usually
 * holds more than one concern. A longer one states its reason in a line
 * `Length: …` of the comment at its top.
 */
const MAX_LINES_WITHOUT_REASON = 250

describe('how the packages depend on each other', () => {
  it('reads every source module', () => {
    expect(modules.length).toBeGreaterThan(80)
    expect(modules.map((module) => module.path)).toContain('shared/src/ingest.ts')
  })

  it('has no import cycle', () => {
    expect(importCycles(modules)).toEqual([])
  })

  it('keeps the transform pure: shared/ imports only shared/ and Node or pure packages, never AWS', () => {
    for (const module of under('shared/')) {
      expect({ module: module.path, outside: reachesOutside(module, ['shared/']) }).toEqual({
        module: module.path,
        outside: [],
      })
      expect(module.packages.filter((name) => /aws/i.test(name))).toEqual([])
    }
  })

  it('keeps the Lambda free of the CLI and the CDK app', () => {
    for (const module of under('lambdas/')) {
      expect({ module: module.path, outside: reachesOutside(module, ['lambdas/', 'shared/']) }).toEqual({
        module: module.path,
        outside: [],
      })
      expect(
        module.packages.filter((name) => name.startsWith('aws-cdk-lib') || name === 'constructs'),
      ).toEqual([])
    }
  })

  it('keeps the CDK app out of the CLI (the stack imports facts from shared/ and lambdas/, never local/)', () => {
    for (const module of under('infra/'))
      expect(reachesOutside(module, ['infra/', 'shared/', 'lambdas/'])).toEqual([])
  })
})

describe('the CDK constructs', () => {
  it('each take a typed props interface, `<Construct>Props`, whose members are all readonly', () => {
    const constructs = under('infra/src/').flatMap((module) => {
      const text = readFileSync(join(root, module.path), 'utf8')
      return [...text.matchAll(/export class (\w+) extends Construct \{/g)].map((match) => {
        const name = match[1] ?? ''
        const props = new RegExp(
          `export interface ${name}Props(?: extends [\\w.]+)? \\{([\\s\\S]*?)\\n\\}`,
        ).exec(text)?.[1]
        const members = [...(props ?? '').matchAll(/^ {2}(?!\/|\*)(.+?)\??:/gm)].map((m) => m[1] ?? '')
        return {
          construct: name,
          takesProps: new RegExp(`constructor\\(scope: Construct, id: string, props: ${name}Props\\)`).test(
            text,
          ),
          mutable: members.filter((member) => !member.startsWith('readonly ')),
        }
      })
    })
    expect(constructs.length).toBeGreaterThan(5)
    for (const construct of constructs)
      expect(construct).toEqual({ ...construct, takesProps: true, mutable: [] })
  })
})

describe('module size', () => {
  it(`no module is over ${MAX_LINES_WITHOUT_REASON} lines without a stated reason at its top`, () => {
    const unexplained = modules
      .filter(
        (module) =>
          module.lines > MAX_LINES_WITHOUT_REASON && !/^\s*(?:\*|\/\/)\s*Length: \S/m.test(module.head),
      )
      .map((module) => `${module.path} (${module.lines} lines)`)
    expect(unexplained).toEqual([])
  })
})

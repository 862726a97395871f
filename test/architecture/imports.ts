import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'

/** A source module and the modules and packages it imports. */
export interface ModuleImports {
  /** Path from the repository root, e.g. `shared/src/ingest.ts`. */
  readonly path: string
  /** Repository modules it imports (paths from the root, `.js` specifiers mapped to their `.ts` source). */
  readonly modules: readonly string[]
  /** Packages it imports, e.g. `@aws-sdk/client-s3`, `node:fs`. */
  readonly packages: readonly string[]
  /** Lines in the file. */
  readonly lines: number
  /** The file's text up to its first declaration (imports included): where a module says what it is. */
  readonly head: string
}

/** Static `import … from`, `export … from` and `import('…')` specifiers. */
const SPECIFIER =
  /(?:^|\n)\s*(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g

/** The tracked TypeScript sources under `folders`, with their imports. */
export function sourceModules(root: string, folders: readonly string[]): ModuleImports[] {
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', ...folders], {
    cwd: root,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((path) => path.endsWith('.ts') && !path.endsWith('.d.ts'))
  return files.map((path) => {
    const text = readFileSync(join(root, path), 'utf8')
    const modules: string[] = []
    const packages: string[] = []
    for (const match of text.matchAll(SPECIFIER)) {
      const specifier = match[1] ?? match[2] ?? ''
      if (specifier.startsWith('.'))
        modules.push(normalize(join(dirname(path), specifier)).replace(/\.js$/, '.ts'))
      else packages.push(specifier)
    }
    const firstDeclaration = text.search(/^(?:export |const |let |function |class |interface |type |async )/m)
    return {
      path,
      modules,
      packages,
      lines: text.split('\n').length - (text.endsWith('\n') ? 1 : 0),
      head: text.slice(0, Math.max(0, firstDeclaration)),
    }
  })
}

/** Every cycle of imports, each as the list of modules around it (found by depth-first search). */
export function importCycles(modules: readonly ModuleImports[]): string[][] {
  const graph = new Map(modules.map((module) => [module.path, module.modules]))
  const state = new Map<string, 'open' | 'done'>()
  const stack: string[] = []
  const cycles: string[][] = []
  const visit = (path: string) => {
    state.set(path, 'open')
    stack.push(path)
    for (const next of graph.get(path) ?? []) {
      if (!graph.has(next)) continue
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next])
      else if (state.get(next) === undefined) visit(next)
    }
    stack.pop()
    state.set(path, 'done')
  }
  for (const path of graph.keys()) if (state.get(path) === undefined) visit(path)
  return cycles
}

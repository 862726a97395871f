import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { codeSpans, headingAnchors, linkTargets, userDocs } from './markdown.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** Top-level folders of the repository whose files the docs name in code spans. */
const SOURCE_ROOTS = ['shared', 'local', 'lambdas', 'infra', 'test', 'scripts', 'docs', 'bin', 'data', '.ci']

describe('the README and docs/ have no dead link', () => {
  for (const doc of userDocs(root)) {
    describe(doc.path, () => {
      const targets = linkTargets(doc.text).filter((target) => !/^(https?|mailto):/.test(target))

      it('links only to files inside the repository that exist', () => {
        const dead = targets.filter((target) => {
          const path = target.split('#')[0] ?? ''
          if (path === '') return false
          const resolved = normalize(join(dirname(doc.path), decodeURI(path)))
          return resolved.startsWith('..') || !existsSync(join(root, resolved))
        })
        expect(dead).toEqual([])
      })

      it('links to headings that exist', () => {
        const dead = targets.filter((target) => {
          const [path = '', anchor] = target.split('#')
          if (anchor === undefined) return false
          const file = path === '' ? doc.path : normalize(join(dirname(doc.path), decodeURI(path)))
          if (!file.endsWith('.md') || !existsSync(join(root, file))) return false
          return !headingAnchors(readFileSync(join(root, file), 'utf8')).has(anchor)
        })
        expect(dead).toEqual([])
      })

      it('names only source paths that exist', () => {
        const named = codeSpans(doc.text).filter(
          (span) =>
            SOURCE_ROOTS.some((top) => span.startsWith(`${top}/`)) &&
            /^[\w./-]+$/.test(span) &&
            !span.includes('*'),
        )
        const missing = named.filter((span) => !existsSync(join(root, span.replace(/:\d+$/, ''))))
        expect(missing).toEqual([])
      })

      it('does not point outside the repository (no ../shared)', () => {
        expect(doc.text).not.toMatch(/\]\(\.\.\/(\.\.\/)*shared/)
        expect(relative(root, join(root, doc.path)).startsWith('..')).toBe(false)
      })
    })
  }
})

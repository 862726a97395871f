import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/** A Markdown file of the repository, read once. */
export interface MarkdownFile {
  /** Path from the repository root, e.g. `docs/aws.md`. */
  readonly path: string
  readonly text: string
}

/** The documents a user reads: README.md and every docs/*.md. */
export function userDocs(root: string): MarkdownFile[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`)
  return ['README.md', ...docs].map((path) => ({ path, text: readFileSync(join(root, path), 'utf8') }))
}

/** The text outside fenced code blocks (``` … ```), where links are links. */
export function prose(text: string): string {
  return text.replace(/^```[\s\S]*?^```/gm, '')
}

/** The bodies of the fenced code blocks whose info string is one of `languages`. */
export function fencedBlocks(text: string, languages: readonly string[]): string[] {
  const blocks: string[] = []
  for (const match of text.matchAll(/^```(\w*)\n([\s\S]*?)^```/gm)) {
    if (languages.includes(match[1] ?? '')) blocks.push(match[2] ?? '')
  }
  return blocks
}

/** Every inline link's target, `[text](target)`, outside code. */
export function linkTargets(text: string): string[] {
  const withoutCode = prose(text).replace(/`[^`\n]*`/g, '')
  return [...withoutCode.matchAll(/\[[^\]\n]*\]\(([^)\s]+)\)/g)].map((match) => match[1] ?? '')
}

/**
 * GitHub's anchor for a heading: lower case, punctuation other than `-` and
 * `_` removed, spaces as `-`. Repeated headings get `-1`, `-2`… in order.
 */
export function headingAnchors(text: string): Set<string> {
  const anchors = new Set<string>()
  const seen = new Map<string, number>()
  for (const match of prose(text).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = (match[1] ?? '')
      .replace(/`/g, '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-')
    const count = seen.get(slug) ?? 0
    anchors.add(count === 0 ? slug : `${slug}-${count}`)
    seen.set(slug, count + 1)
  }
  return anchors
}

/** Every `code span` outside fenced blocks. */
export function codeSpans(text: string): string[] {
  return [...prose(text).matchAll(/`([^`\n]+)`/g)].map((match) => match[1] ?? '')
}

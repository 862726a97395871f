/**
 * A small EventBridge event-pattern matcher for tests, written from
 * EventBridge's documented rules (the "Event patterns" and "Content filtering"
 * pages of the EventBridge user guide, and the README of aws/event-ruler, the
 * engine behind them):
 *
 * - Every field a pattern names must match (AND); a field's array lists
 *   alternatives (OR); a nested object matches the event's nested object.
 *   `$or` lists alternative sub-patterns.
 * - When the event's value is an array, the field matches if any element does.
 * - Leaf matchers: a string, number, boolean or null matches an equal value
 *   (strings case-sensitively); `prefix` and `suffix` (plain, or with
 *   `equals-ignore-case`); `equals-ignore-case`; `wildcard`; `anything-but`
 *   (a value, a list, or `prefix` / `suffix` / `equals-ignore-case` /
 *   `wildcard`); `exists`. String operators match only string values.
 * - Wildcards: `*` matches zero or more characters; `\*` is a literal `*` and
 *   `\\` a literal `\`; any other backslash escape, and two `*` in a row, are
 *   invalid.
 *
 * Case is ignored by comparing `toLowerCase()` forms, which agrees with
 * EventBridge on ASCII letters (all the pipeline's patterns use). Operators
 * the pipeline does not use (`numeric`, `cidr`) and malformed patterns throw
 * {@link PatternError}, so a test can never pass on a pattern this matcher
 * does not understand.
 */

/** The pattern is malformed, or uses an operator this matcher does not implement. */
export class PatternError extends Error {
  override readonly name = 'PatternError'
}

/** Whether `event` matches the EventBridge event pattern `pattern`. */
export function matchesEventPattern(pattern: unknown, event: unknown): boolean {
  if (!isObject(pattern))
    throw new PatternError(`a pattern must be a JSON object, got ${JSON.stringify(pattern)}`)
  validate(pattern)
  return matchObject(pattern, event)
}

/** Checks every matcher up front, so a bad one throws whatever the event holds. */
function validate(pattern: Record<string, unknown>): void {
  for (const [field, rule] of Object.entries(pattern)) {
    if (field === '$or') matchOr(rule, {})
    else if (isObject(rule)) validate(rule)
    else if (Array.isArray(rule)) matchLeaf(field, rule, true, '')
    else throw new PatternError(`field ${field}: a pattern value must be an array or an object`)
  }
}

function matchObject(pattern: Record<string, unknown>, event: unknown): boolean {
  return Object.entries(pattern).every(([field, rule]) => {
    if (field === '$or') return matchOr(rule, event)
    const present = isObject(event) && Object.hasOwn(event, field)
    const value = present ? (event as Record<string, unknown>)[field] : undefined
    if (Array.isArray(rule)) return matchLeaf(field, rule, present, value)
    if (isObject(rule)) return present && isObject(value) && matchObject(rule, value)
    throw new PatternError(`field ${field}: a pattern value must be an array or an object`)
  })
}

function matchOr(rule: unknown, event: unknown): boolean {
  if (!Array.isArray(rule) || rule.length < 2 || !rule.every(isObject)) {
    throw new PatternError('$or takes an array of at least two patterns')
  }
  for (const alternative of rule) validate(alternative)
  return rule.some((alternative) => matchObject(alternative, event))
}

function matchLeaf(field: string, rule: unknown[], present: boolean, value: unknown): boolean {
  if (rule.length === 0)
    throw new PatternError(`field ${field}: an empty array matches nothing and is invalid`)
  const values = Array.isArray(value) ? value : [value]
  // Every matcher is evaluated (no short-circuit), so an invalid one always throws.
  return rule
    .map((matcher) => {
      if (isObject(matcher) && 'exists' in matcher) {
        if (typeof matcher.exists !== 'boolean') throw new PatternError('exists takes true or false')
        return matcher.exists === present && !(present && isObject(value))
      }
      return values.map((one) => matchValue(matcher, one)).some(Boolean) && present
    })
    .some(Boolean)
}

function matchValue(matcher: unknown, value: unknown): boolean {
  if (matcher === null || ['string', 'number', 'boolean'].includes(typeof matcher)) return value === matcher
  const [operator, argument] = singleOperator(matcher)
  switch (operator) {
    case 'prefix':
      return typeof value === 'string' && affix(argument, (text, part) => text.startsWith(part), value)
    case 'suffix':
      return typeof value === 'string' && affix(argument, (text, part) => text.endsWith(part), value)
    case 'equals-ignore-case':
      return typeof value === 'string' && fold(value) === fold(text(operator, argument))
    case 'wildcard':
      return typeof value === 'string' && wildcardRegExp(text(operator, argument)).test(value)
    case 'anything-but':
      return !isExcluded(argument, value)
    default:
      throw new PatternError(`operator ${operator} is not implemented by this matcher`)
  }
}

/** `prefix` / `suffix` with a plain string, or with `{ "equals-ignore-case": string }`. */
function affix(argument: unknown, test: (text: string, part: string) => boolean, value: string): boolean {
  if (typeof argument === 'string') return test(value, argument)
  const [operator, inner] = singleOperator(argument)
  if (operator !== 'equals-ignore-case') throw new PatternError(`prefix/suffix cannot take ${operator}`)
  return test(fold(value), fold(text(operator, inner)))
}

/** Whether `anything-but`'s argument excludes the value. */
function isExcluded(argument: unknown, value: unknown): boolean {
  if (Array.isArray(argument)) return argument.some((excluded) => isExcluded(excluded, value))
  if (typeof argument === 'string' || typeof argument === 'number') return value === argument
  const [operator, inner] = singleOperator(argument)
  const alternatives = Array.isArray(inner) ? inner : [inner]
  if (typeof value !== 'string') return false
  return alternatives.some((alternative) => {
    const part = text(operator, alternative)
    switch (operator) {
      case 'prefix':
        return value.startsWith(part)
      case 'suffix':
        return value.endsWith(part)
      case 'equals-ignore-case':
        return fold(value) === fold(part)
      case 'wildcard':
        return wildcardRegExp(part).test(value)
      default:
        throw new PatternError(`anything-but cannot take ${operator}`)
    }
  })
}

/**
 * A wildcard filter as an anchored regular expression: `*` matches zero or
 * more characters, `\*` a literal `*`, `\\` a literal `\`.
 *
 * @throws {PatternError} for another backslash escape or two `*` in a row
 */
export function wildcardRegExp(filter: string): RegExp {
  let source = ''
  let previousWasWildcard = false
  for (let i = 0; i < filter.length; i++) {
    const char = filter[i] as string
    if (char === '*') {
      if (previousWasWildcard) throw new PatternError(`consecutive wildcards in ${JSON.stringify(filter)}`)
      source += '[\\s\\S]*'
      previousWasWildcard = true
      continue
    }
    previousWasWildcard = false
    if (char === '\\') {
      const next = filter[++i]
      if (next !== '*' && next !== '\\') {
        throw new PatternError(`only \\* and \\\\ may be escaped, in ${JSON.stringify(filter)}`)
      }
      source += `\\${next}`
      continue
    }
    source += char.replace(/[\^$\\.*+?()[\]{}|/]/g, '\\$&')
  }
  return new RegExp(`^${source}$`, 'u')
}

function singleOperator(matcher: unknown): [string, unknown] {
  if (!isObject(matcher)) throw new PatternError(`not a matcher: ${JSON.stringify(matcher)}`)
  const entries = Object.entries(matcher)
  if (entries.length !== 1) throw new PatternError(`a matcher takes one operator: ${JSON.stringify(matcher)}`)
  return entries[0] as [string, unknown]
}

function text(operator: string, argument: unknown): string {
  if (typeof argument !== 'string') throw new PatternError(`${operator} takes a string`)
  return argument
}

function fold(value: string): string {
  return value.toLowerCase()
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

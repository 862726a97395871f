import { describe, expect, it } from 'vitest'
import { matchesEventPattern, PatternError } from '../helpers/eventbridge-matcher.js'

/** The EC2 example event of EventBridge's documentation, trimmed. */
const ec2 = {
  source: 'aws.ec2',
  'detail-type': 'EC2 Instance State-change Notification',
  time: '2017-10-02T16:24:49Z',
  resources: [
    'arn:aws:ec2:us-east-1:123456789012:instance/i-1',
    'arn:aws:ec2:us-east-1:123456789012:instance/i-2',
  ],
  detail: { 'instance-id': 'i-1', state: 'running', FileName: 'dir/icon.PNG', nothing: null },
}
const matches = (pattern: unknown, event: unknown = ec2) => matchesEventPattern(pattern, event)

describe('the test EventBridge matcher follows the documented rules', () => {
  it('matches exact values case-sensitively, any of a list, all fields together', () => {
    expect(matches({ source: ['aws.ec2'] })).toBe(true)
    expect(matches({ source: ['AWS.EC2'] })).toBe(false)
    expect(matches({ source: ['aws.s3', 'aws.ec2'] })).toBe(true)
    expect(matches({ source: ['aws.ec2'], detail: { state: ['running'] } })).toBe(true)
    expect(matches({ source: ['aws.ec2'], detail: { state: ['stopped'] } })).toBe(false)
    expect(matches({ detail: { missing: ['x'] } })).toBe(false)
    expect(matches({ detail: { nothing: [null] } })).toBe(true)
  })

  it('matches an array value when any element matches', () => {
    expect(matches({ resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-2'] })).toBe(true)
    expect(matches({ resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-3'] })).toBe(false)
  })

  it('matches prefix, suffix and equals-ignore-case, with and without case', () => {
    expect(matches({ time: [{ prefix: '2017-10-02' }] })).toBe(true)
    expect(matches({ detail: { FileName: [{ suffix: '.png' }] } })).toBe(false)
    expect(matches({ detail: { FileName: [{ suffix: '.PNG' }] } })).toBe(true)
    expect(matches({ detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } })).toBe(true)
    expect(matches({ detail: { FileName: [{ prefix: { 'equals-ignore-case': 'DIR/' } }] } })).toBe(true)
    expect(matches({ source: [{ 'equals-ignore-case': 'AWS.EC2' }] })).toBe(true)
  })

  it('matches wildcards: * is zero or more characters, \\* and \\\\ are literal', () => {
    const file = (name: string) => ({ detail: { FileName: name } })
    const wildcard = (filter: string) => ({ detail: { FileName: [{ wildcard: filter }] } })
    expect(matches(wildcard('dir/*.PNG'))).toBe(true)
    expect(matches(wildcard('dir/*.png'))).toBe(false)
    expect(matches(wildcard('dir/*'), file('xdir/icon.png'))).toBe(false)
    expect(matches(wildcard('a*b'), file('ab'))).toBe(true)
    expect(matches(wildcard('a\\*b'), file('a*b'))).toBe(true)
    expect(matches(wildcard('a\\*b'), file('aXb'))).toBe(false)
    expect(matches(wildcard('a\\\\*'), file('a\\anything'))).toBe(true)
    expect(matches(wildcard('a\\\\*'), file('a/anything'))).toBe(false)
    expect(matches(wildcard('a\\**'), file('a*b'))).toBe(true)
    expect(matches(wildcard('*'), file('line\nbreak'))).toBe(true)
    expect(() => matches(wildcard('a**b'))).toThrow(PatternError)
    expect(() => matches(wildcard('a\\b'))).toThrow(PatternError)
  })

  it('matches anything-but a value, a list, a prefix, a suffix or a wildcard', () => {
    expect(matches({ detail: { state: [{ 'anything-but': 'running' }] } })).toBe(false)
    expect(matches({ detail: { state: [{ 'anything-but': ['stopped', 'pending'] }] } })).toBe(true)
    expect(matches({ detail: { state: [{ 'anything-but': { prefix: 'run' } }] } })).toBe(false)
    expect(matches({ detail: { state: [{ 'anything-but': { suffix: 'ped' } }] } })).toBe(true)
    expect(matches({ detail: { state: [{ 'anything-but': { 'equals-ignore-case': 'RUNNING' } }] } })).toBe(
      false,
    )
    expect(matches({ detail: { FileName: [{ 'anything-but': { wildcard: '*/lib/*' } }] } })).toBe(true)
  })

  it('matches exists and $or', () => {
    expect(matches({ detail: { state: [{ exists: true }] } })).toBe(true)
    expect(matches({ detail: { missing: [{ exists: false }] } })).toBe(true)
    expect(matches({ detail: { state: [{ exists: false }] } })).toBe(false)
    expect(matches({ $or: [{ source: ['aws.s3'] }, { detail: { state: ['running'] } }] })).toBe(true)
    expect(matches({ $or: [{ source: ['aws.s3'] }, { detail: { state: ['stopped'] } }] })).toBe(false)
  })

  it('refuses what it does not implement or what EventBridge rejects, instead of guessing', () => {
    expect(() => matches({ detail: { 'c-count': [{ numeric: ['>', 0] }] } })).toThrow(PatternError)
    expect(() => matches({ source: [] })).toThrow(PatternError)
    expect(() => matches({ source: 'aws.ec2' })).toThrow(PatternError)
    expect(() => matches({ source: [{ prefix: 'a', suffix: 'b' }] })).toThrow(PatternError)
  })
})

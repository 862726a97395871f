import { Stack } from 'aws-cdk-lib'
import * as s3 from 'aws-cdk-lib/aws-s3'
import { describe, expect, it } from 'vitest'
import { buildApp } from '../../infra/src/app.js'

describe('cdk-nag AwsSolutions checks', () => {
  it('pass on the stack: every finding is fixed or acknowledged with a reason', () => {
    const { app } = buildApp()
    expect(() => app.synth()).not.toThrow()
  })

  it('fail synthesis on a finding nobody acknowledged', () => {
    const { app, stack } = buildApp()
    new s3.Bucket(Stack.of(stack), 'CarelessBucket')
    expect(() => app.synth()).toThrow(/CarelessBucket[\s\S]*AwsSolutions-S1/)
  })

  it('record a reason for every acknowledgement', async () => {
    const { readFileSync, readdirSync } = await import('node:fs')
    const sources = readdirSync('infra/src').map((name) => readFileSync(`infra/src/${name}`, 'utf8'))
    const calls = sources.join('\n').match(/acknowledge(XRay)?\(/g) ?? []
    expect(calls.length).toBeGreaterThan(3)
    for (const source of sources) {
      expect(source, 'acknowledge through nag.ts only').not.toMatch(
        /Validations\.of\([^)]*\)\.acknowledge\(\{\s*id: '[^']*',\s*reason: ''/,
      )
    }
  })
})

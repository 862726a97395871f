/**
 * One removal policy for the stack (context `removalPolicy`): what each kind
 * of resource does when the stack is deleted, as removal.ts maps it (the
 * template carries it: stack.test.ts).
 */
import { RemovalPolicy } from 'aws-cdk-lib'
import { describe, expect, it } from 'vitest'
import { removalProps } from '../../infra/src/removal.js'

describe('removalProps', () => {
  it('keeps the data, its key and its logs under retain, and never empties a bucket', () => {
    const retain = removalProps('retain')
    expect(retain.bucket).toEqual({ removalPolicy: RemovalPolicy.RETAIN, autoDeleteObjects: false })
    expect(retain.key.removalPolicy).toBe(RemovalPolicy.RETAIN)
    expect(retain.logGroup.removalPolicy).toBe(RemovalPolicy.RETAIN)
    expect(retain.workGroup.recursiveDeleteOption).toBe(false)
  })

  it('deletes them under destroy, still without emptying a bucket, and the workgroup with its queries', () => {
    const destroy = removalProps('destroy')
    expect(destroy.bucket).toEqual({ removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: false })
    expect(destroy.key.removalPolicy).toBe(RemovalPolicy.DESTROY)
    expect(destroy.logGroup.removalPolicy).toBe(RemovalPolicy.DESTROY)
    expect(destroy.workGroup.recursiveDeleteOption).toBe(true)
  })

  it('deletes the writer lock either way: it means nothing without the stack', () => {
    expect(removalProps('retain').lockTable.removalPolicy).toBe(RemovalPolicy.DESTROY)
    expect(removalProps('destroy').lockTable.removalPolicy).toBe(RemovalPolicy.DESTROY)
  })
})

/**
 * One removal policy for the stack (context `removalPolicy`): what each kind
 * of resource does when the stack is deleted, as removal.ts maps it (the
 * template carries it: stack.test.ts).
 */
import { RemovalPolicy } from 'aws-cdk-lib'
import { describe, expect, it } from 'vitest'
import { removalProps } from '../../infra/src/removal.js'

describe('removalProps', () => {
  it.each([
    ['retain', RemovalPolicy.RETAIN, false],
    ['destroy', RemovalPolicy.DESTROY, true],
  ] as const)(
    'under %s: buckets (never emptied), the key and the logs get %s; the workgroup deletes its queries: %s',
    (setting, policy, recursive) => {
      const removal = removalProps(setting)
      expect(removal.bucket).toEqual({ removalPolicy: policy, autoDeleteObjects: false })
      expect(removal.key).toEqual({ removalPolicy: policy })
      expect(removal.logGroup).toEqual({ removalPolicy: policy })
      expect(removal.workGroup).toEqual({ recursiveDeleteOption: recursive })
    },
  )

  it('deletes the writer lock either way: it means nothing without the stack', () => {
    expect(removalProps('retain').lockTable.removalPolicy).toBe(RemovalPolicy.DESTROY)
    expect(removalProps('destroy').lockTable.removalPolicy).toBe(RemovalPolicy.DESTROY)
  })
})

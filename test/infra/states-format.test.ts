import { Lazy } from 'aws-cdk-lib'
import { describe, expect, it } from 'vitest'
import { statesFormat } from '../../infra/src/states-format.js'

describe('run values in Athena statements', () => {
  it("fill the statement's slots through States.Format, with its own reserved characters escaped", () => {
    expect(statesFormat("SELECT '{}' AS a, '\\' AS b, '{x}' AS c", ['$.key'])).toBe(
      "States.Format('SELECT \\'{}\\' AS a, \\'\\\\\\' AS b, \\'\\{x\\}\\' AS c', States.Base64Encode($.key))",
    )
    expect(() => statesFormat('SELECT 1', ['$.key'])).toThrow(/0 slots for 1 values/)
  })

  it('leave a CDK token as it is, so CloudFormation fills in the name it stands for', () => {
    const bucket = Lazy.string({ produce: () => 'processed-bucket' })
    const format = statesFormat(`SELECT concat('s3://${bucket}/', k) FROM t WHERE k = {}`, ['$.key'])
    expect(format).toContain(`concat(\\'s3://${bucket}/\\', k)`)
    expect(format).not.toContain('\\$\\{Token')
  })
})

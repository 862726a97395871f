import { describe, expect, it } from 'vitest'
import { invokeFunction, LambdaFunctionError, lambdaErrorMessage } from '../../local/src/s3/lambda-invoke.js'

/** The Lambda service's side of a Lambda task, as the local harness plays it. */

describe('invokeFunction', () => {
  it('passes JSON, not objects, both ways', async () => {
    const seen: unknown[] = []
    const result = await invokeFunction(
      async (event) => {
        seen.push(event)
        return { when: new Date(0), gone: undefined }
      },
      { at: new Date(1000) },
    )
    expect(seen).toEqual([{ at: '1970-01-01T00:00:01.000Z' }])
    expect(result).toEqual({ when: '1970-01-01T00:00:00.000Z' })
  })

  it("reports a thrown error under its name, with the runtime's JSON document as the message", async () => {
    const failure = await invokeFunction(async () => {
      throw new RangeError('out of range')
    }, {}).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(LambdaFunctionError)
    expect((failure as Error).name).toBe('RangeError')
    expect(JSON.parse((failure as Error).message)).toMatchObject({
      errorType: 'RangeError',
      errorMessage: 'out of range',
      trace: expect.arrayContaining([expect.stringContaining('RangeError: out of range')]),
    })
  })
})

describe('lambdaErrorMessage', () => {
  it("reads errorMessage from the runtime's document, and keeps any other cause as it is", () => {
    expect(lambdaErrorMessage('{"errorType":"E","errorMessage":"went wrong"}')).toBe('went wrong')
    expect(lambdaErrorMessage('States.Timeout')).toBe('States.Timeout')
    expect(lambdaErrorMessage('{"other":1}')).toBe('{"other":1}')
    expect(lambdaErrorMessage(undefined)).toBe('undefined')
  })
})

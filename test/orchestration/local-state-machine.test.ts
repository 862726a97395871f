import { describe, expect, it } from 'vitest'
import type { Template } from '../../local/src/s3/cdk-synth.js'
import { LocalStateMachine } from '../../local/src/s3/state-machine.js'
import {
  type AslDefinition,
  type AslState,
  resolveReference,
  stateMachineNamed,
} from '../../local/src/s3/synthesized-template.js'

/** The harness's own rules, on small definitions: how a Lambda error looks to ASL, retries, the context object. */

const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:f'
const TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:t'

function machine(definition: AslDefinition, lambda = async (event: unknown) => event) {
  return new LocalStateMachine(definition, { name: 'm', lambda, retryIntervalScale: 0 })
}

/** A definition starting at the Lambda task `Invoke` (with `fields`), followed by `next` states. */
function invoking(fields: Partial<AslState>, next: Record<string, AslState> = {}): AslDefinition {
  return {
    StartAt: 'Invoke',
    States: { Invoke: { Type: 'Task', Resource: FUNCTION_ARN, End: true, ...fields }, ...next },
  }
}

describe('LocalStateMachine', () => {
  it("reports a function's error as Lambda does: Error is its name, Cause the runtime's JSON document", async () => {
    const definition = invoking(
      { Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Notify' }] },
      {
        Notify: {
          Type: 'Task',
          Resource: 'arn:aws:states:::sns:publish',
          Parameters: { TopicArn: TOPIC_ARN, 'Message.$': '$', Subject: 'failed' },
          End: true,
        },
      },
    )
    const execution = await machine(definition, async () => {
      throw new RangeError('out of range')
    }).run({ input: 1 })
    expect(execution).toMatchObject({
      status: 'SUCCEEDED',
      path: ['Invoke', 'Notify'],
      taskError: { error: 'RangeError', message: 'out of range' },
    })
    const message = JSON.parse(execution.notifications[0]?.message ?? '{}')
    expect(message).toMatchObject({ input: 1, error: { Error: 'RangeError' } })
    expect(JSON.parse(message.error.Cause)).toMatchObject({
      errorType: 'RangeError',
      errorMessage: 'out of range',
      trace: expect.arrayContaining([expect.stringContaining('RangeError: out of range')]),
    })
    expect(execution.notifications[0]).toMatchObject({ topicArn: TOPIC_ARN, subject: 'failed' })
  })

  it("retries as ASL's defaults say when a retrier sets no MaxAttempts (3 retries)", async () => {
    const definition = invoking({ Retry: [{ ErrorEquals: ['Flaky'] }] })
    const execution = await machine(definition, async () => {
      const error = new Error('again')
      error.name = 'Flaky'
      throw error
    }).run({})
    expect(execution).toMatchObject({ status: 'FAILED', error: 'Flaky', attempts: 4, path: ['Invoke'] })
  })

  it('passes the execution ARN in the context object and JSON, not objects, across the Lambda boundary', async () => {
    const definition = invoking({ Parameters: { 'id.$': '$$.Execution.Id', 'at.$': '$.at' } })
    const execution = await machine(definition, async (event) => ({
      seen: event,
      when: new Date(0),
      gone: undefined,
    })).run({
      at: 'now',
    })
    expect(execution.output).toEqual({
      seen: { id: execution.executionId, at: 'now' },
      when: '1970-01-01T00:00:00.000Z',
    })
    expect(execution.executionId).toMatch(/^arn:aws:states:us-east-1:000000000000:execution:m:[0-9a-f-]{36}$/)
  })

  it('runs on Node 20, whose Promise lacks withResolvers, by polyfilling it', () => {
    expect(typeof (Promise as unknown as { withResolvers?: unknown }).withResolvers).toBe('function')
  })
})

describe('resolving a synthesized definition', () => {
  const template: Template = {
    Resources: {
      Fn: { Type: 'AWS::Lambda::Function', Properties: { Timeout: 900 } },
      Queue: { Type: 'AWS::SQS::Queue' },
      Machine: {
        Type: 'AWS::StepFunctions::StateMachine',
        Properties: {
          StateMachineName: 'p-ingest',
          DefinitionString: {
            'Fn::Join': [
              '',
              [
                '{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"',
                { 'Fn::GetAtt': ['Fn', 'Arn'] },
                '","End":true}}}',
              ],
            ],
          },
        },
      },
    },
  }

  it('gives Lambda references a function ARN and reports the function timeout', () => {
    const machine = stateMachineNamed(template, 'ingest')
    expect(machine.definition.States.A?.Resource).toBe('arn:aws:lambda:us-east-1:000000000000:function:Fn')
    expect(machine.lambdaTimeoutSeconds).toBe(900)
  })

  it('refuses references it has no placeholder for, and names that match no state machine', () => {
    expect(() => resolveReference(template, { Ref: 'Queue' })).toThrow('cannot resolve {"Ref":"Queue"}')
    expect(() => stateMachineNamed(template, 'backfill')).toThrow(
      'expected one state machine named *-backfill, found 0',
    )
  })
})

import { describe, expect, it } from 'vitest'
import { TaskBindings } from '../../local/src/s3/task-bindings.js'

/** Which Task states the local harness binds, on small definitions. */

describe('TaskBindings', () => {
  it('refuses a Task it has no local binding for, naming it', () => {
    const definition = {
      StartAt: 'Query',
      States: { Query: { Type: 'Task', Resource: 'arn:aws:states:::athena:startQueryExecution', End: true } },
    }
    expect(() => new TaskBindings(definition, { lambda: async (event) => event })).toThrow(
      'no local binding for Task Query (arn:aws:states:::athena:startQueryExecution)',
    )
  })

  it('binds a function ARN and lambda:invoke as the Lambda task, and nothing else as one', () => {
    const definition = {
      StartAt: 'Direct',
      States: {
        Direct: {
          Type: 'Task',
          Resource: 'arn:aws:lambda:us-east-1:000000000000:function:f',
          Next: 'Invoke',
        },
        Invoke: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Next: 'Notify' },
        Notify: { Type: 'Task', Resource: 'arn:aws:states:::sns:publish', End: true },
      },
    }
    expect(new TaskBindings(definition, { lambda: async (event) => event }).lambdaStates).toEqual([
      'Direct',
      'Invoke',
    ])
  })
})

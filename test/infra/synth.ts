import { Template } from 'aws-cdk-lib/assertions'
import { buildApp } from '../../infra/src/app.js'

/** Template of the stack built with the given context (synthesized once per context). */
const cache = new Map<string, Template>()

export function template(context: Record<string, unknown> = {}): Template {
  const key = JSON.stringify(context)
  let cached = cache.get(key)
  if (cached === undefined) {
    const { stack } = buildApp(context)
    cached = Template.fromStack(stack)
    cache.set(key, cached)
  }
  return cached
}

/** The one resource of a type whose logical id starts with `prefix`. */
export function resource(
  t: Template,
  type: string,
  prefix: string,
): { id: string; props: Record<string, unknown> } {
  const matches = Object.entries(t.findResources(type)).filter(([id]) => id.startsWith(prefix))
  if (matches.length !== 1)
    throw new Error(`expected one ${type} starting ${prefix}, found ${matches.length}`)
  const [id, body] = matches[0] as [string, { Properties: Record<string, unknown> }]
  return { id, props: body.Properties }
}

/**
 * A state machine's definition as plain JSON: the template holds it as an
 * Fn::Join over strings and references; references become placeholder ARNs.
 */
export function stateMachineDefinition(t: Template, prefix: string): Record<string, unknown> {
  const { props } = resource(t, 'AWS::StepFunctions::StateMachine', prefix)
  const definition = props.DefinitionString as string | { 'Fn::Join': [string, unknown[]] }
  if (typeof definition === 'string') return JSON.parse(definition)
  const text = definition['Fn::Join'][1]
    .map((part) => (typeof part === 'string' ? part : placeholder(part)))
    .join('')
  return JSON.parse(text)
}

function placeholder(part: unknown): string {
  const text = JSON.stringify(part)
  const ref = (part as { Ref?: unknown }).Ref
  if (typeof ref === 'string' && ref.includes('StateMachine')) return stateMachinePlaceholder(ref)
  if (text.includes('Function')) return 'arn:aws:lambda:eu-west-2:123456789012:function:ingest'
  if (text.includes('Alerts')) return 'arn:aws:sns:eu-west-2:123456789012:alerts'
  if (text.includes('AWS::Partition')) return 'aws'
  return 'placeholder-bucket'
}

/** The placeholder ARN a definition gets for a state machine it references (by logical id). */
export function stateMachinePlaceholder(logicalId: string): string {
  return `arn:aws:states:eu-west-2:123456789012:stateMachine:${logicalId}`
}

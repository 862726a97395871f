/**
 * The state-machine definitions of a synthesized template (cdk-synth.ts) as
 * plain ASL JSON: a machine picked by the suffix of its name, its
 * `DefinitionString` resolved with placeholder ARNs and names, and a
 * Distributed Map's item processor made runnable on its own.
 */
import type { Template } from './cdk-synth.js'

/** An ASL state-machine definition. */
export interface AslDefinition {
  StartAt: string
  States: Record<string, AslState>
  TimeoutSeconds?: number
  [field: string]: unknown
}

/** One ASL state, with the fields this project reads typed. */
export interface AslState {
  Type: string
  Resource?: string
  Parameters?: Record<string, unknown>
  Retry?: AslRetrier[]
  Catch?: { ErrorEquals: string[]; Next: string; ResultPath?: string | null }[]
  Next?: string
  End?: boolean
  TimeoutSeconds?: number
  [field: string]: unknown
}

/** One `Retry` entry; absent fields take ASL's defaults. */
export interface AslRetrier {
  ErrorEquals: string[]
  IntervalSeconds?: number
  MaxAttempts?: number
  BackoffRate?: number
  MaxDelaySeconds?: number
  JitterStrategy?: 'FULL' | 'NONE'
}

/** A state machine of the template, resolved. */
export interface SynthesizedStateMachine {
  /** `StateMachineName` as synthesized, e.g. `listings-ingest-ingest`. */
  name: string
  definition: AslDefinition
  /** The longest `Timeout` of the Lambda functions the definition invokes, in seconds. */
  lambdaTimeoutSeconds: number | undefined
}

/** The account, region and partition that placeholder ARNs use. */
export const PLACEHOLDER_ENV = { partition: 'aws', region: 'us-east-1', account: '000000000000' } as const

/**
 * The state machine whose `StateMachineName` ends in `-<suffix>` (the stack
 * names them `<namePrefix>-ingest` and `<namePrefix>-backfill`), with its
 * `DefinitionString` resolved: references become placeholder ARNs and names
 * (see {@link resolveReference}). Logical IDs are never relied on.
 *
 * @throws {Error} when not exactly one state machine matches
 */
export function stateMachineNamed(template: Template, suffix: string): SynthesizedStateMachine {
  const matches = Object.values(template.Resources).filter(
    (resource) =>
      resource.Type === 'AWS::StepFunctions::StateMachine' &&
      String(resource.Properties?.StateMachineName ?? '').endsWith(`-${suffix}`),
  )
  const [machine] = matches
  if (matches.length !== 1 || machine === undefined)
    throw new Error(`expected one state machine named *-${suffix}, found ${matches.length}`)
  const props = machine.Properties ?? {}
  const timeouts = referencedIds(props.DefinitionString)
    .map((id) => template.Resources[id])
    .filter((resource) => resource?.Type === 'AWS::Lambda::Function')
    .map((resource) => Number(resource?.Properties?.Timeout ?? 3))
  return {
    name: String(props.StateMachineName),
    definition: JSON.parse(resolveString(template, props.DefinitionString)) as AslDefinition,
    lambdaTimeoutSeconds: timeouts.length === 0 ? undefined : Math.max(...timeouts),
  }
}

/** Logical IDs that `Ref` or `Fn::GetAtt` name anywhere inside a template expression. */
function referencedIds(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(referencedIds)
  if (typeof value !== 'object' || value === null) return []
  const { Ref: ref, 'Fn::GetAtt': getAtt } = value as { Ref?: unknown; 'Fn::GetAtt'?: unknown }
  if (typeof ref === 'string') return [ref]
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return [getAtt[0]]
  return Object.values(value).flatMap(referencedIds)
}

/** A string-valued template expression (a literal, `Fn::Join`, `Ref`, `Fn::GetAtt`) as text. */
function resolveString(template: Template, value: unknown): string {
  if (typeof value === 'string') return value
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join']
  if (join) return join[1].map((part) => resolveString(template, part)).join(join[0])
  return resolveReference(template, value)
}

/**
 * A placeholder for a `Ref` or `Fn::GetAtt … Arn`, chosen by the referenced
 * resource's type: a Lambda function's ARN, an SNS topic's ARN, an S3
 * bucket's name (`bucket-<logical id, lower case>`), a state machine's ARN,
 * a DynamoDB table's or an Athena workgroup's name, or a pseudo parameter.
 *
 * @throws {Error} for any other reference, so a new one is noticed, not guessed
 */
export function resolveReference(template: Template, reference: unknown): string {
  const { partition, region, account } = PLACEHOLDER_ENV
  const ref = (reference as { Ref?: string }).Ref
  const getAtt = (reference as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt']
  const pseudo: Record<string, string> = {
    'AWS::Partition': partition,
    'AWS::Region': region,
    'AWS::AccountId': account,
    'AWS::URLSuffix': 'amazonaws.com',
  }
  if (ref !== undefined && pseudo[ref] !== undefined) return pseudo[ref]
  const id = ref ?? (getAtt?.[1] === 'Arn' ? getAtt[0] : undefined)
  const resource = id === undefined ? undefined : template.Resources[id]
  const name = (property: string) => String(resource?.Properties?.[property] ?? id)
  switch (resource?.Type) {
    case 'AWS::Lambda::Function':
      return `arn:${partition}:lambda:${region}:${account}:function:${name('FunctionName')}`
    case 'AWS::SNS::Topic':
      return `arn:${partition}:sns:${region}:${account}:${name('TopicName')}`
    case 'AWS::S3::Bucket':
      if (ref !== undefined) return `bucket-${String(id).toLowerCase()}`
      break
    // The current table's rebuild (startExecution.sync:2), its lock table and its workgroup.
    case 'AWS::StepFunctions::StateMachine':
      return `arn:${partition}:states:${region}:${account}:stateMachine:${name('StateMachineName')}`
    case 'AWS::DynamoDB::Table':
      if (ref !== undefined) return name('TableName')
      break
    case 'AWS::Athena::WorkGroup':
      if (ref !== undefined) return name('Name')
      break
  }
  throw new Error(`cannot resolve ${JSON.stringify(reference)} in a state-machine definition`)
}

/** A Distributed Map's item processor, runnable as an ordinary state machine. */
export interface ItemProcessor {
  /** The processor's states, with the listed bucket's placeholder replaced by `bucket`. */
  definition: AslDefinition
  /** The Map state itself, for assertions on ItemReader, MaxConcurrency and the like. */
  map: AslState
}

/**
 * The `ItemProcessor` of the definition's one Distributed Map, which the
 * interpreter cannot run as a Map: its `ProcessorConfig` dropped, and the
 * bucket that the map's S3 item reader lists (a placeholder after
 * resolution) replaced by `bucket`, so the processor reads the same bucket
 * the local items come from.
 *
 * @throws {Error} when the definition has no or several Distributed Maps
 */
export function distributedMapItemProcessor(definition: AslDefinition, bucket: string): ItemProcessor {
  const maps = Object.values(definition.States).filter(
    (state) =>
      state.Type === 'Map' &&
      (state.ItemProcessor as { ProcessorConfig?: { Mode?: string } } | undefined)?.ProcessorConfig?.Mode ===
        'DISTRIBUTED',
  )
  const [map] = maps
  if (maps.length !== 1 || map === undefined)
    throw new Error(`expected one Distributed Map, found ${maps.length}`)
  const { ProcessorConfig: _config, ...processor } = map.ItemProcessor as AslDefinition
  const listed = (map.ItemReader as { Parameters?: { Bucket?: unknown } } | undefined)?.Parameters?.Bucket
  const text = JSON.stringify(processor)
  return {
    definition: JSON.parse(
      typeof listed === 'string' ? text.replaceAll(JSON.stringify(listed), JSON.stringify(bucket)) : text,
    ) as AslDefinition,
    map,
  }
}

/**
 * Resolves a synthesized CloudFormation template to the concrete values it
 * would have once deployed in a fake account and region: every Ref, GetAtt,
 * Join, Sub, Select and Split becomes a string, each resource gets the
 * physical name and ARN CloudFormation would give it. Resources are found by
 * type and properties, never by logical id.
 */

/** The fake environment the template is resolved in. */
export const FAKE_ENV = {
  account: '123456789012',
  region: 'eu-west-2',
  partition: 'aws',
  stackName: 'ListingsIngest',
  stackUuid: '5f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9',
} as const

/** A resource with its properties resolved. */
export interface ResolvedResource {
  logicalId: string
  type: string
  props: Record<string, unknown>
  /** What `Ref` gives. */
  ref: string
  /** Its ARN (what `Fn::GetAtt ... Arn` gives), where the type has one. */
  arn: string
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
interface CfnResource {
  Type: string
  Properties?: Record<string, Json>
}

const { account, region, partition } = FAKE_ENV
function pseudoParameters(stackUuid: string): Record<string, string> {
  return {
    'AWS::AccountId': account,
    'AWS::Region': region,
    'AWS::Partition': partition,
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': FAKE_ENV.stackName,
    'AWS::StackId': `arn:${partition}:cloudformation:${region}:${account}:stack/${FAKE_ENV.stackName}/${stackUuid}`,
  }
}

/** The name property each type takes, when the template sets one. */
const NAME_PROPERTY: Record<string, string> = {
  'AWS::S3::Bucket': 'BucketName',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::StepFunctions::StateMachine': 'StateMachineName',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::Events::Rule': 'Name',
  'AWS::CloudWatch::Alarm': 'AlarmName',
}

export class ResolvedTemplate {
  readonly resources: ResolvedResource[]
  readonly #raw: Record<string, CfnResource>
  readonly #names = new Map<string, string>()
  readonly #pseudo: Record<string, string>

  /**
   * @param template - the synthesized template
   * @param stackUuid - the UUID CloudFormation gives the stack at creation (a new one after a teardown)
   *   @default FAKE_ENV.stackUuid
   */
  constructor(template: { Resources: Record<string, CfnResource> }, stackUuid: string = FAKE_ENV.stackUuid) {
    this.#raw = template.Resources
    this.#pseudo = pseudoParameters(stackUuid)
    for (const [id, resource] of Object.entries(this.#raw)) {
      const nameProperty = NAME_PROPERTY[resource.Type]
      const given = nameProperty ? resource.Properties?.[nameProperty] : undefined
      if (given === undefined) this.#names.set(id, generatedName(id, resource.Type))
    }
    // Names given by intrinsics (e.g. a suffix from the stack id) resolve like any value.
    for (const [id, resource] of Object.entries(this.#raw)) {
      const nameProperty = NAME_PROPERTY[resource.Type]
      const given = nameProperty ? resource.Properties?.[nameProperty] : undefined
      if (given !== undefined) this.#names.set(id, String(this.resolve(given)))
    }
    this.resources = Object.entries(this.#raw).map(([id, resource]) => ({
      logicalId: id,
      type: resource.Type,
      props: this.resolve(resource.Properties ?? {}) as Record<string, unknown>,
      ref: this.#ref(id),
      arn: this.#arn(id),
    }))
  }

  /** The physical name of a resource: given in the template, or generated as CloudFormation would. */
  physicalName(logicalId: string): string {
    return this.#name(logicalId)
  }

  /** Whether the template gives the resource a name (rather than letting CloudFormation generate one). */
  hasGivenName(logicalId: string): boolean {
    const resource = this.#raw[logicalId]
    const nameProperty = resource && NAME_PROPERTY[resource.Type]
    return nameProperty !== undefined && resource?.Properties?.[nameProperty] !== undefined
  }

  /** The resources CloudFormation keeps when the stack is deleted. */
  retained(): ResolvedResource[] {
    return this.resources.filter(
      (r) => (this.#raw[r.logicalId] as { DeletionPolicy?: string }).DeletionPolicy === 'Retain',
    )
  }

  /** Every resource of a type. */
  ofType(type: string): ResolvedResource[] {
    return this.resources.filter((resource) => resource.type === type)
  }

  /** The one resource of a type whose ARN or Ref is `value`. */
  byArnOrRef(type: string, value: string): ResolvedResource {
    const found = this.ofType(type).filter((r) => r.arn === value || r.ref === value)
    if (found.length !== 1) throw new Error(`expected one ${type} for ${value}, found ${found.length}`)
    return found[0] as ResolvedResource
  }

  /** The value with every intrinsic function replaced by what it gives. */
  resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((item) => this.resolve(item))
    if (value === null || typeof value !== 'object') return value
    const entries = Object.entries(value as Record<string, unknown>)
    if (entries.length === 1) {
      const [fn, arg] = entries[0] as [string, unknown]
      if (fn === 'Ref') return this.#ref(arg as string)
      if (fn.startsWith('Fn::')) return this.#intrinsic(fn, arg)
    }
    return Object.fromEntries(entries.map(([key, item]) => [key, this.resolve(item)]))
  }

  #intrinsic(fn: string, arg: unknown): unknown {
    switch (fn) {
      case 'Fn::GetAtt': {
        const [id, attribute] = typeof arg === 'string' ? arg.split('.') : (arg as [string, string])
        return this.#getAtt(id as string, attribute as string)
      }
      case 'Fn::Join': {
        const [separator, parts] = arg as [string, unknown[]]
        return (this.resolve(parts) as unknown[]).join(separator)
      }
      case 'Fn::Select': {
        const [index, list] = arg as [number | string, unknown]
        return (this.resolve(list) as unknown[])[Number(this.resolve(index))]
      }
      case 'Fn::Split': {
        const [separator, text] = arg as [string, unknown]
        return String(this.resolve(text)).split(separator)
      }
      case 'Fn::Sub': {
        const [text, variables] =
          typeof arg === 'string' ? [arg, {}] : (arg as [string, Record<string, unknown>])
        return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
          if (name in variables) return String(this.resolve(variables[name]))
          if (name.includes('.')) {
            const [id, attribute] = name.split('.') as [string, string]
            return this.#getAtt(id, attribute)
          }
          return this.#ref(name)
        })
      }
      default:
        throw new Error(`intrinsic ${fn} is not resolved by this test helper`)
    }
  }

  #ref(id: string): string {
    const pseudo = this.#pseudo[id]
    if (pseudo !== undefined) return pseudo
    const resource = this.#raw[id]
    if (resource === undefined) throw new Error(`Ref to unknown ${id}`)
    const name = this.#name(id)
    switch (resource.Type) {
      case 'AWS::SNS::Topic':
      case 'AWS::StepFunctions::StateMachine':
        return this.#arn(id)
      case 'AWS::SQS::Queue':
        return `https://sqs.${region}.amazonaws.com/${account}/${name}`
      case 'AWS::KMS::Key':
        return keyId(id)
      default:
        return name
    }
  }

  #getAtt(id: string, attribute: string): string {
    const resource = this.#raw[id]
    if (resource === undefined) throw new Error(`GetAtt of unknown ${id}`)
    if (attribute === 'Arn' || attribute === 'TopicArn') return this.#arn(id)
    if (attribute === 'Name' || attribute === 'QueueName') return this.#name(id)
    if (attribute === 'KeyId') return keyId(id)
    if (attribute === 'QueueUrl') return this.#ref(id)
    throw new Error(`GetAtt ${id}.${attribute} is not resolved by this test helper`)
  }

  #name(id: string): string {
    const name = this.#names.get(id)
    if (name === undefined) throw new Error(`no name for ${id}`)
    return name
  }

  #arn(id: string): string {
    const resource = this.#raw[id] as CfnResource
    const name = this.#names.get(id) ?? id
    const at = `${region}:${account}`
    switch (resource.Type) {
      case 'AWS::S3::Bucket':
        return `arn:${partition}:s3:::${name}`
      case 'AWS::SNS::Topic':
        return `arn:${partition}:sns:${at}:${name}`
      case 'AWS::SQS::Queue':
        return `arn:${partition}:sqs:${at}:${name}`
      case 'AWS::IAM::Role':
        return `arn:${partition}:iam::${account}:role/${name}`
      case 'AWS::Lambda::Function':
        return `arn:${partition}:lambda:${at}:function:${name}`
      case 'AWS::StepFunctions::StateMachine':
        return `arn:${partition}:states:${at}:stateMachine:${name}`
      case 'AWS::Logs::LogGroup':
        // CloudFormation's GetAtt Arn of a log group ends with :*
        return `arn:${partition}:logs:${at}:log-group:${name}:*`
      case 'AWS::KMS::Key':
        return `arn:${partition}:kms:${at}:key/${keyId(id)}`
      case 'AWS::Events::Rule':
        return `arn:${partition}:events:${at}:rule/${name}`
      case 'AWS::CloudWatch::Alarm':
        return `arn:${partition}:cloudwatch:${at}:alarm:${name}`
      default:
        return ''
    }
  }
}

/** A name like the ones CloudFormation generates: stack, logical id, random suffix. */
function generatedName(id: string, type: string): string {
  const suffix = hex(id).slice(0, 12).toUpperCase()
  const name = `${FAKE_ENV.stackName}-${id}-${suffix}`
  return type === 'AWS::S3::Bucket' ? name.toLowerCase().slice(0, 63) : name
}

function keyId(id: string): string {
  const h = hex(id).padEnd(32, '0')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`
}

function hex(text: string): string {
  let out = ''
  for (let i = 0; out.length < 32; i++) {
    out += ((text.charCodeAt(i % text.length) * 31 + i * 7) % 256).toString(16).padStart(2, '0')
  }
  return out
}

/** The JSON a resolved template holds, for callers that need the raw shape. */
export type { Json }

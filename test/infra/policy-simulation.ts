/**
 * Evaluates one AWS call with @cloud-copilot/iam-simulate.
 *
 * Licence: the simulator is AGPL-3.0-or-later. It is a devDependency used only
 * by these tests; nothing under infra/, lambdas/ or shared/ imports it, and the
 * Lambda bundle never contains it. It was chosen because it evaluates identity
 * and resource policies together (KMS key policies, bucket, topic and queue
 * policies, role trust policies), understands every condition operator and
 * validates actions, ARNs and context keys against AWS's service reference,
 * offline; AWS's own simulator (iam:SimulatePrincipalPolicy) needs an account
 * and does not take resource policies for every service.
 *
 * What it cannot model (so these tests do not prove it): SCPs and RCPs of the
 * account the stack lands in (none are given), KMS grants, S3 Object Ownership
 * and ACLs, S3 Block Public Access, VPC endpoint policies, session policies,
 * service-linked roles and what services do beyond the documented call (e.g.
 * which context keys a service actually sends: these tests supply the ones AWS
 * documents). It also drops `kms:EncryptionContext:<key>` context keys (its
 * matcher for variable keys only understands `prefix/<key>`), so the harness
 * carries each under an alias key in the request and in the policies, with the
 * condition operator and values unchanged.
 */
import {
  type EvaluationResult,
  runSimulation,
  type SimulationIdentityPolicy,
} from '@cloud-copilot/iam-simulate'
import { FAKE_ENV } from './resolve-template.js'

/** One request some principal of the deployed system makes. */
export interface AwsCall {
  /** Who makes it and why, for the test name. */
  description: string
  /** A role ARN or a service principal (`cloudwatch.amazonaws.com`). */
  principal: string
  action: string
  resource: string
  context: Record<string, string | string[]>
  identityPolicies: SimulationIdentityPolicy[]
  /** The resource's own policy: bucket, key, topic, queue or trust policy. */
  resourcePolicy?: unknown
}

/** The calls of `selected` that the policies do not allow, each as one line with the simulator's reason. */
export async function refusedCalls(selected: readonly AwsCall[]): Promise<string[]> {
  const lines: string[] = []
  for (const call of selected) {
    const { decision, detail } = await evaluate(call)
    if (decision !== 'Allowed') lines.push(`${call.description}: ${decision} (${detail})`)
  }
  return lines
}

const ENCRYPTION_CONTEXT = /^kms:encryptioncontext:(.+)$/i
const ALIAS_PREFIX = 'aws:RequestTag/kms-encryption-context:'

/**
 * Runs the simulator on the call.
 *
 * @returns the decision, and a one-line explanation when it is not Allowed
 * @throws when the simulator rejects the input (unknown action, malformed ARN or policy),
 *   or ignores a context key the call supplies
 */
export async function evaluate(call: AwsCall): Promise<{ decision: EvaluationResult; detail: string }> {
  const result = await runSimulation(
    {
      request: {
        principal: call.principal,
        action: call.action,
        resource: { resource: call.resource, accountId: FAKE_ENV.account },
        contextVariables: aliasContext(call.context),
      },
      identityPolicies: call.identityPolicies.map((p) => ({ name: p.name, policy: aliasPolicy(p.policy) })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(call.resourcePolicy === undefined ? {} : { resourcePolicy: aliasPolicy(call.resourcePolicy) }),
    },
    {},
  )
  if (result.resultType === 'error') {
    throw new Error(`simulator refused ${call.description}: ${JSON.stringify(result.errors)}`)
  }
  if (result.resultType !== 'single')
    throw new Error(`${call.description}: resource ${call.resource} has a wildcard`)
  const ignored = result.result.ignoredContextKeys ?? []
  if (ignored.length > 0)
    throw new Error(`${call.description}: simulator ignored context keys ${ignored.join(', ')}`)
  const analysis = result.result.analysis as {
    identityAnalysis?: { result?: string }
    resourceAnalysis?: { result?: string }
  }
  const detail =
    result.overallResult === 'Allowed'
      ? ''
      : `identity policies: ${analysis.identityAnalysis?.result ?? '-'}, resource policy: ${analysis.resourceAnalysis?.result ?? '-'}`
  return { decision: result.overallResult, detail }
}

function aliasContext(context: Record<string, string | string[]>): Record<string, string | string[]> {
  return Object.fromEntries(
    Object.entries(context).map(([key, value]) => {
      const match = ENCRYPTION_CONTEXT.exec(key)
      return [match ? `${ALIAS_PREFIX}${match[1]}` : key, value]
    }),
  )
}

/** The policy with each `kms:EncryptionContext:<key>` condition key renamed to its alias. */
function aliasPolicy(policy: unknown): unknown {
  if (Array.isArray(policy)) return policy.map(aliasPolicy)
  if (policy === null || typeof policy !== 'object') return policy
  return Object.fromEntries(
    Object.entries(policy as Record<string, unknown>).map(([key, value]) => {
      if (key !== 'Condition' || value === null || typeof value !== 'object') return [key, aliasPolicy(value)]
      const operators = Object.entries(value as Record<string, Record<string, unknown>>).map(
        ([operator, keys]) => [
          operator,
          Object.fromEntries(
            Object.entries(keys).map(([conditionKey, values]) => {
              const match = ENCRYPTION_CONTEXT.exec(conditionKey)
              return [match ? `${ALIAS_PREFIX}${match[1]}` : conditionKey, values]
            }),
          ),
        ],
      )
      return [key, Object.fromEntries(operators)]
    }),
  )
}

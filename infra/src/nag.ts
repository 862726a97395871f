import { type CfnElement, Stack, Validations } from 'aws-cdk-lib'
import type { IConstruct } from 'constructs'

/**
 * Acknowledges one cdk-nag finding on a construct, with the reason it is
 * acceptable. Every acknowledgement in this app goes through here so the
 * reasons can be reviewed in one search.
 */
export function acknowledge(construct: IConstruct, id: string, reason: string): void {
  Validations.of(construct).acknowledge({ id: `AwsSolutions-${id}`, reason })
}

/**
 * How cdk-nag writes the `Fn::GetAtt <resource>.Arn` of a construct in a
 * finding id, e.g. `<StorageRaw7E344C76.Arn>`.
 */
export function arnReference(construct: IConstruct): string {
  const element = construct.node.defaultChild as CfnElement
  return `<${Stack.of(construct).getLogicalId(element)}.Arn>`
}

/**
 * Acknowledges the `Resource::*` finding of a role whose only unscoped actions are X-Ray's (and,
 * for state machines, the CloudWatch Logs delivery actions), plus any `others` named with why.
 */
export function acknowledgeXRay(policy: IConstruct, others = ''): void {
  acknowledge(
    policy,
    'IAM5[Resource::*]',
    'xray:PutTraceSegments and xray:PutTelemetryRecords (and, for state machines, the CloudWatch Logs ' +
      `delivery actions) do not support resource-level permissions; AWS documents Resource "*" for them.${others ? ` ${others}` : ''}`,
  )
}

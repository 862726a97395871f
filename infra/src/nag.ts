import { Annotations, type CfnElement, Stack, Validations } from 'aws-cdk-lib'
import * as ec2 from 'aws-cdk-lib/aws-ec2'
import type { Construct, IConstruct } from 'constructs'

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

/**
 * A subnet known only by its id, for naming in RunTask's network
 * configuration; nothing reads its route table, so the CDK's warning that it
 * has none is acknowledged.
 */
export function subnetById(scope: Construct, id: string, subnetId: string): ec2.ISubnet {
  const subnet = ec2.Subnet.fromSubnetId(scope, id, subnetId)
  Annotations.of(subnet).acknowledgeWarning(
    '@aws-cdk/aws-ec2:noSubnetRouteTableId',
    'The subnet is only named in the task network configuration; its route table is never read.',
  )
  return subnet
}

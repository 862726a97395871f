import { IgnoreMode } from 'aws-cdk-lib'
import * as ec2 from 'aws-cdk-lib/aws-ec2'
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets'
import * as ecs from 'aws-cdk-lib/aws-ecs'
import * as iam from 'aws-cdk-lib/aws-iam'
import * as logs from 'aws-cdk-lib/aws-logs'
import { Construct } from 'constructs'
import { LARGE_FILE_CONTAINER } from '../../lambdas/ingest/src/orchestration.js'
import { memoryBudgetForRuntime } from '../../shared/src/limits.js'
import { heapLimitMiB } from './capacity.js'
import type { PipelineConfig } from './config.js'
import type { LargeFileConfig } from './large-file-config.js'
import { acknowledge, subnetById } from './nag.js'
import { grantObjectProcessing, type LookupLocation, objectProcessingEnvironment } from './object-grants.js'
import { repositoryRoot } from './paths.js'
import { removalProps } from './removal.js'
import type { Storage } from './storage.js'

/**
 * The files the image's build context holds (Docker ignore syntax, relative
 * to the repository root): the Dockerfile, the lock file and the sources the
 * bundle is built from, nothing else. `cdk synth` copies only these into
 * cdk.out; `cdk deploy` builds the image from them.
 */
export const IMAGE_CONTEXT = [
  'package.json',
  'package-lock.json',
  'lambdas/ingest/Dockerfile',
  'lambdas/ingest/src',
  'shared/src',
] as const

/** Props of {@link LargeFileTask}. */
export interface LargeFileTaskProps {
  /** The stack's settings: names, the incoming prefix, thresholds, log retention, removal. */
  readonly config: PipelineConfig
  /** The task's size, timeout and network (the `largeFiles` part of the config). */
  readonly settings: LargeFileConfig
  /** The buckets it reads and writes and the key it encrypts with. */
  readonly storage: Storage
  /** Where it reads the category lookup. */
  readonly lookup: LookupLocation
}

/**
 * The large-file path's compute: an ECS cluster (Fargate only, no instances),
 * the task definition that runs lambdas/ingest/src/task-main.ts on Graviton
 * with the Lambda's environment and a heap sized from the task's memory, its
 * least-privilege task role (the Lambda's grants, from the same call table),
 * its log group, and where it runs: by default a VPC of its own with public
 * subnets and no NAT gateway (the task gets a public IP to reach ECR and
 * CloudWatch Logs; S3 goes through a free gateway endpoint), or the subnets
 * of an existing VPC given by context.
 */
export class LargeFileTask extends Construct {
  readonly cluster: ecs.Cluster
  readonly taskDefinition: ecs.FargateTaskDefinition
  readonly container: ecs.ContainerDefinition
  readonly taskRole: iam.Role
  readonly logGroup: logs.LogGroup
  readonly securityGroup: ec2.SecurityGroup
  readonly subnets: ec2.ISubnet[]
  readonly settings: LargeFileConfig

  constructor(scope: Construct, id: string, props: LargeFileTaskProps) {
    super(scope, id)
    const { config, settings, storage, lookup } = props
    this.settings = settings
    const vpc = this.network(settings)
    this.subnets = settings.network
      ? settings.network.subnetIds.map((subnetId, i) => subnetById(this, `Subnet${i}`, subnetId))
      : vpc.publicSubnets
    this.securityGroup = new ec2.SecurityGroup(this, 'TaskSecurityGroup', {
      vpc,
      description: 'Large-file ingest task: no inbound; outbound HTTPS to S3, ECR and CloudWatch Logs',
      allowAllOutbound: false,
    })
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to AWS endpoints')

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc,
      clusterName: `${config.namePrefix}-large-files`,
      enableFargateCapacityProviders: false,
    })
    acknowledge(
      this.cluster,
      'ECS4',
      'Container Insights bills per metric for a cluster that runs an occasional batch task; the task logs, ' +
        'and emits the same DQ metrics as the Lambda, to CloudWatch.',
    )

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      encryptionKey: storage.key,
      retention: config.logRetentionDays,
      ...removalProps(config.removalPolicy).logGroup,
    })
    this.taskRole = new iam.Role(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Large-file ingest task: read incoming listings and the lookup, write processed outputs',
    })
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      family: `${config.namePrefix}-large-file`,
      cpu: settings.cpu,
      memoryLimitMiB: settings.memoryMiB,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.ARM64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
      taskRole: this.taskRole,
    })
    this.container = this.taskDefinition.addContainer('Ingest', {
      containerName: LARGE_FILE_CONTAINER,
      image: ecs.ContainerImage.fromAsset(repositoryRoot(), {
        file: 'lambdas/ingest/Dockerfile',
        platform: ecrAssets.Platform.LINUX_ARM64,
        ignoreMode: IgnoreMode.DOCKER,
        exclude: ['*', ...IMAGE_CONTEXT.map((path) => `!${path}`)],
      }),
      essential: true,
      readonlyRootFilesystem: true,
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'ingest' }),
      environment: {
        ...objectProcessingEnvironment(config, storage, lookup),
        // The heap holds the buffered rows or the dedup index: most of the task's memory, as in the Lambda,
        // and the one-pass budget is the same share of it as the Lambda's (shared/src/limits.ts).
        NODE_OPTIONS: `--max-old-space-size=${heapLimitMiB(settings.memoryMiB)}`,
        MEMORY_BUDGET_MIB: String(memoryBudgetForRuntime(settings.memoryMiB) / 1_048_576),
      },
    })
    acknowledge(
      this.taskDefinition,
      'ECS2',
      'The environment holds bucket names, the lookup location, the KMS key ARN and thresholds: no secrets.',
    )
    grantObjectProcessing(this.taskRole, storage, lookup, config.incomingPrefix)
    this.acknowledgeExecutionRole()
  }

  /** A VPC of the stack's own (public subnets, no NAT), or the existing one named by context. */
  private network(settings: LargeFileConfig): ec2.IVpc {
    if (settings.network) {
      // Imported for its id only (the security group's VPC): the task names its subnets itself, so the
      // VPC lists none, and one unnamed zone satisfies the CDK's subnets-per-zone arithmetic.
      return ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId: settings.network.vpcId,
        availabilityZones: ['(subnets given by id)'],
      })
    }
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }],
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
    })
    acknowledge(
      vpc,
      'VPC7',
      'The VPC holds only the short-lived ingest task, which has no inbound rule; flow logs would bill for ' +
        'traffic to AWS endpoints only.',
    )
    return vpc
  }

  private acknowledgeExecutionRole(): void {
    const executionRole = this.taskDefinition.obtainExecutionRole()
    const policy = executionRole.node.tryFindChild('DefaultPolicy')
    if (policy === undefined) return
    acknowledge(
      policy,
      'IAM5[Resource::*]',
      'ecr:GetAuthorizationToken does not support resource-level permissions; AWS documents Resource "*".',
    )
  }
}

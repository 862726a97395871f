import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import aslValidator from 'asl-validator'
import { describe, expect, it } from 'vitest'
import { buildApp } from '../../infra/src/app.js'
import { CAPACITY_MODEL, heapLimitMiB, largeFileRunEstimate, runCapacity } from '../../infra/src/capacity.js'
import { IMAGE_CONTEXT } from '../../infra/src/large-file-task.js'
import { LARGE_FILE_CONTAINER, STATES } from '../../lambdas/ingest/src/orchestration.js'
import { memoryBudgetForRuntime } from '../../shared/src/limits.js'
import { resource, stateMachineDefinition, template } from './synth.js'

/**
 * The large-file path as synthesized (context largeFiles=on): the task
 * definition, the cluster, the network and the image, the threshold and how
 * it is derived, and the context that shapes them.
 */

const on = template({ largeFiles: 'on' })

type Container = {
  Name: string
  Essential: boolean
  ReadonlyRootFilesystem: boolean
  Image: unknown
  Environment: { Name: string; Value: unknown }[]
  LogConfiguration: { LogDriver: string; Options: Record<string, unknown> }
}

function taskDefinition(t = on) {
  const { props } = resource(t, 'AWS::ECS::TaskDefinition', 'LargeFiles')
  return props as Record<string, unknown> & { ContainerDefinitions: Container[] }
}

function ingestMachine(t = on) {
  return resource(t, 'AWS::StepFunctions::StateMachine', 'OrchestrationIngestStateMachine').props
}

describe('the state machines with the large-file path', () => {
  it('both pass asl-validator (Parallel, Fail with CausePath, States.StringToJson, ecs:runTask.sync)', () => {
    for (const prefix of ['OrchestrationIngestStateMachine', 'OrchestrationBackfillStateMachine']) {
      const definition = stateMachineDefinition(on, prefix)
      const result = aslValidator(definition)
      expect(result.errorsText('\n'), prefix).toBe('')
      expect(JSON.stringify(definition)).toContain('arn:aws:states:::ecs:runTask.sync')
    }
  })
})

describe('the task definition', () => {
  it('runs one essential container on Fargate, Graviton, 2 vCPU and 16 GiB, with a read-only root file system', () => {
    const definition = taskDefinition()
    expect(definition).toMatchObject({
      Family: 'listings-ingest-large-file',
      RequiresCompatibilities: ['FARGATE'],
      NetworkMode: 'awsvpc',
      Cpu: '2048',
      Memory: '16384',
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
    })
    expect(definition.EphemeralStorage).toBeUndefined() // the default 20 GiB: the program streams S3 to S3
    expect(definition.ContainerDefinitions).toHaveLength(1)
    expect(definition.ContainerDefinitions[0]).toMatchObject({
      Name: LARGE_FILE_CONTAINER,
      Essential: true,
      ReadonlyRootFilesystem: true,
    })
  })

  it("gets the Lambda's environment, and a heap of 80% of the task's memory", () => {
    const [container] = taskDefinition().ContainerDefinitions
    const env = Object.fromEntries((container?.Environment ?? []).map((v) => [v.Name, v.Value]))
    const fn = resource(on, 'AWS::Lambda::Function', 'IngestFunction').props as {
      Environment: { Variables: Record<string, unknown> }
    }
    const { NODE_OPTIONS: lambdaOptions, ...lambdaEnv } = fn.Environment.Variables
    const { NODE_OPTIONS: taskOptions, MEMORY_BUDGET_MIB: taskBudget, ...taskEnv } = env
    expect(taskEnv).toEqual(lambdaEnv)
    // The Lambda's budget comes from AWS_LAMBDA_FUNCTION_MEMORY_SIZE; the task states its own.
    expect(taskBudget).toBe(String(memoryBudgetForRuntime(16384) / 1_048_576))
    expect(taskOptions).toBe(`--max-old-space-size=${heapLimitMiB(16384)}`)
    expect(lambdaOptions).toContain(`--max-old-space-size=${heapLimitMiB(1769)}`)
  })

  it('is built from the Dockerfile as a CDK image asset (ECR), and logs to its own encrypted log group', () => {
    const [container] = taskDefinition().ContainerDefinitions
    expect(JSON.stringify(container?.Image)).toContain('container-assets')
    expect(container?.LogConfiguration.LogDriver).toBe('awslogs')
    const group = container?.LogConfiguration.Options['awslogs-group'] as { Ref: string }
    const logs = on.toJSON().Resources[group.Ref] as {
      Properties: { KmsKeyId: unknown; RetentionInDays: number }
    }
    expect(logs.Properties.KmsKeyId).toBeDefined()
    expect(logs.Properties.RetentionInDays).toBe(365)
  })

  it('has a task role of its own, which only ECS tasks may assume', () => {
    const role = taskDefinition().TaskRoleArn as { 'Fn::GetAtt': [string, string] }
    const props = on.toJSON().Resources[role['Fn::GetAtt'][0]].Properties as {
      AssumeRolePolicyDocument: unknown
      ManagedPolicyArns?: unknown
    }
    expect(JSON.stringify(props.AssumeRolePolicyDocument)).toContain('ecs-tasks.amazonaws.com')
    expect(props.ManagedPolicyArns).toBeUndefined()
  })
})

describe('the cluster and the network', () => {
  it('is a Fargate-only cluster: no instances, no auto scaling group, no capacity provider', () => {
    on.resourceCountIs('AWS::ECS::Cluster', 1)
    on.hasResourceProperties('AWS::ECS::Cluster', { ClusterName: 'listings-ingest-large-files' })
    for (const type of [
      'AWS::AutoScaling::AutoScalingGroup',
      'AWS::EC2::Instance',
      'AWS::ECS::ClusterCapacityProviderAssociations',
    ]) {
      on.resourceCountIs(type, 0)
    }
  })

  it('runs in a VPC of its own with public subnets in two AZs, no NAT gateway, and a free S3 gateway endpoint', () => {
    on.resourceCountIs('AWS::EC2::VPC', 1)
    on.resourceCountIs('AWS::EC2::NatGateway', 0)
    on.resourceCountIs('AWS::EC2::EIP', 0)
    on.resourceCountIs('AWS::EC2::InternetGateway', 1)
    const subnets = Object.values(on.findResources('AWS::EC2::Subnet'))
    expect(subnets).toHaveLength(2)
    for (const subnet of subnets) expect(subnet.Properties.MapPublicIpOnLaunch).toBe(true)
    on.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' })
    on.resourceCountIs('AWS::EC2::VPCEndpoint', 1)
  })

  it('lets the task out on HTTPS only, and nothing in', () => {
    const { props } = resource(on, 'AWS::EC2::SecurityGroup', 'LargeFilesTaskSecurityGroup')
    expect(props.SecurityGroupIngress).toBeUndefined()
    expect(props.SecurityGroupEgress).toEqual([
      expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
    ])
  })

  it('has the state machine start the task with a public IP in those subnets, named by substitution', () => {
    const definition = JSON.stringify(ingestMachine().DefinitionString)
    expect(definition).toContain('\\"AssignPublicIp\\":\\"ENABLED\\"')
    // biome-ignore lint/suspicious/noTemplateCurlyInString: DefinitionSubstitutions placeholders, literally
    expect(definition).toContain('\\"Subnets\\":[\\"${LargeFileSubnet0}\\",\\"${LargeFileSubnet1}\\"]')
    const substitutions = ingestMachine().DefinitionSubstitutions as Record<string, { Ref?: string }>
    expect(Object.keys(substitutions).sort()).toEqual([
      'LargeFileClusterArn',
      'LargeFileSecurityGroup',
      'LargeFileSubnet0',
      'LargeFileSubnet1',
    ])
    expect(substitutions.LargeFileSubnet0?.Ref).toMatch(/^LargeFilesVpcPublicSubnet1/)
  })

  it('uses the subnets of an existing VPC given by context, creating no VPC (no lookup, so no credentials)', () => {
    const existing = template({
      largeFiles: 'on',
      vpcId: 'vpc-0abc',
      subnetIds: 'subnet-01,subnet-02,subnet-03',
      largeFilePublicIp: 'false',
    })
    existing.resourceCountIs('AWS::EC2::VPC', 0)
    existing.resourceCountIs('AWS::EC2::Subnet', 0)
    existing.hasResourceProperties('AWS::EC2::SecurityGroup', { VpcId: 'vpc-0abc' })
    expect(ingestMachine(existing).DefinitionSubstitutions).toMatchObject({
      LargeFileSubnet0: 'subnet-01',
      LargeFileSubnet1: 'subnet-02',
      LargeFileSubnet2: 'subnet-03',
    })
    // largeFilePublicIp=false: no AssignPublicIp, RunTask's default for awsvpc being DISABLED.
    expect(JSON.stringify(ingestMachine(existing).DefinitionString)).not.toContain('AssignPublicIp')
  })

  it('deploys none of it with largeFiles=off: no cluster, no task, no VPC, no image', () => {
    const off = template({ largeFiles: 'off' })
    for (const type of [
      'AWS::ECS::Cluster',
      'AWS::ECS::TaskDefinition',
      'AWS::EC2::VPC',
      'AWS::EC2::SecurityGroup',
    ]) {
      off.resourceCountIs(type, 0)
    }
    expect(JSON.stringify(ingestMachine(off))).not.toContain('ecs:runTask')
  })
})

describe('the threshold between Lambda and Fargate', () => {
  const measured = JSON.parse(readFileSync('docs/performance.json', 'utf8')) as {
    rows: number
    seconds: number
    csvBytesPerRow: number
    maxRowsPerInvocation: number
  }

  it('is what one Lambda run can take, from the measured capacity: memory decides at 1,769 MB, about 2.3 GB', () => {
    const lambda = runCapacity(1769, 15 * 60)
    expect(lambda).toEqual({ rows: expect.any(Number), bytes: 2_300_000_000, limitedBy: 'memory' })
    // The benchmark's own estimate of the largest input for one invocation, within 5%.
    expect(Math.abs(lambda.rows / measured.maxRowsPerInvocation - 1)).toBeLessThan(0.05)
    const route = JSON.stringify(ingestMachine().DefinitionString)
    expect(route).toContain(`\\"NumericGreaterThan\\":${lambda.bytes}`)
    // The figure the docs give people is this one.
    for (const doc of ['docs/aws.md', 'docs/operations.md']) {
      expect(readFileSync(doc, 'utf8'), doc).toContain(`**${(lambda.bytes / 1e9).toFixed(1)} GB**`)
    }
  })

  it('follows the Lambda settings and can be set by context', () => {
    const bigger = runCapacity(3008, 15 * 60)
    expect(bigger.bytes).toBeGreaterThan(runCapacity(1769, 15 * 60).bytes)
    expect(
      JSON.stringify(ingestMachine(template({ largeFiles: 'on', lambdaMemoryMb: 3008 })).DefinitionString),
    ).toContain(`\\"NumericGreaterThan\\":${bigger.bytes}`)
    // A short timeout makes time the limit.
    expect(runCapacity(1769, 60).limitedBy).toBe('time')
    const set = template({ largeFiles: 'on', largeFileThresholdBytes: 500_000_000 })
    expect(JSON.stringify(ingestMachine(set).DefinitionString)).toContain(
      '\\"NumericGreaterThan\\":500000000',
    )
  })

  it('routes the backfill with the same threshold, on each item’s Size', () => {
    const backfill = JSON.stringify(
      resource(on, 'AWS::StepFunctions::StateMachine', 'OrchestrationBackfillStateMachine').props
        .DefinitionString,
    )
    expect(backfill).toContain(
      `\\"Variable\\":\\"$.Size\\",\\"NumericGreaterThan\\":${runCapacity(1769, 900).bytes}`,
    )
    expect(JSON.stringify(ingestMachine().DefinitionString)).toContain(STATES.ingestLargeFile)
  })

  it('leaves the default Fargate task room for files about ten times larger, and prices a 10 GB file in cents', () => {
    const task = runCapacity(16384, Number.POSITIVE_INFINITY)
    expect(task.limitedBy).toBe('memory')
    expect(task.bytes).toBeGreaterThan(20_000_000_000)
    const estimate = largeFileRunEstimate(10_000_000_000, { vcpu: 2, memoryGiB: 16, publicIp: true })
    expect(estimate.minutes).toBeGreaterThan(15)
    expect(estimate.minutes).toBeLessThan(30)
    expect(estimate.usd).toBeGreaterThan(0.02)
    expect(estimate.usd).toBeLessThan(0.1)
    expect(CAPACITY_MODEL.heapFraction).toBe(0.8)
  })
})

describe('context for the large-file path', () => {
  it.each([
    [{ largeFiles: 'maybe' }, 'context largeFiles must be on or off, got "maybe"'],
    [
      { largeFiles: 'on', largeFileCpu: 3000 },
      'context largeFileCpu must be one of 1024, 2048, 4096, 8192, 16384, got 3000',
    ],
    [
      { largeFiles: 'on', largeFileCpu: 2048, largeFileMemoryMiB: 2048 },
      'context largeFileMemoryMiB must be a whole number from 4096 to 16384, got "2048"',
    ],
    [
      { largeFiles: 'on', largeFileCpu: 8192, largeFileMemoryMiB: 18432 },
      'context largeFileMemoryMiB must be 16384 to 61440 in steps of 4096 for largeFileCpu 8192, got 18432',
    ],
    [{ largeFiles: 'on', vpcId: 'vpc-0abc' }, 'context vpcId and subnetIds go together'],
    [
      { largeFiles: 'on', vpcId: 'my-vpc', subnetIds: 'subnet-01' },
      'context vpcId must look like vpc-0123abcd',
    ],
    [
      { largeFiles: 'on', vpcId: 'vpc-0abc', subnetIds: 'subnet-01,public' },
      'context subnetIds must be subnet-0123abcd ids',
    ],
    [
      { largeFiles: 'on', largeFilePublicIp: 'yes' },
      'context largeFilePublicIp must be true or false, got "yes"',
    ],
  ])('refuses %j with one line naming the key', (context, message) => {
    expect(() => template(context)).toThrow(message)
  })
})

describe('synthesis of the image', () => {
  it('stages only the sources the Dockerfile copies, builds nothing (no Docker), and records an arm64 build for deploy', () => {
    const { app } = buildApp({ largeFiles: 'on' })
    const assembly = app.synth()
    const manifest = JSON.parse(
      readFileSync(join(assembly.directory, 'ListingsIngest.assets.json'), 'utf8'),
    ) as {
      dockerImages: Record<string, { source: { directory: string; dockerFile?: string; platform?: string } }>
    }
    const images = Object.values(manifest.dockerImages)
    expect(images).toHaveLength(1)
    const source = images[0]?.source
    expect(source).toMatchObject({ dockerFile: 'lambdas/ingest/Dockerfile', platform: 'linux/arm64' })
    const staged = join(assembly.directory, source?.directory ?? '')
    const files = walk(staged).map((file) => relative(staged, file))
    expect(files).toContain('lambdas/ingest/Dockerfile')
    expect(files).toContain('lambdas/ingest/src/task-main.ts')
    for (const file of files) {
      expect(
        IMAGE_CONTEXT.some((path) => file === path || file.startsWith(`${path}/`)),
        file,
      ).toBe(true)
    }
    // Everything the Dockerfile copies is in the context.
    const dockerfile = readFileSync('lambdas/ingest/Dockerfile', 'utf8')
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) =>
      (m[1] ?? '').split(' '),
    )
    expect(copied.length).toBeGreaterThan(0)
    for (const path of copied) expect(IMAGE_CONTEXT as readonly string[]).toContain(path)
  })
})

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? walk(path) : [path]
  })
}

/**
 * The large-file path's settings from CDK context (`largeFiles`,
 * `largeFileThresholdBytes`, `largeFileCpu`, `largeFileMemoryMiB`,
 * `largeFileTimeoutMinutes`, `vpcId`, `subnetIds`, `largeFilePublicIp`),
 * validated against Fargate's sizes at synthesis.
 */

import { runCapacity } from './capacity.js'
import type { ContextReader } from './context-reader.js'

/** The Fargate task that runs files larger than the Lambda can take. */
export interface LargeFileConfig {
  /**
   * Files larger than this (the event's `detail.object.size`, the backfill's
   * `Size`) run on Fargate (`largeFileThresholdBytes`).
   * @default what one Lambda run can take (capacity.ts: `runCapacity` of its memory and timeout)
   */
  thresholdBytes: number
  /** Task CPU units, 1024 = one vCPU (`largeFileCpu`): 1024, 2048, 4096, 8192 or 16384. @default 2048 */
  cpu: number
  /** Task memory in MiB (`largeFileMemoryMiB`), within Fargate's range for the CPU. @default 16384 */
  memoryMiB: number
  /** How long one task may run before Step Functions stops it (`largeFileTimeoutMinutes`). @default 180 */
  timeoutMinutes: number
  /**
   * Where the task runs. `undefined`: a VPC of its own, public subnets in two
   * AZs, no NAT gateway, an S3 gateway endpoint. Otherwise an existing VPC
   * (`vpcId`) and subnets in it (`subnetIds`, comma-separated): ids, not a
   * lookup, so synthesis needs no credentials. @default undefined
   */
  network: { vpcId: string; subnetIds: string[] } | undefined
  /**
   * Give the task a public IP (`largeFilePublicIp`), its route to ECR, S3 and
   * CloudWatch Logs through the internet gateway of a public subnet. `false`
   * for private subnets that have a NAT gateway or VPC endpoints. @default true
   */
  publicIp: boolean
}

/**
 * Whether the large-file path is deployed when context does not say: on, so a
 * file larger than one Lambda run can take has a path by default;
 * `-c largeFiles=off` deploys without it (and without Docker at deploy time).
 */
export const LARGE_FILES_DEFAULT: 'on' | 'off' = 'on'

/** Fargate's memory range (MiB) and step for each CPU size. */
const FARGATE_SIZES: Readonly<Record<number, { min: number; max: number; step: number }>> = {
  1024: { min: 2048, max: 8192, step: 1024 },
  2048: { min: 4096, max: 16384, step: 1024 },
  4096: { min: 8192, max: 30720, step: 1024 },
  8192: { min: 16384, max: 61440, step: 4096 },
  16384: { min: 32768, max: 122880, step: 8192 },
}

/**
 * Reads {@link LargeFileConfig} from context.
 *
 * @param lambdaMemoryMb - the Lambda's memory, which with its timeout sets the default threshold
 * @returns the settings, or `undefined` when `largeFiles=off`
 * @throws {Error} naming the context key that is malformed
 */
export function readLargeFileConfig(
  { text, whole }: ContextReader,
  lambdaMemoryMb: number,
  lambdaTimeoutMinutes: number,
): LargeFileConfig | undefined {
  const enabled = text('largeFiles') ?? LARGE_FILES_DEFAULT
  if (enabled !== 'on' && enabled !== 'off') {
    throw new Error(`context largeFiles must be on or off, got ${JSON.stringify(enabled)}`)
  }
  if (enabled === 'off') return undefined
  const cpu = whole('largeFileCpu', { min: 1024, max: 16384 }) ?? 2048
  const sizes = FARGATE_SIZES[cpu]
  if (sizes === undefined) {
    throw new Error(
      `context largeFileCpu must be one of ${Object.keys(FARGATE_SIZES).join(', ')}, got ${cpu}`,
    )
  }
  const memoryMiB = whole('largeFileMemoryMiB', sizes) ?? Math.min(16384, sizes.max)
  if ((memoryMiB - sizes.min) % sizes.step !== 0) {
    throw new Error(
      `context largeFileMemoryMiB must be ${sizes.min} to ${sizes.max} in steps of ${sizes.step} for largeFileCpu ${cpu}, got ${memoryMiB}`,
    )
  }
  const vpcId = text('vpcId')
  const subnetIds = (text('subnetIds') ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '')
  if ((vpcId === undefined) !== (subnetIds.length === 0)) {
    throw new Error(
      'context vpcId and subnetIds go together: an existing VPC and the subnets in it for the task',
    )
  }
  if (vpcId !== undefined && !/^vpc-[0-9a-f]+$/.test(vpcId)) {
    throw new Error(`context vpcId must look like vpc-0123abcd, got ${JSON.stringify(vpcId)}`)
  }
  const badSubnet = subnetIds.find((id) => !/^subnet-[0-9a-f]+$/.test(id))
  if (badSubnet !== undefined) {
    throw new Error(`context subnetIds must be subnet-0123abcd ids, got ${JSON.stringify(badSubnet)}`)
  }
  const publicIp = text('largeFilePublicIp') ?? 'true'
  if (publicIp !== 'true' && publicIp !== 'false') {
    throw new Error(`context largeFilePublicIp must be true or false, got ${JSON.stringify(publicIp)}`)
  }
  const lambda = runCapacity(lambdaMemoryMb, lambdaTimeoutMinutes * 60)
  return {
    thresholdBytes:
      whole('largeFileThresholdBytes', { min: 1, max: Number.MAX_SAFE_INTEGER }) ?? lambda.bytes,
    cpu,
    memoryMiB,
    timeoutMinutes: whole('largeFileTimeoutMinutes', { min: 5, max: 7 * 24 * 60 }) ?? 180,
    network: vpcId === undefined ? undefined : { vpcId, subnetIds },
    publicIp: publicIp === 'true',
  }
}

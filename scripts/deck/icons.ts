import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { Resvg } from '@resvg/resvg-js'

/** The official AWS architecture icons the deck uses, by role. */
export const ICONS = {
  s3: 'architecture-service/AmazonSimpleStorageService.svg',
  eventBridge: 'architecture-service/AmazonEventBridge.svg',
  stepFunctions: 'architecture-service/AWSStepFunctions.svg',
  lambda: 'architecture-service/AWSLambda.svg',
  glue: 'architecture-service/AWSGlue.svg',
  athena: 'architecture-service/AmazonAthena.svg',
  kms: 'architecture-service/AWSKeyManagementService.svg',
  iam: 'architecture-service/AWSIdentityandAccessManagement.svg',
  cloudWatch: 'architecture-service/AmazonCloudWatch.svg',
  sns: 'architecture-service/AmazonSimpleNotificationService.svg',
  sqs: 'architecture-service/AmazonSimpleQueueService.svg',
  xRay: 'architecture-service/AWSXRay.svg',
  fargate: 'architecture-service/AWSFargate.svg',
} as const

export type IconName = keyof typeof ICONS

/**
 * Rasterises an icon to a PNG data URI. SVG in PowerPoint files is not shown
 * by every viewer (LibreOffice, older Office, previews), PNG is.
 *
 * @param size - width and height in pixels
 */
export function iconPng(name: IconName, size = 256): string {
  const require = createRequire(import.meta.url)
  const root = join(dirname(require.resolve('aws-icons/package.json')), 'icons')
  const svg = readFileSync(join(root, ICONS[name]), 'utf8')
  const png = new Resvg(svg, { fitTo: { mode: 'width', value: size } }).render().asPng()
  return `image/png;base64,${Buffer.from(png).toString('base64')}`
}

/**
 * The current table's settings from CDK context (`maintenanceSchedule`,
 * `athenaBytesScannedCutoffGiB`), validated at synthesis; read by the current
 * table (its schedule) and by the analytics workgroup (its scan cutoff).
 */
import type { Node } from 'constructs'
import { contextReader } from './context-reader.js'

/** Settings of the current table, from CDK context, validated. */
export interface CurrentTableConfig {
  /** When maintenance (OPTIMIZE, VACUUM) runs: an EventBridge Scheduler expression. @default 'cron(0 3 ? * SUN *)' */
  maintenanceSchedule: string
  /** Athena's per-query scan limit in GiB (the workgroup's cutoff). @default 10 */
  bytesScannedCutoffGiB: number
}

/**
 * Reads {@link CurrentTableConfig} from context (`-c maintenanceSchedule=...`,
 * `-c athenaBytesScannedCutoffGiB=...`).
 *
 * @throws {Error} naming the malformed context key
 */
export function readCurrentTableConfig(node: Node): CurrentTableConfig {
  const schedule = node.tryGetContext('maintenanceSchedule') as unknown
  const maintenanceSchedule = schedule === undefined ? 'cron(0 3 ? * SUN *)' : String(schedule)
  if (!/^(cron|rate)\(.+\)$/.test(maintenanceSchedule)) {
    throw new Error(
      `context maintenanceSchedule must be cron(...) or rate(...), got ${JSON.stringify(schedule)}`,
    )
  }
  // Athena's minimum cutoff is 10 MB; a whole number of GiB from 1 keeps it simple to read.
  const bytesScannedCutoffGiB =
    contextReader(node).whole('athenaBytesScannedCutoffGiB', { min: 1, max: 1024 }) ?? 10
  return { maintenanceSchedule, bytesScannedCutoffGiB }
}

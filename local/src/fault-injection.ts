/**
 * Test-only fault injection: `LISTINGS_INGEST_FAULT=<point>:<action>` makes a
 * run fail at that point, so the tests can show what a crash, an error or a
 * signal at each publish step leaves behind. `error` throws, `crash` kills the
 * process with SIGKILL, a signal name sends that signal to the process,
 * `pause` waits two seconds (holding the lock). The variable is read here and
 * nowhere else; unset in normal use, and then every fault point is a no-op.
 */

/**
 * The points at which a test can inject a fault, in the order a run reaches
 * them: the two passes, then each publish step (the fault fires before the step).
 */
export const FAULT_POINTS = [
  'classify',
  'write',
  'report',
  'adopt',
  'carry',
  'sync',
  'link',
  'commit',
  'cleanup',
  'unlock',
] as const
export type FaultPoint = (typeof FAULT_POINTS)[number]

/** What an injected fault does when its point is reached. */
const FAULT_ACTIONS = ['error', 'crash', 'pause', 'SIGINT', 'SIGTERM', 'SIGHUP'] as const
export type FaultAction = (typeof FAULT_ACTIONS)[number]

/**
 * Reads `LISTINGS_INGEST_FAULT`.
 *
 * @returns the fault, or undefined when the variable is unset or empty
 * @throws {Error} when it is not `<point>:<action>` with a known point and action
 */
export function parseFault(text: string | undefined): { point: FaultPoint; action: FaultAction } | undefined {
  if (text === undefined || text === '') return undefined
  const [point, action] = text.split(':') as [FaultPoint, FaultAction]
  if (!FAULT_POINTS.includes(point) || !FAULT_ACTIONS.includes(action)) {
    throw new Error(`LISTINGS_INGEST_FAULT must be <point>:<action>, got ${JSON.stringify(text)}`)
  }
  return { point, action }
}

const injected = parseFault(process.env.LISTINGS_INGEST_FAULT)
const fired = new Set<FaultPoint>()

/**
 * Fires the injected fault if it is set for `point` (once per run). Returns
 * a promise to await when the fault needs time to take effect (a signal's
 * handler runs on a later turn of the event loop), else undefined.
 */
export function faultAt(point: FaultPoint): Promise<void> | undefined {
  if (injected?.point !== point || fired.has(point)) return undefined
  fired.add(point)
  switch (injected.action) {
    case 'error':
      throw new Error(`injected fault at ${point}`)
    case 'crash':
      process.kill(process.pid, 'SIGKILL')
      return sleep(10_000)
    case 'pause':
      return sleep(2_000)
    default:
      // The handler runs on the next turn of the event loop, well within this wait.
      process.kill(process.pid, injected.action)
      return sleep(1_000)
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((wake) => setTimeout(wake, ms))
}

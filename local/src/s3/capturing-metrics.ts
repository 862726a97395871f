import { Metrics } from '@aws-lambda-powertools/metrics'
import { DQ_METRICS_NAMESPACE, DQ_SERVICE_NAME } from '../../../lambdas/ingest/src/dq-metrics.js'

/** One published EMF document, as CloudWatch would receive it. */
export type EmfDocument = ReturnType<Metrics['serializeMetrics']>

/**
 * Powertools Metrics that keeps each published EMF document instead of
 * printing it, so the local runner can show the figures and tests can check
 * them against what CloudWatch would ingest.
 */
export class CapturingMetrics extends Metrics {
  readonly published: EmfDocument[] = []

  constructor() {
    super({ namespace: DQ_METRICS_NAMESPACE, serviceName: DQ_SERVICE_NAME })
  }

  override publishStoredMetrics(): this {
    if (this.hasStoredMetrics()) this.published.push(this.serializeMetrics())
    this.clearMetrics()
    this.clearDimensions()
    this.clearMetadata()
    return this
  }
}

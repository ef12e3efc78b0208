import type { Connector } from '../config/index.js';
import type { Logger } from '../observability/logger.js';
import { createCaptureMetrics, type CaptureMetrics } from '../observability/metrics.js';
import { startObservabilityServer } from '../observability/server.js';
import { createRegistryClient } from '../schema/registry-client.js';
import { startCapture, type CaptureWorker } from './worker.js';

export interface CaptureService {
  worker: CaptureWorker;
  metrics: CaptureMetrics;
  /** Where /metrics and /health are served; null for a snapshot-only run. */
  metricsUrl: string | null;
  /** Stops the worker (after Kafka acknowledged what is in flight) and the metrics server; once, however often called. */
  stop(): Promise<void>;
}

/** Capture as a service: the worker plus its /metrics and /health, as `tandem capture` and `tandem dev` run it. */
export async function startCaptureService(connector: Connector, options: { logger: Logger; metricsPort?: number; snapshotOnly?: boolean }): Promise<CaptureService> {
  const metrics = createCaptureMetrics();
  const worker = await startCapture(connector, { logger: options.logger, metrics, registry: createRegistryClient(connector.registry), snapshotOnly: options.snapshotOnly });
  const stallAfterMs = connector.capture.heartbeatIntervalMs * 3;
  const server = options.snapshotOnly
    ? null
    : await startObservabilityServer({
        port: options.metricsPort ?? connector.capture.metricsPort,
        registry: metrics.registry,
        health: () => ({ ...worker.health(stallAfterMs), stallAfterMs }),
      }).catch(async (error: unknown) => {
        await worker.stop();
        throw error;
      });
  let stopped: Promise<void> | undefined;
  return {
    worker,
    metrics,
    metricsUrl: server?.url ?? null,
    stop: () =>
      (stopped ??= (async () => {
        await worker.stop();
        await server?.close();
      })()),
  };
}

/** Capture and translate of one connector, running in the test process. */
import { startCapture, type CaptureWorker } from '../../src/capture/worker.js';
import type { Connector } from '../../src/config/index.js';
import { createCaptureMetrics } from '../../src/observability/metrics.js';
import { createRegistryClient } from '../../src/schema/registry-client.js';
import { createTranslateMetrics } from '../../src/translate/metrics.js';
import { startTranslate, type TranslateWorker } from '../../src/translate/worker.js';
import { testLogger } from './output.js';

export interface TestPipeline {
  capture: CaptureWorker;
  translate: TranslateWorker;
  /** Stops translate, then capture. */
  stop(): Promise<void>;
}

export async function startTestPipeline(connector: Connector): Promise<TestPipeline> {
  const capture = await startCapture(connector, { logger: testLogger('capture'), metrics: createCaptureMetrics(), registry: createRegistryClient(connector.registry) });
  const translate = await startTranslate(connector, { logger: testLogger('translate'), metrics: createTranslateMetrics() }).catch(async (error: unknown) => {
    await capture.stop();
    throw error;
  });
  return {
    capture,
    translate,
    async stop() {
      await translate.stop();
      await capture.stop();
    },
  };
}

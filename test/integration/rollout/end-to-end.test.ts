import { OFREPProvider } from '@openfeature/ofrep-provider';
import { OpenFeature } from '@openfeature/server-sdk';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCapture, type CaptureWorker } from '../../../src/capture/worker.js';
import type { Connector } from '../../../src/config/index.js';
import { parseConnector } from '../../../src/config/load.js';
import { createCaptureMetrics } from '../../../src/observability/metrics.js';
import { runReconcileJob } from '../../../src/reconcile/job.js';
import { bucketOf } from '../../../src/rollout/bucketing.js';
import { cliActor } from '../../../src/rollout/controller.js';
import { ReverseSyncSupervisor } from '../../../src/rollout/reverse-sync.js';
import { openRollout, type RolloutRuntime } from '../../../src/rollout/runtime.js';
import { createGateClient, type GateClient } from '../../../src/rollout/sdk.js';
import { startRolloutServer } from '../../../src/rollout/server.js';
import { readHistory } from '../../../src/rollout/store.js';
import { startWatch, type Watch } from '../../../src/rollout/watch.js';
import { createRegistryClient } from '../../../src/schema/registry-client.js';
import { createTranslateMetrics } from '../../../src/translate/metrics.js';
import { startTranslate, type TranslateWorker } from '../../../src/translate/worker.js';
import { uniqueName } from '../../support/connector.js';
import { startTestKafkaStack, type TestKafkaStack } from '../../support/kafka-stack.js';
import { testLogger } from '../../support/output.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { until } from '../../support/until.js';

const SERVICE_KEY = 'e2e-service-key-51c0';

describe('rollout end to end with capture, translate and reconcile running', () => {
  let legacy: TestDatabase;
  let target: TestDatabase;
  let stack: TestKafkaStack;
  let connector: Connector;
  let capture: CaptureWorker;
  let translate: TranslateWorker;
  let runtime: RolloutRuntime;
  let watch: Watch;
  let gates: GateClient;
  let serverGates: GateClient;
  let server: Awaited<ReturnType<typeof startRolloutServer>>;
  let checker: pg.Client;

  const reconcile = async () => (await runReconcileJob(connector, { logger: testLogger('reconcile') })).report;
  const phase = async () => (await runtime.controller.state()).phase;

  beforeAll(async () => {
    legacy = await createTestDatabase('e2e_legacy');
    target = await createTestDatabase('e2e_new');
    stack = await startTestKafkaStack();
    await legacy.sql(`CREATE SCHEMA legacy; CREATE TABLE legacy.customers (id int PRIMARY KEY, name text NOT NULL);
      INSERT INTO legacy.customers SELECT g, 'Customer ' || g FROM generate_series(1, 200) g`);
    await target.sql('CREATE SCHEMA app; CREATE TABLE app.customers (id int PRIMARY KEY, full_name text NOT NULL)');
    connector = parseConnector({
      name: uniqueName('e2e'),
      source: { url: legacy.url, schema: 'legacy', tables: ['customers'] },
      kafka: { brokers: stack.brokers },
      registry: { url: stack.registryUrl },
      target: { url: target.url, schema: 'app' },
      mappings: { customers: { to: 'customers', columns: { full_name: 'name' } } },
      capture: { heartbeatIntervalMs: 500, metricsPort: 0 },
      translate: { metricsPort: 0 },
      rollout: {
        phases: [
          { name: 'shadow', readNew: 0 },
          { name: 'canary', readNew: 20, criteria: { reconcileCleanRuns: 2, maxLagSeconds: 30 } },
          { name: 'full', readNew: 100, criteria: { reconcileCleanRuns: 2 } },
        ],
        serve: { apiKeys: { services: SERVICE_KEY } },
      },
    });
    capture = await startCapture(connector, { logger: testLogger('capture'), metrics: createCaptureMetrics(), registry: createRegistryClient(connector.registry) });
    translate = await startTranslate(connector, { logger: testLogger('translate'), metrics: createTranslateMetrics() });
    checker = new pg.Client({ connectionString: target.url });
    await checker.connect();
    await until(async () => Number((await target.sql('SELECT count(*) AS n FROM app.customers'))[0]!.n) === 200, { describe: 'translate to apply the snapshot', timeoutMs: 60_000, intervalMs: 200 });
    runtime = await openRollout(connector, testLogger('rollout'));
    await runtime.controller.state();
    gates = await createGateClient({ connectionString: target.url, migration: connector.name, logger: testLogger('sdk') });
    serverGates = await createGateClient({ connectionString: target.url, migration: connector.name, logger: testLogger('serve-sdk') });
    const serving = await openRollout(connector, testLogger('serve'));
    server = await startRolloutServer({ connector, controller: serving.controller, client: serving.target, gates: serverGates, logger: testLogger('serve'), port: 0, host: '127.0.0.1' });
    await OpenFeature.setProviderAndWait('e2e', new OFREPProvider({ baseUrl: `http://127.0.0.1:${server.port}`, headers: [['X-API-Key', SERVICE_KEY]] }));
  });

  afterAll(async () => {
    watch?.stop();
    await watch?.done;
    await OpenFeature.clearProviders();
    await server?.close();
    await gates?.close();
    await serverGates?.close();
    await runtime?.close();
    await checker?.end();
    await translate?.stop();
    await capture?.stop();
    await stack?.stop();
  });

  it('promotes on clean reconcile runs, then watch rolls back when drift is injected; SDK and OFREP clients follow', async () => {
    await legacy.sql(`UPDATE legacy.customers SET name = name || ' (updated)' WHERE id % 10 = 0; INSERT INTO legacy.customers VALUES (201, 'Newcomer')`);
    await until(async () => (await reconcile()).status === 'clean', { describe: 'a clean reconcile run once translate caught up', timeoutMs: 60_000, intervalMs: 500 });
    expect((await reconcile()).status).toBe('clean');

    const status = await runtime.controller.status();
    expect(status.verdict?.criteria.find((criterion) => criterion.name === 'reconcile')).toMatchObject({ met: true });
    // Caught up: every partition applied to Kafka's end offset (capture's heartbeats publish nothing).
    expect(status.verdict?.criteria.find((criterion) => criterion.name === 'lag')).toMatchObject({ met: true, value: 0 });
    expect(status.evidence.lag.appliedPosition).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    expect(status.evidence.lag.sourceLsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    const promoted = await runtime.controller.promote({}, cliActor('alice'));
    expect(promoted.state).toMatchObject({ phase: 'canary', gates: { readNew: 20 } });
    const [audit] = await readHistory(runtime.target, connector.name);
    expect(audit!.evidence).toMatchObject({ appliedPosition: status.evidence.lag.appliedPosition });
    expect((audit!.evidence.reconcileRunIds as string[]).length).toBe(2);

    let inside = 'tenant-0';
    for (let index = 0; bucketOf(inside, connector.name) > 20; index += 1) inside = `tenant-${index}`;
    const flags = OpenFeature.getClient('e2e');
    await until(async () => gates.readFrom(inside) === 'new' && (await flags.getStringValue(`${connector.name}.read`, 'legacy', { targetingKey: inside })) === 'new', { describe: 'SDK and OFREP on new for a canary key', timeoutMs: 15_000 });

    const intervalMs = 1_000;
    watch = startWatch({ controller: runtime.controller, client: runtime.target, supervisor: new ReverseSyncSupervisor(null, testLogger('watch')), logger: testLogger('watch'), intervalMs, autoPromote: false, actor: { kind: 'watch', name: 'watch', osUser: null } });
    await until(() => watch.lastStatus !== null, { describe: 'the first watch evaluation', timeoutMs: 15_000 });
    expect(await phase()).toBe('canary');

    // Drift: a row of the new table changed behind the pipeline's back.
    await target.sql("UPDATE app.customers SET full_name = 'tampered' WHERE id = 7");
    const drifted = await reconcile();
    expect(drifted.status).toBe('drift');
    await until(async () => (await phase()) === 'shadow', { describe: 'watch rolling back on the drift', timeoutMs: 30_000 });
    await until(async () => gates.readFrom(inside) === 'legacy' && (await flags.getStringValue(`${connector.name}.read`, 'new', { targetingKey: inside })) === 'legacy', { describe: 'SDK and OFREP back on legacy after the rollback', timeoutMs: 15_000 });

    const [rollback] = await readHistory(runtime.target, connector.name);
    expect(rollback).toMatchObject({ action: 'rollback', from: 'canary', to: 'shadow', actorKind: 'watch' });
    expect(rollback!.evidence.reconcileRunIds).toEqual([String(drifted.runId)]);
    expect(rollback!.reason).toContain('drift');
  });

  it('measures lag once translate falls behind what capture published', async () => {
    await translate.stop();
    await legacy.sql("INSERT INTO legacy.customers VALUES (300, 'While translate is stopped')");
    const lagging = await until(async () => {
      const { lag } = (await runtime.controller.status()).evidence;
      return lag.seconds !== null && lag.seconds > 0 ? lag : null;
    }, { describe: 'a lag above 0 while translate is stopped', timeoutMs: 30_000, intervalMs: 200 });
    expect(lagging.appliedPosition).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
  });
});

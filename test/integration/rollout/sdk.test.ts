import { Writable } from 'node:stream';
import { OpenFeature, ProviderEvents } from '@openfeature/server-sdk';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/observability/logger.js';
import { bucketOf } from '../../../src/rollout/bucketing.js';
import { cliActor } from '../../../src/rollout/controller.js';
import { TandemProvider } from '../../../src/rollout/openfeature.js';
import { createGateClient, type GateClient } from '../../../src/rollout/sdk.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { until } from '../../support/until.js';
import { connect, controllerFor, prepareTarget, rolloutConnector, SHORT_PLAN } from './support.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

function capturingLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      callback();
    },
  });
  return { lines, logger: createLogger({ level: 'info', pretty: false, destination }) };
}

/** Keys on each side of a percentage for group `sdk` (the bucketing decides, the test only picks). */
function keysAround(groupId: string, percentage: number): { inside: string; outside: string } {
  let inside: string | undefined;
  let outside: string | undefined;
  for (let index = 0; !(inside && outside); index += 1) {
    const key = `tenant-${index}`;
    if (bucketOf(key, groupId) <= percentage) inside ??= key;
    else outside ??= key;
  }
  return { inside: inside!, outside: outside! };
}

describe('gate client (SDK) and OpenFeature provider', () => {
  let db: TestDatabase;
  let admin: pg.Client;
  const closers: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('rollout_sdk');
    await prepareTarget(db);
    admin = await connect(db.url);
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await admin.end();
  });

  async function gates(migration: string, connectionString = db.url, logger = capturingLogger().logger): Promise<GateClient> {
    const client = await createGateClient({ connectionString, migration, logger, flushIntervalMs: 100 });
    closers.push(() => client.close());
    return client;
  }

  it('decides locally and follows a promotion and a rollback (how fast: npm run bench:gates)', async () => {
    const controller = await controllerFor(admin, rolloutConnector(db.url, SHORT_PLAN, 'sdk'));
    await controller.state();
    const client = await gates('sdk');
    const { inside, outside } = keysAround('sdk', 10);
    expect([client.readFrom(inside), client.readFrom(outside), client.writeTo()]).toEqual(['legacy', 'legacy', 'legacy']);

    await controller.promote({ force: true, reason: 'test' }, cliActor('alice'));
    await until(() => client.readFrom(inside) === 'new', { describe: `${inside} reading new after the promotion to 10%`, timeoutMs: 15_000 });
    expect(client.readFrom(outside)).toBe('legacy');

    await controller.rollback({ reason: 'test' }, cliActor('alice'));
    await until(() => client.readFrom(inside) === 'legacy', { describe: 'reads back on legacy after the rollback', timeoutMs: 15_000 });
  });

  it('reports decisions and errors as the evidence of the error-rate criterion', async () => {
    const controller = await controllerFor(admin, rolloutConnector(db.url, { ...SHORT_PLAN, watch: { errorWindow: '5m' } }, 'errs'));
    await controller.promote({ to: 'full', force: true, reason: 'test' }, cliActor('alice'));
    const client = await gates('errs');
    await until(() => client.snapshot?.phase === 'full', { describe: 'the client at phase full', timeoutMs: 15_000 });
    for (let index = 0; index < 40; index += 1) client.readFrom(`t${index}`);
    client.reportError('timeout');
    client.reportError('timeout');
    await until(async () => (await controller.status()).evidence.traffic.decisionsNew === 40, { describe: '40 decisions on new flushed', timeoutMs: 15_000 });
    const status = await controller.status();
    expect(status.evidence.traffic).toMatchObject({ decisionsNew: 40, errorsNew: 2 });
    expect(status.triggers.find((trigger) => trigger.name === 'error-rate')).toMatchObject({ fired: false, actual: '5% (2/40)' });
  });

  it('keeps the last known state when the control plane is unreachable, says so, and catches up when it is back', async () => {
    const controller = await controllerFor(admin, rolloutConnector(db.url, SHORT_PLAN, 'outage'));
    await controller.promote({ to: 'full', force: true, reason: 'test' }, cliActor('alice'));
    const server = new URL(db.url);
    const proxy: TcpProxy = await startTcpProxy(server.hostname, Number(server.port));
    closers.push(() => proxy.close());
    const proxied = new URL(db.url);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    const { lines, logger } = capturingLogger();
    const client = await gates('outage', proxied.toString(), logger);
    expect(client.readFrom('anyone')).toBe('new');

    await proxy.cut();
    await until(() => !client.connected, { describe: 'the client noticing the outage', timeoutMs: 10_000 });
    expect(client.readFrom('anyone')).toBe('new');
    expect(lines.some((line) => /rollout control plane unreachable .*keeping the last known gates of outage: phase full, 100% of reads on new, writes to legacy/.test(line))).toBe(true);
    expect(lines.join('\n')).not.toContain(server.password || '\u0000');

    await controller.rollback({ to: 'shadow', reason: 'while the client was cut off' }, cliActor('alice'));
    expect(client.readFrom('anyone')).toBe('new');
    await proxy.restore();
    await until(() => client.readFrom('anyone') === 'legacy', { describe: 'the client catching up after the outage', timeoutMs: 10_000 });
  });

  it('reads legacy before the first state, with a warning, when the control plane was never reachable', async () => {
    const { lines, logger } = capturingLogger();
    const client = await gates('nowhere', 'postgres://tandem@127.0.0.1:1/none', logger);
    expect([client.readFrom('x'), client.writeTo(), client.snapshot]).toEqual(['legacy', 'legacy', null]);
    expect(lines.some((line) => line.includes('rollout control plane unreachable') && line.includes('none yet: legacy everywhere'))).toBe(true);
  });

  it('serves the same decisions through OpenFeature and signals configuration changes', async () => {
    const controller = await controllerFor(admin, rolloutConnector(db.url, SHORT_PLAN, 'of'));
    await controller.state();
    const provider = new TandemProvider({ connectionString: db.url, migration: 'of', logger: capturingLogger().logger });
    await OpenFeature.setProviderAndWait('of', provider);
    closers.push(() => OpenFeature.clearProviders());
    const flags = OpenFeature.getClient('of');
    const { inside, outside } = keysAround('of', 10);
    expect(await flags.getStringValue('of.read', 'legacy', { targetingKey: inside })).toBe('legacy');
    const changed: unknown[] = [];
    flags.addHandler(ProviderEvents.ConfigurationChanged, (event) => changed.push(event?.flagsChanged));

    await controller.promote({ force: true, reason: 'test' }, cliActor('alice'));
    await until(async () => (await flags.getStringValue('of.read', 'legacy', { targetingKey: inside })) === 'new', { describe: 'OpenFeature reading new after the promotion', timeoutMs: 15_000 });
    expect(await flags.getStringValue('of.read', 'legacy', { targetingKey: outside })).toBe('legacy');
    expect(await flags.getStringValue('of.write', 'new')).toBe('legacy');
    const details = await flags.getStringDetails('of.read', 'legacy', { targetingKey: inside });
    expect(details).toMatchObject({ value: 'new', reason: 'SPLIT', variant: 'new', flagMetadata: { phase: 'canary', readNewPercent: 10 } });
    expect(await flags.getStringDetails('of.read', 'legacy', {})).toMatchObject({ value: 'legacy', errorCode: 'TARGETING_KEY_MISSING' });
    expect(await flags.getStringDetails('of.nope', 'legacy', {})).toMatchObject({ errorCode: 'FLAG_NOT_FOUND' });
    expect(await flags.getBooleanDetails('of.write', false)).toMatchObject({ value: false, errorCode: 'TYPE_MISMATCH' });
    expect(changed).toContainEqual(['of.read', 'of.write']);
  });

  it('sends every read of a service the phase names to new, through the SDK and OpenFeature, and counts them as decisions on new', async () => {
    const plan = { phases: [{ name: 'shadow', readNew: 0 }, { name: 'pilot', readNew: 0, readNewServices: ['billing'] }, { name: 'full', readNew: 100 }] };
    const controller = await controllerFor(admin, rolloutConnector(db.url, plan, 'named'));
    await controller.state();
    const billing = await createGateClient({ connectionString: db.url, migration: 'named', service: 'billing', logger: capturingLogger().logger, flushIntervalMs: 100 });
    closers.push(() => billing.close());
    const checkout = await gates('named');
    const provider = new TandemProvider({ client: checkout });
    await OpenFeature.setProviderAndWait('named', provider);
    closers.push(() => OpenFeature.clearProviders());
    const flags = OpenFeature.getClient('named');
    expect([billing.readFrom('tenant-1'), checkout.readFrom('tenant-1')]).toEqual(['legacy', 'legacy']);

    await controller.promote({ force: true, reason: 'pilot with the billing service' }, cliActor('alice'));
    await until(() => billing.readFrom('tenant-1') === 'new', { describe: 'the billing service reading new in phase pilot', timeoutMs: 15_000 });
    await until(() => checkout.snapshot?.phase === 'pilot', { describe: 'the checkout client at phase pilot', timeoutMs: 15_000 });
    expect(['tenant-1', 'tenant-2', 'tenant-3'].map((key) => billing.readFrom(key))).toEqual(['new', 'new', 'new']);
    expect(['tenant-1', 'tenant-2', 'tenant-3'].map((key) => checkout.readFrom(key))).toEqual(['legacy', 'legacy', 'legacy']);
    // A client may also decide for another service it names per call.
    expect(checkout.readFrom('tenant-1', 'billing')).toBe('new');
    expect(await flags.getStringDetails('named.read', 'legacy', { targetingKey: 'tenant-1', service: 'billing' })).toMatchObject({ value: 'new', reason: 'TARGETING_MATCH', flagMetadata: { readNewServices: 'billing' } });
    expect(await flags.getStringDetails('named.read', 'legacy', { targetingKey: 'tenant-1' })).toMatchObject({ value: 'legacy', reason: 'DEFAULT' });
    expect((await controller.status()).state.gates.readNewServices).toEqual(['billing']);

    // Decisions on new so far: 1 + 3 by billing, 1 by checkout for billing, 1 through OpenFeature.
    await until(async () => (await controller.status()).evidence.traffic.decisionsNew === 6, { describe: '6 decisions on new flushed to the traffic table', timeoutMs: 15_000 });
    await controller.rollback({ to: 'shadow', reason: 'pilot over' }, cliActor('alice'));
    await until(() => billing.readFrom('tenant-1') === 'legacy', { describe: 'the billing service back on legacy after the rollback', timeoutMs: 15_000 });
  });
});

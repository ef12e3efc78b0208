import { OFREPProvider } from '@openfeature/ofrep-provider';
import { OpenFeature } from '@openfeature/server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketOf } from '../../../src/rollout/bucketing.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { until } from '../../support/until.js';
import { recordReconcileRun, serveRollout, type ServedRollout } from './support.js';

const OPS_KEY = 'ops-key-9f2c4e1a7b';
const SERVICE_KEY = 'svc-key-3d8b6a0c52';

describe('tandem rollout serve', () => {
  let db: TestDatabase;
  let served: ServedRollout;
  let base: string;

  const state = async () => (await db.sql<{ phase: string; version: string }>("SELECT phase, version FROM tandem.rollout_state WHERE migration = 'srv'"))[0]!;
  const audits = async () => Number((await db.sql<{ n: string }>("SELECT count(*) AS n FROM tandem.rollout_audit WHERE migration = 'srv'"))[0]!.n);
  let post: ServedRollout['post'];

  beforeAll(async () => {
    db = await createTestDatabase('rollout_serve');
    served = await serveRollout(db, 'srv', { ops: OPS_KEY, services: SERVICE_KEY });
    base = served.base;
    post = served.post;
  });
  afterAll(async () => {
    await OpenFeature.clearProviders();
    await served?.stop();
  });

  it('answers 401 without a valid key and changes nothing; a read key may not change the rollout', async () => {
    const before = await state();
    for (const headers of [{}, { 'x-api-key': 'wrong' }, { authorization: 'Bearer wrong' }, { authorization: `Basic ${Buffer.from('ops:wrong').toString('base64')}` }] as Record<string, string>[]) {
      expect((await post('/api/promote', { force: true, reason: 'intruder' }, headers)).status).toBe(401);
      expect((await post('/api/rollback', { reason: 'intruder' }, headers)).status).toBe(401);
      expect((await post('/ofrep/v1/evaluate/flags/srv.read', { context: { targetingKey: 't' } }, headers)).status).toBe(401);
    }
    const browser = await fetch(`${base}/`);
    expect(browser.status).toBe(401);
    expect(browser.headers.get('www-authenticate')).toContain('Basic');
    const readOnly = await post('/api/promote', { force: true, reason: 'service key' }, { 'x-api-key': SERVICE_KEY });
    expect(readOnly.status).toBe(403);
    expect(await state()).toEqual(before);
    expect(await audits()).toBe(0);
    // The keys never reach the log, also when a request carries a wrong one.
    expect(served.output()).not.toContain(OPS_KEY);
    expect(served.output()).not.toContain(SERVICE_KEY);
    expect(served.output()).toContain('refused (no valid API key)');
  });

  it('speaks OFREP: configuration, single and bulk evaluation with ETag/304, and its error codes', async () => {
    const auth = { 'x-api-key': SERVICE_KEY };
    const configuration = await fetch(`${base}/ofrep/v1/configuration`, { headers: auth });
    expect(await configuration.json()).toMatchObject({ capabilities: { cacheInvalidation: { polling: { enabled: true } } } });

    const single = await post('/ofrep/v1/evaluate/flags/srv.read', { context: { targetingKey: 'tenant-1' } }, auth);
    expect(single.status).toBe(200);
    expect(await single.json()).toMatchObject({ key: 'srv.read', value: 'legacy', variant: 'legacy', reason: 'STATIC', metadata: { phase: 'shadow' } });

    const bulk = await post('/ofrep/v1/evaluate/flags', { context: { targetingKey: 'tenant-1' } }, auth);
    const etag = bulk.headers.get('etag')!;
    expect(etag).toMatch(/^".+"$/);
    expect(((await bulk.json()) as { flags: { key: string }[] }).flags.map((flag) => flag.key)).toEqual(['srv.read', 'srv.write']);
    expect((await post('/ofrep/v1/evaluate/flags', { context: { targetingKey: 'tenant-1' } }, { ...auth, 'if-none-match': etag })).status).toBe(304);

    expect(await (await post('/ofrep/v1/evaluate/flags/srv.nope', { context: {} }, auth)).json()).toMatchObject({ key: 'srv.nope', errorCode: 'FLAG_NOT_FOUND' });
    expect((await post('/ofrep/v1/evaluate/flags/srv.nope', { context: {} }, auth)).status).toBe(404);
    const invalid = await post('/ofrep/v1/evaluate/flags/srv.read', { context: 'tenant-1' }, auth);
    expect([invalid.status, ((await invalid.json()) as { errorCode: string }).errorCode]).toEqual([400, 'INVALID_CONTEXT']);
    const malformed = await post('/ofrep/v1/evaluate/flags/srv.read', '{"context": ', auth);
    expect([malformed.status, ((await malformed.json()) as { errorCode: string }).errorCode]).toEqual([400, 'PARSE_ERROR']);
  });

  it('serves the official OFREP provider, which sees a promotion and a rollback; the bulk ETag changes with them', async () => {
    await OpenFeature.setProviderAndWait('ofrep', new OFREPProvider({ baseUrl: base, headers: [['Authorization', `Bearer ${SERVICE_KEY}`]] }));
    const flags = OpenFeature.getClient('ofrep');
    let inside = 'tenant-0';
    for (let index = 0; bucketOf(inside, 'srv') > 10; index += 1) inside = `tenant-${index}`;
    expect(await flags.getStringValue('srv.read', 'legacy', { targetingKey: inside })).toBe('legacy');
    const etagBefore = (await post('/ofrep/v1/evaluate/flags', { context: { targetingKey: inside } }, { 'x-api-key': SERVICE_KEY })).headers.get('etag');

    await recordReconcileRun(db, 'srv', 'clean');
    await recordReconcileRun(db, 'srv', 'clean');
    const promoted = await post('/api/promote', { force: true, reason: 'lag measured by hand' }, { authorization: `Bearer ${OPS_KEY}` });
    expect(promoted.status).toBe(200);
    await until(async () => (await flags.getStringValue('srv.read', 'legacy', { targetingKey: inside })) === 'new', { describe: `${inside} reading new through OFREP after the promotion`, timeoutMs: 15_000 });
    expect(await flags.getStringDetails('srv.read', 'legacy', { targetingKey: inside })).toMatchObject({ value: 'new', reason: 'SPLIT', variant: 'new' });
    expect(await flags.getStringDetails('srv.read', 'legacy', {})).toMatchObject({ value: 'legacy', errorCode: 'TARGETING_KEY_MISSING' });
    const bulk = await post('/ofrep/v1/evaluate/flags', { context: { targetingKey: inside } }, { 'x-api-key': SERVICE_KEY, 'if-none-match': etagBefore! });
    expect(bulk.status).toBe(200);

    const rolledBack = await post('/api/rollback', { reason: 'checking the way back' }, { 'x-api-key': OPS_KEY });
    expect(rolledBack.status).toBe(200);
    await until(async () => (await flags.getStringValue('srv.read', 'new', { targetingKey: inside })) === 'legacy', { describe: 'OFREP back on legacy after the rollback', timeoutMs: 15_000 });

    const history = (await (await fetch(`${base}/api/history`, { headers: { 'x-api-key': SERVICE_KEY } })).json()) as { entries: { action: string; actorKind: string; actor: string }[] };
    expect(history.entries.slice(0, 2).map((entry) => [entry.action, entry.actorKind, entry.actor])).toEqual([
      ['rollback', 'api-key', 'ops'],
      ['promote', 'api-key', 'ops'],
    ]);
    const refused = await post('/api/promote', { to: 'cutover' }, { 'x-api-key': OPS_KEY });
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { error: string }).error).toMatch(/from shadow to cutover skips canary, full/);
  });

  it('answers new over OFREP for a service the phase names, in the context as `service`, and by the percentage for the others', async () => {
    const plan = { phases: [{ name: 'shadow', readNew: 0 }, { name: 'pilot', readNew: 0, readNewServices: ['billing'] }] };
    const pilot = await serveRollout(db, 'pilot', { ops: OPS_KEY, services: SERVICE_KEY }, plan);
    try {
      const auth = { 'x-api-key': SERVICE_KEY };
      expect((await pilot.post('/api/promote', { force: true, reason: 'pilot with billing' }, { 'x-api-key': OPS_KEY })).status).toBe(200);
      await OpenFeature.setProviderAndWait('pilot', new OFREPProvider({ baseUrl: pilot.base, headers: [['Authorization', `Bearer ${SERVICE_KEY}`]] }));
      const flags = OpenFeature.getClient('pilot');
      expect(await flags.getStringDetails('pilot.read', 'legacy', { targetingKey: 'tenant-1', service: 'billing' })).toMatchObject({ value: 'new', reason: 'TARGETING_MATCH' });
      expect(await flags.getStringDetails('pilot.read', 'legacy', { targetingKey: 'tenant-1', service: 'checkout' })).toMatchObject({ value: 'legacy', reason: 'DEFAULT' });
      // Bulk answers depend on the context: each context has its own ETag.
      const [forBilling, forCheckout] = [await pilot.post('/ofrep/v1/evaluate/flags', { context: { service: 'billing' } }, auth), await pilot.post('/ofrep/v1/evaluate/flags', { context: { service: 'checkout' } }, auth)];
      expect(forBilling.headers.get('etag')).not.toBe(forCheckout.headers.get('etag'));
      expect(((await forBilling.json()) as { flags: { key: string; value: string }[] }).flags.find((flag) => flag.key === 'pilot.read')?.value).toBe('new');
      const invalid = await pilot.post('/ofrep/v1/evaluate/flags/pilot.read', { context: { targetingKey: 't', service: 42 } }, auth);
      expect([invalid.status, ((await invalid.json()) as { errorCode: string }).errorCode]).toEqual([400, 'INVALID_CONTEXT']);
    } finally {
      await pilot.stop();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { parseConnector } from '../../../src/config/load.js';
import { renderBlueprint } from '../../../src/rollout/blueprint.js';
import { escapeHtml, renderConsole, sparkline } from '../../../src/rollout/console.js';
import { evaluateEntry, evaluateTriggers } from '../../../src/rollout/criteria.js';
import { formatDuration, parseDuration } from '../../../src/config/duration.js';
import { evaluateFlag, type GateSnapshot } from '../../../src/rollout/flags.js';
import { nextPhase, phaseNamed } from '../../../src/rollout/plan.js';
import { planTimeline, renderHistory, renderPlan, renderStatus } from '../../../src/rollout/report.js';
import { bucketOf } from '../../../src/rollout/bucketing.js';
import { connectorInput, evidence, hoursAfter, stateIn, T0, testPlan } from './fixtures.js';

const plan = testPlan();

describe('durations', () => {
  it.each([
    ['90s', 90_000],
    ['15m', 900_000],
    ['1.5h', 5_400_000],
    ['7d', 604_800_000],
    [250, 250],
  ] as const)('%s is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it('formats the two largest units', () => {
    expect([formatDuration(0), formatDuration(5_400_000), formatDuration(90_061_000), formatDuration(450)]).toEqual(['0s', '1h 30m', '1d 1h', '450ms']);
  });
  it('are rejected in the connector with the path', () => {
    expect(() => parseConnector(connectorInput({ watch: { interval: 'soon' } }))).toThrow(/rollout\.watch\.interval: must be a duration such as 90s, 15m, 4h or 7d/);
  });
});

describe('the rollout section of the connector', () => {
  it.each([
    [{ phases: [{ name: 'a', readNew: 5 }, { name: 'b', readNew: 10 }] }, /rollout\.phases\[0\]: the first phase must keep every reader and writer on legacy/],
    [{ phases: [{ name: 'a', readNew: 0, readNewServices: ['billing'] }, { name: 'b', readNew: 10 }] }, /rollout\.phases\[0\]: the first phase must keep every reader and writer on legacy/],
    [{ phases: [{ name: 'a', readNew: 0 }, { name: 'b', readNew: 0, readNewServices: [''] }] }, /rollout\.phases\[1\]\.readNewServices\[0\]: a service name cannot be empty/],
    [{ phases: [{ name: 'a', readNew: 0 }, { name: 'a', readNew: 10 }] }, /rollout\.phases\[1\]\.name: phase "a" is listed twice/],
    [{ phases: [{ name: 'a', readNew: 0 }, { name: 'b', readNew: 10, reverseSync: true }] }, /rollout\.phases\[1\]\.reverseSync: reverse sync runs only while writes go to new/],
    [{ phases: [{ name: 'a', readNew: 0 }, { name: 'b', readNew: 101 }] }, /rollout\.phases\[1\]\.readNew/],
    [{ rollback: { to: 'nowhere' }, phases: [{ name: 'a', readNew: 0 }, { name: 'b', readNew: 1 }] }, /rollout\.rollback\.to: no phase "nowhere" in phases/],
    [{ serve: { apiKeys: { 'bad key': 'x' } } }, /rollout\.serve\.apiKeys\["bad key"\]: Invalid key in record/],
    [{ surprise: true }, /rollout: Unrecognized key: "surprise"/],
  ])('refuses %j', (rollout, message) => {
    expect(() => parseConnector(connectorInput(rollout))).toThrow(message);
  });

  it('defaults to the eight-phase plan with its approvals', () => {
    expect(plan.phases.map((phase) => `${phase.name}:${phase.gates.readNew}:${phase.gates.write}:${phase.approvals.count}`)).toEqual([
      'shadow:0:legacy:0',
      'verify:0:legacy:0',
      'canary:5:legacy:1',
      'ramp-25:25:legacy:0',
      'ramp-50:50:legacy:0',
      'ramp-100:100:legacy:0',
      'cutover:100:new:2',
      'contract:100:new:1',
    ]);
    expect(phaseNamed(plan, 'contract').gates.reverseSync).toBe(false);
    expect(phaseNamed(plan, 'cutover').gates.reverseSync).toBe(true);
    expect(plan.groupId).toBe('shop');
    expect(Object.isFrozen(plan.phases[0]!.gates)).toBe(true);
  });
});

describe('flags (OpenFeature and OFREP)', () => {
  const snapshot: GateSnapshot = { migration: 'shop', groupId: 'shop', phase: 'canary', readNew: 5, readNewServices: [], write: 'legacy', reverseSync: false, version: 3 };
  it('evaluate read by the targeting key with the SDK’s bucketing, and write statically', () => {
    for (const key of ['a', 'b', 'tenant-17', '42']) {
      const evaluation = evaluateFlag(snapshot, 'shop.read', { targetingKey: key });
      expect(evaluation).toMatchObject({ ok: true, value: bucketOf(key, 'shop') <= 5 ? 'new' : 'legacy', reason: 'SPLIT' });
    }
    expect(evaluateFlag(snapshot, 'shop.write', {})).toMatchObject({ ok: true, value: 'legacy', reason: 'STATIC', metadata: { phase: 'canary', version: 3 } });
    expect(evaluateFlag({ ...snapshot, readNew: 100 }, 'shop.read', {})).toMatchObject({ ok: true, value: 'new', reason: 'STATIC' });
  });
  it('evaluate read as new for a service the phase names, whatever the key, and by the percentage for the others', () => {
    const named: GateSnapshot = { ...snapshot, readNew: 0, readNewServices: ['billing', 'search'] };
    expect(evaluateFlag(named, 'shop.read', { service: 'billing' })).toMatchObject({ ok: true, value: 'new', reason: 'TARGETING_MATCH', metadata: { readNewServices: 'billing,search' } });
    // Not STATIC: the answer depends on the context while services are named.
    expect(evaluateFlag(named, 'shop.read', { service: 'checkout', targetingKey: 'a' })).toMatchObject({ ok: true, value: 'legacy', reason: 'DEFAULT' });
    expect(evaluateFlag(named, 'shop.read', {})).toMatchObject({ ok: true, value: 'legacy', reason: 'DEFAULT' });
    const keys = ['a', 'b', 'tenant-17', '42', 'tenant-99'];
    for (const key of keys) {
      expect(evaluateFlag({ ...named, readNew: 5 }, 'shop.read', { service: 'checkout', targetingKey: key })).toMatchObject({ value: bucketOf(key, 'shop') <= 5 ? 'new' : 'legacy', reason: 'SPLIT' });
      expect(evaluateFlag({ ...named, readNew: 5 }, 'shop.read', { service: 'search', targetingKey: key })).toMatchObject({ value: 'new', reason: 'TARGETING_MATCH' });
    }
  });
  it.each([
    ['shop.other', {}, 'FLAG_NOT_FOUND'],
    ['shop.read', {}, 'TARGETING_KEY_MISSING'],
    ['shop.read', { targetingKey: { id: 1 } }, 'INVALID_CONTEXT'],
    ['shop.read', { targetingKey: 'a', service: 7 }, 'INVALID_CONTEXT'],
  ] as const)('%s with %j is %s', (key, context, code) => {
    expect(evaluateFlag(snapshot, key, context as Record<string, unknown>)).toMatchObject({ ok: false, errorCode: code });
  });
});

describe('CLI views', () => {
  const state = stateIn(plan, 'canary', T0, { approvals: [{ phase: 'ramp-25', by: 'bob', at: T0 }] });
  const now = hoursAfter(T0, 0.5);
  const status = { plan, state, current: phaseNamed(plan, 'canary'), next: nextPhase(plan, 'canary'), verdict: evaluateEntry(nextPhase(plan, 'canary')!, state, evidence(now)), triggers: evaluateTriggers(plan, state, evidence(now)), evidence: evidence(now) };

  it('status lists every criterion of the next phase with its value and the triggers', () => {
    const text = renderStatus(status);
    expect(text).toContain('migration shop: phase canary (3 of 8) since 2026-01-01T00:00:00.000Z, version 7');
    expect(text).toContain('gates: reads 5% new, writes legacy (stickiness tenantId, group id shop)');
    expect(text).toContain('next: ramp-25 (reads 25% new, writes legacy): not ready');
    expect(text).toContain('  ✓ reconcile: last 3 forward reconcile runs clean; now 3 of 3 clean (runs 12, 11, 10)');
    expect(text).toContain('  ✗ soak: 1h in canary; now 30m so far (from 2026-01-01T01:00:00.000Z)');
    expect(text).toContain('  ✓ error-rate: error rate on new ≤ 5%; now 0.1% (1/1000)');
  });

  it('plan gives each phase ahead its earliest start from the soak times', () => {
    const timeline = planTimeline(plan, state, new Date(now));
    expect(timeline.map((item) => [item.phase.name, item.status, item.earliest])).toEqual([
      ['shadow', 'done', null],
      ['verify', 'done', null],
      ['canary', 'current', T0],
      ['ramp-25', 'ahead', hoursAfter(T0, 1)],
      ['ramp-50', 'ahead', hoursAfter(T0, 3)],
      ['ramp-100', 'ahead', hoursAfter(T0, 7)],
      ['cutover', 'ahead', hoursAfter(T0, 31)],
      ['contract', 'ahead', hoursAfter(T0, 31 + 7 * 24)],
    ]);
    expect(renderPlan(plan, state, new Date(now))).toMatch(/▶ canary\s+5%\s+legacy\s+off\s+3 clean runs, lag ≤ 30s\s+1h\s+1\s+since 2026-01-01T00:00:00.000Z/);
  });

  it('history shows who, what and why', () => {
    expect(renderHistory([])).toBe('no changes yet\n');
    const text = renderHistory([{ id: '4', migration: 'shop', at: T0, action: 'promote', from: 'verify', to: 'canary', actorKind: 'cli', actor: 'alice', osUser: 'deploy', reason: 'go', forced: true, stateVersion: 4, evidence: {} }]);
    expect(text).toMatch(/4\s+2026-01-01T00:00:00.000Z\s+promote \(forced\)\s+verify → canary\s+alice \(deploy\)\s+go/);
  });

  it('the console escapes what it shows and draws trends', () => {
    expect(escapeHtml('<script>"x" & \'y\'</script>')).toBe('&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;');
    expect(sparkline([], { label: 'lag', unit: 's' })).toContain('no samples');
    const chart = sparkline([{ at: T0, value: 1 }, { at: T0, value: 3 }], { label: 'lag', unit: 's', bound: 4 });
    expect(chart).toContain('<polyline points="4.0,34.0 216.0,14.0"/>');
    expect(chart).toContain('lag: 3s');
    const html = renderConsole({ status, history: [{ id: '1', migration: 'shop', at: T0, action: 'approve', from: 'canary', to: 'ramp-25', actorKind: 'api-key', actor: '<ops>', osUser: null, reason: null, forced: false, stateVersion: 7, evidence: {} }], trends: { lag: [], drift: [], errorRate: [] }, lastReconcile: null, viewer: 'ops' });
    expect(html).toContain('<li class="current" aria-current="step">canary');
    expect(html).toContain('key &lt;ops&gt;');
    expect(html).not.toContain('<ops>');
  });

  it("the console shows the last reconcile run's tables as counts, drift marked", () => {
    const tables = [
      { table: 'app.customer', rowsCompared: 12_345, missing: 0, extra: 0, different: 0, columns: {}, inFlightResolved: 2, repaired: null },
      { table: 'app.orders', rowsCompared: 889, missing: 1, extra: 0, different: 2, columns: { amount_cents: 2 }, inFlightResolved: 0, repaired: null },
    ];
    const lastReconcile = { id: '7', direction: 'forward', status: 'drift', drift_rows: 3, finished_at: T0, tables };
    const html = renderConsole({ status, history: [], trends: { lag: [], drift: [], errorRate: [] }, lastReconcile, viewer: 'ops' });
    expect(html).toContain('<tr><td><code>app.customer</code></td><td class="num">12,345</td><td class="num">0</td><td class="num">0</td><td class="num">0</td><td class="num">2</td></tr>');
    expect(html).toContain('<td class="num unmet">1</td><td class="num">0</td><td class="num unmet">2 <span class="muted">(amount_cents 2)</span></td>');
    expect(html).not.toContain('rowsCompared');
  });
});

describe('blueprint', () => {
  it('draws tables → topics → tables, reverse sync, gates and phases in Mermaid', () => {
    const connector = parseConnector({
      ...connectorInput({ reverse: { 'app.clients': { to: 'legacy.customers', columns: { name: 'full_name' } } } }),
      source: { url: 'postgres://l/db', schema: 'legacy', tables: ['customers', 'orders'] },
      mappings: { customers: { to: 'clients', columns: { full_name: 'name' }, where: 'NOT is_test' } },
    });
    const text = renderBlueprint(connector);
    expect(text.split('\n')[0]).toBe('flowchart LR');
    expect(text).toContain('src_legacy_customers -- capture --> topic_legacy_customers');
    expect(text).toContain('topic_legacy_customers>"shop.legacy.customers"]');
    expect(text).toContain('topic_legacy_customers -- "translate: 1 column, where NOT is_test" --> dst_app_clients');
    expect(text).toContain('topic_legacy_orders -- "translate: copy" --> dst_app_orders');
    expect(text).toContain('dst_app_clients -. "reverse sync after cutover" .-> src_legacy_customers');
    expect(text).toContain('phase_ramp_100 --> phase_cutover');
    expect(text).toContain('phase_cutover["cutover<br/>read 100% · write new · reverse sync<br/><small>5 clean runs, lag ≤ 30s, errors ≤ 1%, soak 1d, 2 approvals</small>"]');
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { parseConnector } from '../../../src/config/load.js';
import type { Connector } from '../../../src/config/index.js';
import { migrate } from '../../../src/pg/bookkeeping/migrate.js';
import { RECONCILE_BOOKKEEPING } from '../../../src/pg/bookkeeping/reconcile.js';
import { ROLLOUT_BOOKKEEPING } from '../../../src/pg/bookkeeping/rollout.js';
import { RolloutController } from '../../../src/rollout/controller.js';
import type { LagEvidence } from '../../../src/rollout/criteria.js';
import { PostgresEvidence, type LagProbe } from '../../../src/rollout/evidence.js';
import { buildPlan } from '../../../src/rollout/plan.js';
import { repoRoot } from '../../support/cli.js';
import { testLogger } from '../../support/output.js';
import type { TestDatabase } from '../../support/postgres.js';
import { spawnTandem } from '../../support/process.js';

export async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

/** Rollout's tables, and reconcile's (its own migration), so tests drive reconcile evidence directly. */
export async function prepareTarget(db: TestDatabase): Promise<void> {
  const client = await connect(db.url);
  try {
    await migrate(client, ROLLOUT_BOOKKEEPING);
    await migrate(client, RECONCILE_BOOKKEEPING);
  } finally {
    await client.end();
  }
}

/** Records a finished reconcile run as reconcile would; returns its id. */
export async function recordReconcileRun(db: TestDatabase, connector: string, status: 'clean' | 'drift' | 'error', options: { direction?: 'forward' | 'reverse'; driftRows?: number } = {}): Promise<string> {
  const rows = await db.sql<{ id: string }>(
    `INSERT INTO tandem.reconcile_run (connector, started_at, finished_at, status, direction, cut, drift_rows, tables)
     VALUES ($1, clock_timestamp(), clock_timestamp(), $2, $3, '{}', $4, '{}') RETURNING id`,
    [connector, status, options.direction ?? 'forward', options.driftRows ?? (status === 'drift' ? 1 : 0)],
  );
  return String(rows[0]!.id);
}

/** Lag evidence set by the test (translate's applied position is not produced in these tests). */
export class SettableLag implements LagProbe {
  value: LagEvidence = { seconds: 1, appliedPosition: '0/1000', sourceLsn: '0/1000' };
  async read(): Promise<LagEvidence> {
    return this.value;
  }
}

export function rolloutConnector(url: string, rollout: Record<string, unknown> = {}, name = 'shop'): Connector {
  return parseConnector(rolloutConnectorInput(url, rollout, name));
}

export function rolloutConnectorInput(url: string, rollout: Record<string, unknown> = {}, name = 'shop'): Record<string, unknown> {
  return {
    name,
    source: { url, schema: 'legacy', tables: ['customers'] },
    kafka: { brokers: ['localhost:9092'] },
    registry: { url: 'http://localhost:8081' },
    target: { url, schema: 'app' },
    rollout,
  };
}

/** A short plan whose criteria tests can meet: shadow → canary 10% (2 clean runs) → full 100% → cutover. */
export const SHORT_PLAN = {
  phases: [
    { name: 'shadow', readNew: 0 },
    { name: 'canary', readNew: 10, criteria: { reconcileCleanRuns: 2, maxLagSeconds: 30 } },
    { name: 'full', readNew: 100, criteria: { reconcileCleanRuns: 2 } },
    { name: 'cutover', readNew: 100, write: 'new', criteria: { reconcileCleanRuns: 1 }, approvals: { count: 1 } },
  ],
  reverse: { 'app.customers': { to: 'legacy.customers' } },
};

export async function controllerFor(client: pg.ClientBase, connector: Connector, lag: LagProbe = new SettableLag()): Promise<RolloutController> {
  const plan = buildPlan(connector);
  return new RolloutController({ plan, client, evidence: new PostgresEvidence(client, plan.migration, lag, plan.watch.errorWindowMs), logger: testLogger('rollout') });
}

/**
 * The connector as a file for `tandem` child processes. API keys are declared with env() as in a
 * real connector; the test passes their values in the child's environment.
 */
export function writeRolloutConnectorFile(url: string, rollout: Record<string, unknown>, name: string, apiKeys: Record<string, { variable: string; role?: 'read' | 'operate' }> = {}): string {
  const directory = mkdtempSync(path.join(tmpdir(), 'tandem-rollout-'));
  const file = path.join(directory, `${name}.ts`);
  const keys = Object.entries(apiKeys)
    .map(([key, { variable, role }]) => `${JSON.stringify(key)}: { key: env(${JSON.stringify(variable)}), role: ${JSON.stringify(role ?? 'read')} }`)
    .join(', ');
  const input = rolloutConnectorInput(url, rollout, name);
  const serve = JSON.stringify((rollout.serve as Record<string, unknown> | undefined) ?? {}).slice(0, -1);
  const rolloutText = `{ ...${JSON.stringify(rollout)}, serve: ${serve}${serve.length > 1 ? ', ' : ''}apiKeys: { ${keys} } } }`;
  writeFileSync(
    file,
    `import { env } from ${JSON.stringify(path.join(repoRoot, 'src/config/env.js'))};\nconst input = ${JSON.stringify({ ...input, rollout: undefined })};\nexport default { ...input, rollout: ${rolloutText} };\n`,
  );
  return file;
}

export interface ServedRollout {
  base: string;
  /** What the server printed so far (its log lines). */
  output(): string;
  post(route: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  stop(): Promise<void>;
}

/**
 * `tandem rollout serve` as a child process for migration `name` on the test database, with a
 * plan (the short one unless given) and two keys: `ops` (operate) and `services` (read).
 */
export async function serveRollout(db: TestDatabase, name: string, keys: { ops: string; services: string }, plan: Record<string, unknown> = SHORT_PLAN): Promise<ServedRollout> {
  await prepareTarget(db);
  const file = writeRolloutConnectorFile(db.url, plan, name, { ops: { variable: 'TEST_OPS_KEY', role: 'operate' }, services: { variable: 'TEST_SERVICE_KEY' } });
  const server = spawnTandem(['rollout', 'serve', '--port', '0', '--host', '127.0.0.1', '--config', file], { TEST_OPS_KEY: keys.ops, TEST_SERVICE_KEY: keys.services, TANDEM_LOG_LEVEL: 'info' });
  const line = await server.waitForOutput(/listening on port \d+/);
  const base = `http://127.0.0.1:${/\d+$/.exec(line)![0]}`;
  return {
    base,
    output: () => server.output(),
    post: (route, body, headers = {}) =>
      fetch(`${base}${route}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) }),
    async stop() {
      if (server.child.exitCode === null) {
        server.child.kill('SIGTERM');
        await server.exited;
      }
    },
  };
}

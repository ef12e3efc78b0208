import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnector } from '../../../src/config/load.js';
import type { Connector } from '../../../src/config/index.js';
import { checkReplicationOrigins } from '../../../src/doctor/checks.js';
import { TandemError } from '../../../src/errors.js';
import { createKafka } from '../../../src/kafka/client.js';
import { originClient } from '../../../src/pg/replication-origin.js';
import { prepareTranslator } from '../../../src/translate/setup.js';
import { uniqueName } from '../../support/connector.js';
import { testLogger } from '../../support/output.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { until } from '../../support/until.js';

/**
 * Translate marks what it applies with a replication origin; without superuser the role needs
 * EXECUTE on the origin functions. Doctor reports it on the target and, with rollout.reverse, on
 * legacy, and translate refuses to start, both with the GRANTs to run.
 */
describe('replication origin privileges and origins per apply connection', () => {
  let legacy: TestDatabase;
  let fresh: TestDatabase;
  const role = uniqueName('tandem_no_origin');
  const asRole = (url: string) => url.replace(/\/\/[^@]*@/, `//${role}:secret@`);
  let connector: Connector;
  const grants = `GRANT EXECUTE ON FUNCTION pg_replication_origin_create(text) TO "${role}"; GRANT EXECUTE ON FUNCTION pg_replication_origin_session_setup(text) TO "${role}"; GRANT EXECUTE ON FUNCTION pg_replication_origin_session_reset() TO "${role}"; GRANT EXECUTE ON FUNCTION pg_replication_origin_drop(text) TO "${role}";`;

  beforeAll(async () => {
    legacy = await createTestDatabase('origin_legacy');
    fresh = await createTestDatabase('origin_new');
    await legacy.sql(`CREATE ROLE ${role} LOGIN PASSWORD 'secret'`);
    await legacy.sql(`CREATE SCHEMA legacy AUTHORIZATION ${role}; CREATE TABLE legacy.customers (id int PRIMARY KEY, name text NOT NULL); ALTER TABLE legacy.customers OWNER TO ${role}`);
    // The role owns what translate touches on new, so the origin functions are all it lacks.
    await fresh.sql(`GRANT CREATE ON DATABASE ${fresh.name} TO ${role}; CREATE SCHEMA app AUTHORIZATION ${role}; CREATE TABLE app.customers (id int PRIMARY KEY, full_name text NOT NULL); ALTER TABLE app.customers OWNER TO ${role}`);
    connector = parseConnector({
      name: uniqueName('origins'),
      source: { url: asRole(legacy.url), schema: 'legacy', tables: ['customers'] },
      kafka: { brokers: ['127.0.0.1:1'] },
      registry: { url: 'http://127.0.0.1:1' },
      target: { url: asRole(fresh.url), schema: 'app' },
      mappings: { customers: { to: 'customers', columns: { full_name: 'name' } } },
      rollout: { reverse: { 'app.customers': { to: 'legacy.customers', columns: { name: 'full_name' } } } },
    });
  });

  afterAll(async () => {
    for (const db of [legacy, fresh]) await db?.sql(`DROP OWNED BY ${role}`).catch(() => undefined);
    await legacy?.sql(`DROP ROLE IF EXISTS ${role}`);
  });

  it('doctor reports the missing privilege on new and, with rollout.reverse, on legacy, with the GRANTs as the fix', async () => {
    const results = await checkReplicationOrigins(connector);
    expect(results.map((result) => [result.check, result.status, result.fix])).toEqual([
      ['replication origin (target)', 'fail', `as a superuser on that database: ${grants}`],
      ['replication origin (legacy, reverse sync)', 'fail', `as a superuser on that database: ${grants}`],
    ]);
    expect(results[0]!.detail).toContain(`role ${role} may not execute pg_replication_origin_create(text), pg_replication_origin_session_setup(text)`);
  });

  it('translate refuses to start with the same GRANTs, and starts once they are run', async () => {
    const prepare = () => prepareTranslator(connector, createKafka(connector.kafka, testLogger('kafka')), { logger: testLogger('translate') });
    const refused = await prepare().then(
      (prepared) => prepared.close().then(() => null),
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(TandemError);
    expect((refused as TandemError).message).toContain(`role ${role} may not use replication origins on`);
    expect((refused as TandemError).fix).toBe(`as a superuser on that database: ${grants}`);

    await fresh.sql(grants);
    const prepared = await prepare();
    await prepared.close();
    const [target, reverse] = await checkReplicationOrigins(connector);
    expect([target!.status, reverse!.status]).toEqual(['ok', 'fail']);
  });

  it('gives each concurrent connection its own origin and drops it when the connection closes', async () => {
    const base = `tandem_${uniqueName('pool')}`;
    const pool = new pg.Pool({ connectionString: fresh.url, max: 3, Client: originClient(base, fresh.url) });
    const origins = async () => (await fresh.sql<{ roname: string }>('SELECT roname FROM pg_replication_origin WHERE roname LIKE $1 ORDER BY roname', [`${base}%`])).map((row) => row.roname);
    try {
      const clients = await Promise.all([pool.connect(), pool.connect(), pool.connect()]);
      const setUp = await Promise.all(clients.map(async (client) => (await client.query<{ setup: boolean }>('SELECT pg_replication_origin_session_is_setup() AS setup')).rows[0]!.setup));
      expect(setUp).toEqual([true, true, true]);
      expect(await origins()).toEqual([base, `${base}_2`, `${base}_3`]);
      for (const client of clients) client.release();
    } finally {
      await pool.end();
    }
    await until(async () => (await origins()).length === 0, { describe: `the origins ${base}* dropped as their connections closed` });
  });
});

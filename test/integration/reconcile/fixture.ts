import type { Connector } from '../../../src/config/index.js';
import { lookup } from '../../../src/mapping/helpers.js';
import { createLogger } from '../../../src/observability/logger.js';
import { testConnector } from '../../support/connector.js';
import type { TestDatabase } from '../../support/postgres.js';

export const silentLogger = createLogger({ level: 'silent', pretty: false });

/**
 * Legacy: customers (split into customer + customer_address, filtered, soft-deleted), loyalty
 * (merged into customer), accounts with a composite text key. Target: the new tables, filled by
 * an independent INSERT … SELECT written here (not the mapping module), so "clean" means the
 * mapping and this SQL agree.
 */
export async function createShop(db: TestDatabase, rows: number, options: { targetDb?: TestDatabase } = {}): Promise<void> {
  const target = options.targetDb ?? db;
  await db.sql(`CREATE SCHEMA legacy;
    CREATE TABLE legacy.customers (id bigint PRIMARY KEY, first_name text, last_name text, email text, status_code int, created text, balance float8, is_test boolean NOT NULL DEFAULT false, address text);
    CREATE TABLE legacy.loyalty (customer_id bigint PRIMARY KEY, points int);
    CREATE TABLE legacy.accounts (tenant text, code text, label text, opened date, PRIMARY KEY (tenant, code));
    INSERT INTO legacy.customers
      SELECT i * 7 + (CASE WHEN i > ${rows / 2} THEN 1000000 ELSE 0 END), 'First' || i, 'Last' || i, CASE WHEN i % 10 = 0 THEN NULL WHEN i % 11 = 0 THEN '' ELSE 'User' || i || '@Example.com' END,
             1 + i % 3, '2024-03-' || lpad((1 + i % 28)::text, 2, '0') || ' 10:' || lpad((i % 60)::text, 2, '0') || ':00', (i % 1000) / 7.0, i % 50 = 0, 'Street ' || i || E'\\nTown'
        FROM generate_series(1, ${rows}) AS i;
    INSERT INTO legacy.loyalty SELECT i * 7, i % 500 FROM generate_series(1, ${rows}, 3) AS i;
    INSERT INTO legacy.accounts SELECT t, 'acc-' || lpad(to_hex(i), 6, '0'), 'Label ' || i, date '2020-01-01' + i FROM unnest(ARRAY['acme', 'Globex', 'initech', 'zeta']) AS t, generate_series(1, ${Math.ceil(rows / 4)}) AS i;`);
  await target.sql(`CREATE SCHEMA app;
    CREATE TABLE app.customer (id bigint PRIMARY KEY, full_name text, email text, status text, signed_up_at timestamptz, balance_cents bigint, points int, deleted_at timestamptz);
    CREATE TABLE app.customer_address (customer_id bigint PRIMARY KEY, line1 text);
    CREATE TABLE app.account (tenant text, code text, label text, opened date, PRIMARY KEY (tenant, code));`);
  if (target === db) await fillTarget(db);
  else throw new Error('createShop: a separate target database is filled by the caller');
}

/** The independent expected state, written by hand. */
export async function fillTarget(db: TestDatabase): Promise<void> {
  await db.sql(`SET TimeZone = 'UTC';
    INSERT INTO app.customer (id, full_name, email, status, signed_up_at, balance_cents, points)
      SELECT c.id, trim(c.first_name || ' ' || c.last_name), lower(c.email), CASE c.status_code WHEN 1 THEN 'active' WHEN 2 THEN 'suspended' ELSE 'unknown' END,
             c.created::timestamp AT TIME ZONE 'Europe/Berlin', round(c.balance * 100)::bigint, l.points
        FROM legacy.customers c LEFT JOIN legacy.loyalty l ON l.customer_id = c.id WHERE NOT c.is_test;
    INSERT INTO app.customer (id, full_name, points) SELECT l.customer_id, NULL, l.points FROM legacy.loyalty l
      WHERE NOT EXISTS (SELECT 1 FROM legacy.customers c WHERE c.id = l.customer_id AND NOT c.is_test);
    INSERT INTO app.customer_address SELECT id, split_part(address, E'\\n', 1) FROM legacy.customers;
    INSERT INTO app.account SELECT * FROM legacy.accounts;
    ANALYZE;`);
}

export function shopConnector(db: TestDatabase, reconcile: Record<string, unknown> = {}, targetDb?: TestDatabase): Connector {
  return testConnector({
    name: 'shop',
    sourceUrl: db.url,
    targetUrl: (targetDb ?? db).url,
    tables: ['legacy.customers', 'legacy.loyalty', 'legacy.accounts'],
    brokers: ['127.0.0.1:9'],
    registryUrl: 'http://127.0.0.1:9',
    extra: {
      mappings: {
        'legacy.customers': [
          {
            to: 'app.customer',
            columns: {
              id: 'id',
              full_name: "trim(first_name || ' ' || last_name)",
              email: 'lower(email)',
              status: lookup('status_code', { 1: 'active', 2: 'suspended' }, 'unknown'),
              signed_up_at: "created::timestamp AT TIME ZONE 'Europe/Berlin'",
              balance_cents: 'round(balance * 100)',
            },
            where: 'NOT is_test',
            onDelete: { set: { deleted_at: 'now()' } },
          },
          { to: 'app.customer_address', columns: { customer_id: 'id', line1: "split_part(address, E'\\n', 1)" } },
        ],
        'legacy.loyalty': { to: 'app.customer', columns: { id: 'customer_id', points: 'points' } },
        'legacy.accounts': { to: 'app.account' },
      },
      reconcile: { chunkRows: 500, bisectRows: 50, bisectFactor: 8, settleRounds: 0, ...reconcile },
    },
  });
}

/**
 * The migration the translate tests run: legacy customers / orders / loyalty → app.customer (with
 * soft delete and a merge from loyalty), app.customer_address (split), app.orders (FK to
 * app.customer, float → integer cents, text dates → timestamptz). `expectTargetEqualsLegacy`
 * compares both sides with SQL written here, independently of the mapping module.
 */
import { expect } from 'vitest';
import { lookup } from '../../../src/mapping/helpers.js';
import type { TestDatabase } from '../../support/postgres.js';

export const LEGACY_DDL = `CREATE SCHEMA legacy;
  CREATE TABLE legacy.customers (
    id int PRIMARY KEY, first_name text NOT NULL, last_name text NOT NULL, email text, status_code int,
    created text NOT NULL, address text, is_test boolean NOT NULL DEFAULT false, notes text
  );
  ALTER TABLE legacy.customers ALTER COLUMN notes SET STORAGE EXTERNAL;
  CREATE TABLE legacy.orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES legacy.customers, total float8 NOT NULL, placed text NOT NULL);
  CREATE TABLE legacy.loyalty (customer_id int PRIMARY KEY, points int NOT NULL);`;

export const TARGET_DDL = `CREATE SCHEMA app;
  CREATE TABLE app.customer (
    id int PRIMARY KEY, full_name text, email text, status text NOT NULL DEFAULT 'unknown', signed_up_at timestamptz,
    notes text, notes_length int, points int, deleted_at timestamptz
  );
  CREATE TABLE app.customer_address (customer_id int PRIMARY KEY REFERENCES app.customer, line1 text NOT NULL, city text);
  CREATE TABLE app.orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES app.customer, total_cents bigint NOT NULL, placed_at timestamptz NOT NULL);`;

export const TABLES = ['legacy.customers', 'legacy.orders', 'legacy.loyalty'];

export const MAPPINGS = {
  'legacy.customers': [
    {
      to: 'app.customer',
      columns: {
        full_name: "trim(first_name || ' ' || last_name)",
        email: 'lower(email)',
        status: lookup('status_code', { 1: 'active', 2: 'suspended' }, 'unknown'),
        signed_up_at: "created::timestamp AT TIME ZONE 'Europe/Berlin'",
        notes_length: 'length(notes)',
      },
      where: 'NOT is_test',
      onDelete: { set: { deleted_at: "'2000-01-01 00:00:00+00'::timestamptz" } },
    },
    {
      to: 'app.customer_address',
      columns: { customer_id: 'id', line1: "split_part(address, E'\\n', 1)", city: "nullif(split_part(address, E'\\n', 2), '')" },
      where: 'address IS NOT NULL AND NOT is_test',
    },
  ],
  'legacy.orders': { to: 'app.orders', columns: { total_cents: 'round(total * 100)', placed_at: "placed::timestamp AT TIME ZONE 'Europe/Berlin'" } },
  'legacy.loyalty': { to: 'app.customer', columns: { id: 'customer_id', points: 'points' }, onDelete: { set: { points: 'NULL' } } },
};

type Row = Record<string, unknown>;

function byId(rows: Row[], key = 'id'): Map<string, Row> {
  return new Map(rows.map((row) => [String(row[key]), row]));
}

/** Legacy and target hold the same data, as the mapping defines it (each side read with its own SQL). */
export async function targetMatchesLegacy(legacy: TestDatabase, target: TestDatabase): Promise<string | true> {
  const customers = await legacy.sql(`SELECT id, trim(first_name || ' ' || last_name) AS full_name, lower(email) AS email,
      CASE status_code WHEN 1 THEN 'active' WHEN 2 THEN 'suspended' ELSE 'unknown' END AS status,
      to_char((created::timestamp AT TIME ZONE 'Europe/Berlin') AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS signed_up_at,
      md5(notes) AS notes, length(notes) AS notes_length
    FROM legacy.customers WHERE NOT is_test ORDER BY id`);
  const live = await target.sql(`SELECT id, full_name, email, status, to_char(signed_up_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS signed_up_at,
      md5(notes) AS notes, notes_length FROM app.customer WHERE deleted_at IS NULL AND full_name IS NOT NULL ORDER BY id`);
  const problems: string[] = [];
  const compare = (what: string, expected: Row[], actual: Row[], key = 'id') => {
    const expectedById = byId(expected, key);
    const actualById = byId(actual, key);
    for (const [id, row] of expectedById) {
      const got = actualById.get(id);
      if (!got) problems.push(`${what} ${id} missing`);
      else if (JSON.stringify(got) !== JSON.stringify(row)) problems.push(`${what} ${id}: expected ${JSON.stringify(row)}, got ${JSON.stringify(got)}`);
    }
    for (const id of actualById.keys()) if (!expectedById.has(id)) problems.push(`${what} ${id} should not be there`);
  };
  compare('customer', customers, live);
  // Soft-deleted customers are rows that left: none of them is a live legacy customer.
  const softDeleted = await target.sql<{ id: number }>('SELECT id FROM app.customer WHERE deleted_at IS NOT NULL');
  const liveIds = new Set(customers.map((row) => String(row.id)));
  for (const row of softDeleted) if (liveIds.has(String(row.id))) problems.push(`customer ${row.id} is soft-deleted but live in legacy`);

  const addresses = await legacy.sql(`SELECT id AS customer_id, split_part(address, E'\\n', 1) AS line1, nullif(split_part(address, E'\\n', 2), '') AS city
    FROM legacy.customers WHERE address IS NOT NULL AND NOT is_test ORDER BY id`);
  compare('address', addresses, await target.sql('SELECT customer_id, line1, city FROM app.customer_address ORDER BY customer_id'), 'customer_id');

  const orders = await legacy.sql(`SELECT id, customer_id, round(total * 100)::bigint::text AS total_cents,
      to_char((placed::timestamp AT TIME ZONE 'Europe/Berlin') AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS placed_at FROM legacy.orders ORDER BY id`);
  compare('order', orders, await target.sql(`SELECT id, customer_id, total_cents::text, to_char(placed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS placed_at FROM app.orders ORDER BY id`));

  // The merge: every loyalty row's points are on its customer's row; no other row has points.
  const loyalty = await legacy.sql('SELECT customer_id AS id, points FROM legacy.loyalty ORDER BY customer_id');
  compare('points', loyalty, await target.sql('SELECT id, points FROM app.customer WHERE points IS NOT NULL ORDER BY id'));
  return problems.length === 0 ? true : problems.slice(0, 10).join('\n');
}

export async function expectTargetEqualsLegacy(legacy: TestDatabase, target: TestDatabase): Promise<void> {
  expect(await targetMatchesLegacy(legacy, target)).toBe(true);
}

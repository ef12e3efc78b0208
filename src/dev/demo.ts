import type pg from 'pg';

/**
 * The demo migration (connectors/demo.ts): the shapes a long-lived app accumulates, and the schema
 * its team wants instead.
 *
 * legacy.customers  full name in one column, the postal address as one text, status as integer
 *                   codes, the sign-up time as wall-clock text (Europe/Berlin), test accounts mixed in
 * legacy.orders     the amount as a float, the status as free text
 * legacy.loyalty    points kept in a table of their own
 *
 * app.customer          first and last name, status as text, signed_up_at timestamptz
 * app.customer_address  the address split into lines (a second target of legacy.customers)
 * app.customer_points   the loyalty points, keyed by customer (a foreign key to app.customer)
 * app.orders            integer cents, an enum status, a foreign key to app.customer
 *
 * The points are a table of their own rather than a column of app.customer merged from
 * legacy.loyalty: translate refuses a merge source that cannot give every NOT NULL column of the
 * shared target a value (a loyalty row may arrive before its customer and would have to create the
 * customer row without a name), and its upsert would overwrite the other source's columns.
 */
export const DEMO_LEGACY_SCHEMA = `
CREATE SCHEMA IF NOT EXISTS legacy;
CREATE TABLE IF NOT EXISTS legacy.customers (
  id serial PRIMARY KEY,
  full_name text NOT NULL,
  email text,
  address text,
  status_code int NOT NULL DEFAULT 1,
  created text NOT NULL,
  is_test boolean NOT NULL DEFAULT false,
  notes text
);
CREATE TABLE IF NOT EXISTS legacy.orders (
  id bigserial PRIMARY KEY,
  customer_id int NOT NULL REFERENCES legacy.customers (id),
  amount float8 NOT NULL,
  status text NOT NULL DEFAULT 'NEW',
  placed_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'Europe/Berlin')
);
-- Reconcile runs the connector's mappings over these tables, cast to the new columns' types, so the
-- enum of app.orders.status must exist here too (PostgreSQL cannot cast to a type it does not know).
CREATE SCHEMA IF NOT EXISTS app;
DO $$ BEGIN
  CREATE TYPE app.order_status AS ENUM ('new', 'paid', 'shipped', 'cancelled');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
CREATE TABLE IF NOT EXISTS legacy.loyalty (
  customer_id int PRIMARY KEY REFERENCES legacy.customers (id),
  points int NOT NULL DEFAULT 0
);`;

export const DEMO_APP_SCHEMA = `
CREATE SCHEMA IF NOT EXISTS app;
DO $$ BEGIN
  CREATE TYPE app.order_status AS ENUM ('new', 'paid', 'shipped', 'cancelled');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
CREATE TABLE IF NOT EXISTS app.customer (
  id int PRIMARY KEY,
  first_name text NOT NULL,
  last_name text NOT NULL,
  email text,
  status text NOT NULL,
  signed_up_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS app.customer_address (
  customer_id int PRIMARY KEY REFERENCES app.customer (id) ON DELETE CASCADE,
  line1 text NOT NULL,
  city text,
  postal_code text
);
CREATE TABLE IF NOT EXISTS app.customer_points (
  customer_id int PRIMARY KEY REFERENCES app.customer (id) ON DELETE CASCADE,
  points int NOT NULL
);
CREATE TABLE IF NOT EXISTS app.orders (
  id bigint PRIMARY KEY,
  customer_id int NOT NULL REFERENCES app.customer (id),
  amount_cents bigint NOT NULL,
  status app.order_status NOT NULL,
  placed_at timestamptz NOT NULL
);`;

/**
 * Seed rows for the legacy tables, the same on every run: `customers` customers (every 50th a
 * test account, with no orders), three orders per real customer, loyalty points for every third.
 * Only when the tables are empty.
 */
export function demoSeedSql(customers: number): string {
  const count = Math.floor(customers);
  return `
INSERT INTO legacy.customers (full_name, email, address, status_code, created, is_test, notes)
SELECT (ARRAY['Ada','Grace','Alan','Edsger','Barbara','Donald','Frances','Ken'])[1 + g % 8] || ' ' ||
       (ARRAY['Lovelace','Hopper','Turing','Dijkstra','Liskov','Knuth','Allen','Thompson'])[1 + (g / 8) % 8] || ' ' || g,
       'customer' || g || '@example.com',
       g || ' Main Street' || E'\\n' || (ARRAY['Berlin','Lisbon','Oslo','Turin'])[1 + g % 4] || E'\\n' || lpad((10000 + g)::text, 5, '0'),
       1 + (g % 7 = 0)::int + (g % 13 = 0)::int,
       to_char(timestamp '2021-01-01 08:00' + g * interval '7 hours 13 minutes', 'YYYY-MM-DD HH24:MI:SS'),
       g % 50 = 0,
       repeat('note ' || g || '. ', 400)
FROM generate_series(1, ${count}) g
WHERE NOT EXISTS (SELECT 1 FROM legacy.customers);
INSERT INTO legacy.orders (customer_id, amount, status, placed_at)
SELECT c.id, round((5 + (c.id * 37 + k * 11) % 400 + k * 0.15)::numeric, 2)::float8,
       (ARRAY['NEW','PAID','SHIPPED'])[1 + (c.id + k) % 3],
       timestamp '2022-06-01 12:00' + (c.id * 3 + k) * interval '53 minutes'
FROM legacy.customers c CROSS JOIN generate_series(1, 3) k
WHERE NOT c.is_test AND NOT EXISTS (SELECT 1 FROM legacy.orders);
INSERT INTO legacy.loyalty (customer_id, points)
SELECT id, (id * 17) % 900 FROM legacy.customers
WHERE id % 3 = 0 AND NOT is_test AND NOT EXISTS (SELECT 1 FROM legacy.loyalty);`;
}

export const DEMO_CUSTOMERS = 1000;

/** Creates the legacy tables and seeds them once. */
export async function seedDemo(legacy: pg.ClientBase, customers = DEMO_CUSTOMERS): Promise<void> {
  await legacy.query(DEMO_LEGACY_SCHEMA);
  await legacy.query(demoSeedSql(customers));
}

/**
 * One transaction of live traffic against the legacy tables, as the legacy app writes them: a new
 * customer now and then, a new order, an order moving on, an email change, loyalty points, a
 * cancelled order deleted.
 */
export async function demoTraffic(legacy: pg.ClientBase, random: () => number = Math.random): Promise<void> {
  const pick = `(SELECT id FROM legacy.customers WHERE NOT is_test ORDER BY id OFFSET floor($1::float8 * (SELECT count(*) FROM legacy.customers WHERE NOT is_test)) LIMIT 1)`;
  await legacy.query('BEGIN');
  try {
    if (random() < 0.2) {
      await legacy.query(
        `INSERT INTO legacy.customers (full_name, email, address, status_code, created)
         VALUES ($1, $2, $3, 1, to_char(now() AT TIME ZONE 'Europe/Berlin', 'YYYY-MM-DD HH24:MI:SS'))`,
        [`New Customer ${Math.floor(random() * 1e6)}`, `new${Math.floor(random() * 1e9)}@example.com`, `${Math.floor(random() * 200)} High Street\nPorto\n4000`],
      );
    }
    await legacy.query(`INSERT INTO legacy.orders (customer_id, amount) SELECT ${pick}, $2::float8`, [random(), Math.round(random() * 50_000) / 100]);
    await legacy.query(`UPDATE legacy.orders SET status = CASE status WHEN 'NEW' THEN 'PAID' WHEN 'PAID' THEN 'SHIPPED' ELSE status END WHERE id = (SELECT max(id) - floor($1::float8 * 50)::int FROM legacy.orders)`, [random()]);
    await legacy.query(`UPDATE legacy.customers SET email = 'c' || id || '.' || floor($2::float8 * 1000) || '@example.org' WHERE id = ${pick}`, [random(), random()]);
    await legacy.query(
      `INSERT INTO legacy.loyalty (customer_id, points) SELECT ${pick}, 10
       ON CONFLICT (customer_id) DO UPDATE SET points = legacy.loyalty.points + 10`,
      [random()],
    );
    if (random() < 0.1) await legacy.query(`DELETE FROM legacy.orders WHERE id = (SELECT min(id) FROM legacy.orders WHERE status = 'NEW')`);
    await legacy.query('COMMIT');
  } catch (error) {
    await legacy.query('ROLLBACK');
    throw error;
  }
}

/**
 * The docker-entrypoint-initdb.d script of docker-compose.yml: both databases with the demo
 * schemas, the legacy one seeded. psql runs it, so `\connect` switches databases.
 */
export function demoInitScript(customers = DEMO_CUSTOMERS): string {
  return [
    '-- Generated from src/dev/demo.ts by `npx tsx scripts/generate-demo-initdb.ts`; do not edit.',
    '-- docker-compose.yml mounts it as /docker-entrypoint-initdb.d/01-demo.sql.',
    'CREATE DATABASE legacy;',
    'CREATE DATABASE app;',
    '\\connect legacy',
    DEMO_LEGACY_SCHEMA.trim(),
    demoSeedSql(customers).trim(),
    '\\connect app',
    DEMO_APP_SCHEMA.trim(),
    '',
  ].join('\n');
}

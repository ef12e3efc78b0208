import type pg from 'pg';

/** The legacy schema of the demo migration (connectors/customers.ts): what a long-lived app might have. */
export const DEMO_LEGACY_SCHEMA = `
  CREATE SCHEMA IF NOT EXISTS legacy;
  DO $$ BEGIN
    CREATE TYPE legacy.order_status AS ENUM ('new', 'paid', 'shipped', 'cancelled');
  EXCEPTION WHEN duplicate_object THEN NULL; END $$;
  CREATE TABLE IF NOT EXISTS legacy.customers (
    id serial PRIMARY KEY,
    name text NOT NULL,
    email text,
    created_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE TABLE IF NOT EXISTS legacy.orders (
    id bigserial PRIMARY KEY,
    customer_id int NOT NULL REFERENCES legacy.customers (id),
    total numeric(12,2) NOT NULL,
    status legacy.order_status NOT NULL DEFAULT 'new',
    placed_at timestamp NOT NULL DEFAULT now()
  );`;

/** The new schema the demo migrates to. */
export const DEMO_APP_SCHEMA = `
  CREATE SCHEMA IF NOT EXISTS app;
  CREATE TABLE IF NOT EXISTS app.customers (
    id int PRIMARY KEY,
    full_name text NOT NULL,
    email_address text,
    created_at timestamptz NOT NULL
  );
  CREATE TABLE IF NOT EXISTS app.orders (
    id bigint PRIMARY KEY,
    customer_id int NOT NULL,
    total numeric(12,2) NOT NULL,
    status text NOT NULL,
    placed_at timestamp NOT NULL
  );`;

/** Seeds the legacy tables once (customers and their orders). */
export async function seedDemo(legacy: pg.Client, customers = 1000): Promise<void> {
  await legacy.query(DEMO_LEGACY_SCHEMA);
  const { rows } = await legacy.query<{ count: string }>('SELECT count(*) FROM legacy.customers');
  if (Number(rows[0]!.count) > 0) return;
  await legacy.query(
    `INSERT INTO legacy.customers (name, email, created_at)
       SELECT 'Customer ' || g, 'customer' || g || '@example.com', now() - g * interval '1 hour' FROM generate_series(1, $1) g;
     INSERT INTO legacy.orders (customer_id, total, status)
       SELECT 1 + (g % $1), round((random() * 500)::numeric, 2), (ARRAY['new','paid','shipped']::legacy.order_status[])[1 + g % 3]
       FROM generate_series(1, $1 * 3) g;`.replace(/\$1/g, String(Math.floor(customers))),
  );
}

/** One transaction of live traffic against the legacy tables: a new order, a status change, an email update. */
export async function demoTraffic(legacy: pg.Client): Promise<void> {
  await legacy.query('BEGIN');
  try {
    await legacy.query(`INSERT INTO legacy.orders (customer_id, total) SELECT id, round((random() * 200)::numeric, 2) FROM legacy.customers ORDER BY random() LIMIT 1`);
    await legacy.query(`UPDATE legacy.orders SET status = 'paid' WHERE id = (SELECT id FROM legacy.orders WHERE status = 'new' ORDER BY random() LIMIT 1)`);
    await legacy.query(`UPDATE legacy.customers SET email = 'c' || id || '.' || floor(random() * 1000) || '@example.org' WHERE id = (SELECT id FROM legacy.customers ORDER BY random() LIMIT 1)`);
    await legacy.query('COMMIT');
  } catch (error) {
    await legacy.query('ROLLBACK');
    throw error;
  }
}

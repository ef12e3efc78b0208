-- Generated from src/dev/demo.ts by `npx tsx scripts/generate-demo-initdb.ts`; do not edit.
-- docker-compose.yml mounts it as /docker-entrypoint-initdb.d/01-demo.sql.
CREATE DATABASE legacy;
CREATE DATABASE app;
\connect legacy
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
);
INSERT INTO legacy.customers (full_name, email, address, status_code, created, is_test, notes)
SELECT (ARRAY['Ada','Grace','Alan','Edsger','Barbara','Donald','Frances','Ken'])[1 + g % 8] || ' ' ||
       (ARRAY['Lovelace','Hopper','Turing','Dijkstra','Liskov','Knuth','Allen','Thompson'])[1 + (g / 8) % 8] || ' ' || g,
       'customer' || g || '@example.com',
       g || ' Main Street' || E'\n' || (ARRAY['Berlin','Lisbon','Oslo','Turin'])[1 + g % 4] || E'\n' || lpad((10000 + g)::text, 5, '0'),
       1 + (g % 7 = 0)::int + (g % 13 = 0)::int,
       to_char(timestamp '2021-01-01 08:00' + g * interval '7 hours 13 minutes', 'YYYY-MM-DD HH24:MI:SS'),
       g % 50 = 0,
       repeat('note ' || g || '. ', 400)
FROM generate_series(1, 1000) g
WHERE NOT EXISTS (SELECT 1 FROM legacy.customers);
INSERT INTO legacy.orders (customer_id, amount, status, placed_at)
SELECT c.id, round((5 + (c.id * 37 + k * 11) % 400 + k * 0.15)::numeric, 2)::float8,
       (ARRAY['NEW','PAID','SHIPPED'])[1 + (c.id + k) % 3],
       timestamp '2022-06-01 12:00' + (c.id * 3 + k) * interval '53 minutes'
FROM legacy.customers c CROSS JOIN generate_series(1, 3) k
WHERE NOT c.is_test AND NOT EXISTS (SELECT 1 FROM legacy.orders);
INSERT INTO legacy.loyalty (customer_id, points)
SELECT id, (id * 17) % 900 FROM legacy.customers
WHERE id % 3 = 0 AND NOT is_test AND NOT EXISTS (SELECT 1 FROM legacy.loyalty);
\connect app
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
);

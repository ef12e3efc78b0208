import { defineConnector, env, lookup } from 'tandem';

/**
 * The demo migration (`npx tandem demo`, `tandem dev`, docker-compose.yml): the legacy tables of
 * src/dev/demo.ts move to the new schema `app`.
 *
 *   legacy.customers ─┬─▶ app.customer          split name, status code → text, wall-clock text → timestamptz,
 *                     │                          test accounts left behind (filter)
 *                     └─▶ app.customer_address  the one-text address split into lines (split)
 *   legacy.orders    ───▶ app.orders            float amount → integer cents, free-text status → enum
 *   legacy.loyalty   ───▶ app.customer_points   points by customer
 *
 * Every column is a PostgreSQL expression over the legacy row: translate runs it on each batch in
 * the new database, reconcile runs the same text over the legacy tables. `rollout.reverse` maps
 * the new rows back for reverse sync after cutover. The URLs default to the embedded stack; the
 * demo, `tandem dev` and docker-compose set the TANDEM_* variables.
 */
export default defineConnector({
  name: 'demo',
  source: {
    url: env('TANDEM_SOURCE_URL', 'postgres://postgres:postgres@127.0.0.1:5432/legacy'),
    schema: 'legacy',
    tables: ['legacy.customers', 'legacy.orders', 'legacy.loyalty'],
  },
  kafka: {
    brokers: [process.env.TANDEM_KAFKA_BROKER ?? '127.0.0.1:9092'],
    topicPrefix: 'tandem',
  },
  registry: {
    url: process.env.TANDEM_REGISTRY_URL ?? 'http://127.0.0.1:8081',
  },
  target: {
    url: env('TANDEM_TARGET_URL', 'postgres://postgres:postgres@127.0.0.1:5432/app'),
    schema: 'app',
  },
  mappings: {
    'legacy.customers': [
      {
        to: 'app.customer',
        // id and email are copied (same names in both tables).
        columns: {
          first_name: "split_part(full_name, ' ', 1)",
          last_name: "CASE WHEN strpos(full_name, ' ') > 0 THEN substr(full_name, strpos(full_name, ' ') + 1) ELSE '' END",
          status: lookup('status_code', { 1: 'active', 2: 'suspended', 3: 'closed' }, 'unknown'),
          // Wall-clock text written in Berlin → an instant.
          signed_up_at: "(created::timestamp AT TIME ZONE 'Europe/Berlin')",
        },
        where: 'NOT is_test',
      },
      {
        to: 'app.customer_address',
        columns: {
          customer_id: 'id',
          line1: 'split_part(address, chr(10), 1)',
          city: "NULLIF(split_part(address, chr(10), 2), '')",
          postal_code: "NULLIF(split_part(address, chr(10), 3), '')",
        },
        where: 'NOT is_test AND address IS NOT NULL',
      },
    ],
    'legacy.orders': {
      to: 'app.orders',
      // id and customer_id are copied.
      columns: {
        amount_cents: 'round(amount * 100)::bigint',
        status: 'lower(status)::app.order_status',
        placed_at: "(placed_at AT TIME ZONE 'Europe/Berlin')",
      },
    },
    'legacy.loyalty': { to: 'app.customer_points' },
  },
  capture: { heartbeatIntervalMs: 2_000 },
  reconcile: { chunkRows: 5_000, settleDelayMs: 500 },
  rollout: {
    stickiness: 'customerId',
    phases: [
      { name: 'shadow', description: 'every reader and writer on legacy; the pipeline fills and checks app', readNew: 0 },
      { name: 'canary', description: '10% of customers read from app', readNew: 10, criteria: { reconcileCleanRuns: 1, maxLagSeconds: 30 } },
      { name: 'full', description: 'every read from app', readNew: 100, criteria: { reconcileCleanRuns: 1, maxLagSeconds: 30 } },
      {
        name: 'cutover',
        description: 'writes go to app; reverse sync keeps legacy in step',
        readNew: 100,
        write: 'new',
        reverseSync: true,
        criteria: { reconcileCleanRuns: 1, maxLagSeconds: 30 },
        approvals: { count: 1 },
      },
    ],
    rollback: { onDrift: true, to: 'shadow' },
    watch: { interval: '5s' },
    // `tandem rollout serve` needs a key: the operator's, from the environment when it is set
    // (docker-compose sets it; `tandem demo` and `tandem dev` add a key of their own and print it).
    serve: { apiKeys: process.env.TANDEM_OPS_KEY ? { ops: { key: env('TANDEM_OPS_KEY'), role: 'operate' } } : {} },
    // Reverse sync after cutover: the legacy rows as SQL over the new rows (id, email, customer_id, points copied).
    reverse: {
      'app.customer': {
        to: 'legacy.customers',
        columns: {
          full_name: "concat_ws(' ', first_name, NULLIF(last_name, ''))",
          status_code: lookup('status', { active: 1, suspended: 2, closed: 3 }),
          created: "to_char(signed_up_at AT TIME ZONE 'Europe/Berlin', 'YYYY-MM-DD HH24:MI:SS')",
        },
      },
      'app.orders': {
        to: 'legacy.orders',
        columns: {
          amount: 'amount_cents / 100.0',
          status: 'upper(status::text)',
          placed_at: "(placed_at AT TIME ZONE 'Europe/Berlin')",
        },
      },
      'app.customer_points': { to: 'legacy.loyalty' },
    },
  },
});

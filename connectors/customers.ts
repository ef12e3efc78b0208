import { defineConnector, env } from 'tandem';

/**
 * Example migration: the legacy `legacy.customers` and `legacy.orders` tables move to a new schema
 * `app`. The URLs default to the embedded stack (`tandem dev`); production sets the variables.
 */
export default defineConnector({
  name: 'customers',
  source: {
    url: env('TANDEM_SOURCE_URL', 'postgres://postgres:postgres@127.0.0.1:5432/legacy'),
    schema: 'legacy',
    tables: ['legacy.customers', 'legacy.orders'],
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
    'legacy.customers': { to: 'app.customers', columns: { full_name: 'name', email_address: 'email' } },
    'legacy.orders': { to: 'app.orders' },
  },
});

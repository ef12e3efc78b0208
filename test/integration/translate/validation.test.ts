import { beforeAll, describe, expect, it } from 'vitest';
import { parseConnector } from '../../../src/config/load.js';
import { checkMappings } from '../../../src/translate/validate.js';
import { runTandem } from '../../support/cli.js';
import { writeTestConnectorFile } from '../../support/connector.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';

// Nothing listens here: translate must refuse on the mappings before it ever reaches Kafka.
const NO_KAFKA = { brokers: ['127.0.0.1:1'], registryUrl: 'http://127.0.0.1:1' };

const BROKEN = {
  'legacy.customers': [
    { to: 'app.customer', columns: { email: 'lowr(email)', emial: 'email', points: 'email' }, where: 'email' },
    { to: 'app.customer_address', columns: { line1: 'address' } },
    { to: 'app.missing' },
    { to: 'app.keyless' },
  ],
  'legacy.loyalty': { to: 'app.customer', columns: { id: 'points', points: 'points' } },
};

const EXPECTED = [
  "mappings['legacy.customers'][0].columns.emial: target table app.customer has no column emial",
  "mappings['legacy.customers'][0]: target column app.customer.full_name is NOT NULL and has no default, but this mapping gives it no value (app.customer is also fed by mappings['legacy.loyalty']; every mapping's insert must give each NOT NULL column a value, whichever source creates the row first)",
  "mappings['legacy.customers'][1]: the key of app.customer_address (customer_id) is not covered: column customer_id has no expression and legacy.customers has no column customer_id",
  "mappings['legacy.customers'][2].to: target table app.missing does not exist",
  "mappings['legacy.customers'][3].to: target table app.keyless has no primary key; translate upserts by it",
  "mappings['legacy.loyalty'].columns.id: key column app.customer.id must be computed from the key of legacy.loyalty (customer_id) alone, because a delete event carries only that; it reads points",
  "mappings['legacy.loyalty']: target column app.customer.full_name is NOT NULL and has no default, but this mapping gives it no value (app.customer is also fed by mappings['legacy.customers'][0]; every mapping's insert must give each NOT NULL column a value, whichever source creates the row first)",
];

describe('translate: start-up validation against the live target', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('translate_validation');
    await db.sql(`CREATE SCHEMA legacy; CREATE SCHEMA app;
      CREATE TABLE legacy.customers (id int PRIMARY KEY, email text, address text);
      CREATE TABLE legacy.loyalty (customer_id int PRIMARY KEY, points int NOT NULL);
      CREATE TABLE app.customer (id int PRIMARY KEY, full_name text NOT NULL, email text, points int);
      CREATE TABLE app.customer_address (customer_id int PRIMARY KEY, line1 text);
      CREATE TABLE app.keyless (id int, email text);`);
  });

  const connector = (mappings: unknown) =>
    parseConnector({ name: 'validation', source: { url: db.url, schema: 'legacy', tables: ['legacy.customers', 'legacy.loyalty'] }, kafka: { brokers: NO_KAFKA.brokers }, registry: { url: NO_KAFKA.registryUrl }, target: { url: db.url, schema: 'app' }, mappings });

  it('reports what it sees in the catalogs: missing tables and columns, key not covered or not from the source key, NOT NULL columns without a value (merges included), tables without a key', async () => {
    const problems = await checkMappings(connector(BROKEN));
    expect(problems.map((problem) => `${problem.path}: ${problem.message}`)).toEqual(EXPECTED);
  });

  it("reports each expression PostgreSQL rejects in PostgreSQL's own words, at the expression's path", async () => {
    const problems = await checkMappings(
      connector({
        'legacy.customers': { to: 'app.customer', columns: { full_name: "email || ' x'", email: 'lowr(email)', points: 'email' }, where: 'email' },
        'legacy.loyalty': { to: 'app.customer', columns: { id: 'customer_id', full_name: "'?'", points: 'points / 0.0' }, onDelete: { set: { points: "'none'" } } },
      }),
    );
    expect(problems.map((problem) => `${problem.path}: ${problem.message}`)).toEqual([
      "mappings['legacy.customers'].columns.email: function lowr(text) does not exist",
      "mappings['legacy.customers'].columns.points: column \"points\" is of type integer but expression is of type text",
      "mappings['legacy.customers'].where: argument of WHERE must be type boolean, not type text",
      "mappings['legacy.loyalty'].onDelete.set.points: invalid input syntax for type integer: \"none\"",
    ]);
    expect(problems[1]!.fix).toContain('cast it to integer');
  });

  it('refuses to start, listing every problem, and doctor reports the same problems', async () => {
    const file = writeTestConnectorFile({ name: 'validation', sourceUrl: db.url, tables: ['legacy.customers', 'legacy.loyalty'], ...NO_KAFKA, extra: { mappings: BROKEN } });
    const result = await runTandem(['translate', '--config', file, '--metrics-port', '0']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('translate refuses to start: connector validation has 7 mapping problems');
    for (const line of EXPECTED) expect(result.stderr).toContain(line);

    const doctor = await runTandem(['doctor', '--config', file, '--format', 'json']);
    const checks = JSON.parse(doctor.stdout) as { check: string; status: string; detail: string }[];
    const mappingChecks = checks.filter((check) => check.check.startsWith('mapping '));
    expect(mappingChecks.map((check) => `${check.check.slice('mapping '.length)}: ${check.detail}`)).toEqual(EXPECTED);
    expect(doctor.code).toBe(2);
  });
});

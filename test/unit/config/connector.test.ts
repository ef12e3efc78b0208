import { describe, expect, it } from 'vitest';
import { defineConnector, env } from '../../../src/index.js';
import { parseConnector } from '../../../src/config/load.js';
import { TandemError } from '../../../src/errors.js';

const valid = {
  name: 'customers',
  source: { url: 'postgres://u:p@localhost/legacy', schema: 'legacy', tables: ['customers', 'legacy.orders'] },
  kafka: { brokers: ['localhost:9092'] },
  registry: { url: 'http://localhost:8081' },
  target: { url: 'postgres://u:p@localhost/app', schema: 'app' },
};

function problemsOf(input: unknown): string {
  try {
    parseConnector(input, 'connectors/bad.ts');
  } catch (error) {
    expect(error).toBeInstanceOf(TandemError);
    return (error as Error).message;
  }
  throw new Error('expected the connector to be rejected');
}

describe('connector config', () => {
  it('fills in defaults: qualified tables, slot, publication and topic prefix derived from the name', () => {
    const connector = parseConnector(valid);
    expect(connector.source.tables).toEqual(['legacy.customers', 'legacy.orders']);
    expect(connector.source.slot).toBe('tandem_customers');
    expect(connector.source.publication).toBe('tandem_customers');
    expect(connector.kafka.topicPrefix).toBe('customers');
    expect(connector.capture.snapshot).toBe('initial');
  });

  it('reports every mistake with its path at once', () => {
    const message = problemsOf({
      ...valid,
      source: { ...valid.source, tables: ['customers', 'legacy.orders', 'legacy.custmers;drop'] },
      kafka: { brokers: ['localhost'] },
      registry: {},
    });
    expect(message).toContain('connectors/bad.ts is not a valid connector (3 problems)');
    expect(message).toContain('source.tables[2]: must be "table" or "schema.table"');
    expect(message).toContain('kafka.brokers[0]: must be host:port');
    expect(message).toContain('registry.url:');
  });

  it('rejects mappings for tables that are not captured', () => {
    const message = problemsOf({ ...valid, mappings: { 'legacy.invoices': { to: 'app.invoices' } } });
    expect(message).toContain('mappings["legacy.invoices"]: table "legacy.invoices" is not in source.tables');
  });

  it('resolves env() references and reports unset variables by path', () => {
    process.env.TANDEM_TEST_SOURCE_URL = 'postgres://u:s3cr3t-pw@db/legacy';
    const connector = parseConnector({ ...valid, source: { ...valid.source, url: env('TANDEM_TEST_SOURCE_URL') } });
    expect(connector.source.url).toBe('postgres://u:s3cr3t-pw@db/legacy');
    const message = problemsOf({ ...valid, target: { ...valid.target, url: env('TANDEM_TEST_UNSET_VARIABLE') } });
    expect(message).toContain('target.url: environment variable TANDEM_TEST_UNSET_VARIABLE is not set');
  });

  it('treats an empty variable as unset: the fallback applies, and without one it is reported', () => {
    process.env.TANDEM_TEST_EMPTY = '';
    const withFallback = parseConnector({ ...valid, registry: { url: env('TANDEM_TEST_EMPTY', 'http://registry:8081') } });
    expect(withFallback.registry.url).toBe('http://registry:8081');
    const message = problemsOf({ ...valid, registry: { url: env('TANDEM_TEST_EMPTY') } });
    expect(message).toContain('registry.url: environment variable TANDEM_TEST_EMPTY is not set');
    delete process.env.TANDEM_TEST_EMPTY;
  });

  it('rejects sections and fields it does not know instead of ignoring them', () => {
    const message = problemsOf({ ...valid, alerts: { webhook: 'https://hooks.example/x' }, capture: { snapshotChunk: 10 } });
    expect(message).toMatch(/\(root\): Unrecognized key: "alerts"/);
    expect(message).toMatch(/capture: Unrecognized key: "snapshotChunk"/);
  });

  it('defineConnector keeps the declaration as written and types mappings by captured table', () => {
    const declared = defineConnector({ ...valid, source: { ...valid.source, tables: ['legacy.customers'] }, mappings: { 'legacy.customers': { to: 'app.customers' } } });
    expect(declared.mappings?.['legacy.customers']?.to).toBe('app.customers');
    // @ts-expect-error a mapping for a table that is not in source.tables does not type-check
    defineConnector({ ...valid, source: { ...valid.source, tables: ['legacy.customers'] }, mappings: { 'legacy.nope': { to: 'x' } } });
  });
});

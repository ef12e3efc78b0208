import { describe, expect, it } from 'vitest';
import { parseAvroSchema } from '../../../src/schema/avro-schema.js';
import { formatReport, hasProblems, summarize, type CheckReport } from '../../../src/schema/check.js';
import { findDrift } from '../../../src/schema/drift.js';

const row = (fields: unknown[]) => ({
  type: 'record',
  name: 'Envelope',
  namespace: 'shop.public.customers',
  fields: [
    { name: 'before', type: ['null', { type: 'record', name: 'Value', fields }], default: null },
    { name: 'after', type: ['null', 'Value'], default: null },
  ],
});

const report: CheckReport = {
  against: 'git:origin/main',
  verdicts: [
    { subject: 'customers-key', file: 'schemas/customers-key.avsc', status: 'ok', mode: 'FORWARD', incompatibilities: [] },
    { subject: 'orders-key', file: 'schemas/orders-key.avsc', status: 'new', mode: 'FORWARD', incompatibilities: [] },
    {
      subject: 'customers-value',
      file: 'schemas/customers-value.avsc',
      status: 'incompatible',
      mode: 'FORWARD',
      incompatibilities: [{ path: 'after.email', reason: 'field removed without a default', mode: 'FORWARD', against: 'origin/main' }],
    },
  ],
};

describe('schemas check report', () => {
  it('prints one line per subject and one per reason', () => {
    expect(formatReport(report, 'text')).toBe(
      [
        'customers-key: ok (FORWARD against git:origin/main)',
        'orders-key: ok (new subject)',
        'customers-value: after.email: field removed without a default, breaks FORWARD',
        '',
      ].join('\n'),
    );
    expect(hasProblems(report)).toBe(true);
    expect(summarize(report)).toBe('schemas check: 1 of 3 subjects incompatible with git:origin/main');
  });

  it('annotates breaks for GitHub Actions at the line of the field, escaping properties', () => {
    const text = '{\n  "type": "record",\n  "fields": [\n    {"name": "after", "type": "string"}\n  ]\n}\n';
    const lines = formatReport(report, 'github', new Map([['schemas/customers-value.avsc', text]])).split('\n');
    expect(lines[2]).toBe('::error file=schemas/customers-value.avsc,line=4,title=customers-value breaks FORWARD::after.email: field removed without a default, breaks FORWARD');
    const odd = formatReport({ ...report, verdicts: [{ ...report.verdicts[2]!, file: 'a,b:c.avsc' }] }, 'github');
    expect(odd).toMatch(/^::error file=a%2Cb%3Ac\.avsc,title=/);
  });

  it('reports as JSON with the formatted message of each reason', () => {
    const json = JSON.parse(formatReport(report, 'json'));
    expect(json.ok).toBe(false);
    expect(json.subjects[2].incompatibilities[0].message).toBe('customers-value: after.email: field removed without a default, breaks FORWARD');
  });
});

describe('drift between schema files and the database', () => {
  const id = { name: 'id', type: 'long' };
  const email = { name: 'email', type: ['null', 'string'], default: null };

  it('finds nothing when the file matches', () => {
    expect(findDrift(parseAvroSchema(row([id, email])), parseAvroSchema(row([id, email])))).toEqual([]);
  });

  it('names columns added, dropped or retyped in the database', () => {
    const file = parseAvroSchema(row([id, email]));
    const live = parseAvroSchema(row([{ name: 'id', type: 'int' }, { name: 'nickname', type: 'string' }]));
    expect(findDrift(file, live).filter((drift) => drift.path.startsWith('after'))).toEqual([
      { path: 'after.id', description: 'is int in the database but long in the schema file' },
      { path: 'after.nickname', description: 'is in the database but not in the schema file' },
      { path: 'after.email', description: 'is in the schema file but no longer in the database' },
    ]);
  });

  it('notices fields in another order than the columns', () => {
    expect(findDrift(parseAvroSchema(row([email, id])), parseAvroSchema(row([id, email])))).toContainEqual({ path: 'after', description: 'fields are in a different order than the table columns' });
  });

  it('notices a changed enum label list', () => {
    const tier = (symbols: string[]) => parseAvroSchema({ type: 'record', name: 'R', fields: [{ name: 'tier', type: { type: 'enum', name: 'Tier', symbols } }] });
    expect(findDrift(tier(['A']), tier(['A', 'B']))).toHaveLength(1);
  });
});

import { describe, expect, it } from 'vitest';
import { parseAvroSchema, type AvroSchemaJson } from '../../../src/schema/avro-schema.js';
import { checkCompatibility, formatIncompatibility, parseCompatibilityMode, type CompatibilityMode } from '../../../src/schema/compatibility.js';

const customer = (fields: unknown[], extra: Record<string, unknown> = {}): AvroSchemaJson => ({ type: 'record', name: 'Customer', namespace: 'shop', fields, ...extra });
const id = { name: 'id', type: 'long' };
const email = { name: 'email', type: 'string' };
const tier = (symbols: string[], extra: Record<string, unknown> = {}) => ({ name: 'tier', type: { type: 'enum', name: 'Tier', symbols, ...extra } });

/** Runs a single old → new change under a mode and returns the lines `tandem schemas check` prints. */
function verdict(oldSchema: AvroSchemaJson, newSchema: AvroSchemaJson, mode: CompatibilityMode): string[] {
  const previous = [{ label: 'version 1', schema: parseAvroSchema(oldSchema) }];
  return checkCompatibility(parseAvroSchema(newSchema), previous, mode).map((found) => formatIncompatibility('customers-value', found));
}

interface Case {
  change: string;
  old: AvroSchemaJson;
  new: AvroSchemaJson;
  /** Reason the new schema cannot read old data (breaks BACKWARD), or null. */
  backward: string | null;
  /** Reason old readers cannot read new data (breaks FORWARD), or null. */
  forward: string | null;
}

const cases: Case[] = [
  { change: 'field added with a default', old: customer([id]), new: customer([id, { ...email, default: '' }]), backward: null, forward: null },
  { change: 'field added without a default', old: customer([id]), new: customer([id, email]), backward: 'email: field added without a default', forward: null },
  { change: 'field removed that had a default', old: customer([id, { ...email, default: '' }]), new: customer([id]), backward: null, forward: null },
  { change: 'field removed without a default', old: customer([id, email]), new: customer([id]), backward: null, forward: 'email: field removed without a default' },
  {
    change: 'field renamed without an alias',
    old: customer([id, email]),
    new: customer([id, { name: 'emailAddress', type: 'string' }]),
    backward: 'emailAddress: field added without a default (if it was renamed from email, add "aliases": ["email"])',
    forward: 'email: field removed without a default',
  },
  {
    change: 'field renamed with an alias (old readers still miss it)',
    old: customer([id, email]),
    new: customer([id, { name: 'emailAddress', type: 'string', aliases: ['email'] }]),
    backward: null,
    forward: 'email: field removed without a default',
  },
  { change: 'int promoted to long', old: customer([{ name: 'n', type: 'int' }]), new: customer([{ name: 'n', type: 'long' }]), backward: null, forward: 'n: type changed from int to long' },
  { change: 'long promoted to float', old: customer([{ name: 'n', type: 'long' }]), new: customer([{ name: 'n', type: 'float' }]), backward: null, forward: 'n: type changed from long to float' },
  { change: 'float promoted to double', old: customer([{ name: 'n', type: 'float' }]), new: customer([{ name: 'n', type: 'double' }]), backward: null, forward: 'n: type changed from float to double' },
  { change: 'int promoted to double', old: customer([{ name: 'n', type: 'int' }]), new: customer([{ name: 'n', type: 'double' }]), backward: null, forward: 'n: type changed from int to double' },
  { change: 'long narrowed to int', old: customer([{ name: 'n', type: 'long' }]), new: customer([{ name: 'n', type: 'int' }]), backward: 'n: type changed from long to int', forward: null },
  { change: 'string to bytes', old: customer([{ name: 'b', type: 'string' }]), new: customer([{ name: 'b', type: 'bytes' }]), backward: null, forward: null },
  { change: 'bytes to string', old: customer([{ name: 'b', type: 'bytes' }]), new: customer([{ name: 'b', type: 'string' }]), backward: null, forward: null },
  { change: 'string to int', old: customer([{ name: 'b', type: 'string' }]), new: customer([{ name: 'b', type: 'int' }]), backward: 'b: type changed from string to int', forward: 'b: type changed from string to int' },
  {
    change: 'enum symbol added, old enum without default',
    old: customer([tier(['FREE', 'PRO'])]),
    new: customer([tier(['FREE', 'PRO', 'GOLD'])]),
    backward: null,
    forward: 'tier: enum symbol GOLD added but the old enum has no default',
  },
  { change: 'enum symbol added, old enum with a default', old: customer([tier(['FREE', 'PRO'], { default: 'FREE' })]), new: customer([tier(['FREE', 'PRO', 'GOLD'], { default: 'FREE' })]), backward: null, forward: null },
  {
    change: 'enum symbol removed, new enum without default',
    old: customer([tier(['FREE', 'PRO', 'GOLD'])]),
    new: customer([tier(['FREE', 'PRO'])]),
    backward: 'tier: enum symbol GOLD removed and the enum has no default',
    forward: null,
  },
  { change: 'enum symbol removed, new enum with a default', old: customer([tier(['FREE', 'PRO', 'GOLD'])]), new: customer([tier(['FREE', 'PRO'], { default: 'FREE' })]), backward: null, forward: null },
  {
    change: 'union widened',
    old: customer([{ name: 'ref', type: ['null', 'string'], default: null }]),
    new: customer([{ name: 'ref', type: ['null', 'string', 'long'], default: null }]),
    backward: null,
    forward: 'ref: union branch long added',
  },
  {
    change: 'union narrowed',
    old: customer([{ name: 'ref', type: ['null', 'string', 'long'], default: null }]),
    new: customer([{ name: 'ref', type: ['null', 'string'], default: null }]),
    backward: 'ref: union branch long removed',
    forward: null,
  },
  {
    change: 'column made nullable',
    old: customer([email]),
    new: customer([{ name: 'email', type: ['null', 'string'], default: null }]),
    backward: null,
    forward: 'email: type changed from string to [null, string]',
  },
  {
    change: 'field added without a default in a nested record',
    old: customer([{ name: 'address', type: { type: 'record', name: 'Address', fields: [{ name: 'city', type: 'string' }] } }]),
    new: customer([{ name: 'address', type: { type: 'record', name: 'Address', fields: [{ name: 'city', type: 'string' }, { name: 'zip', type: 'string' }] } }]),
    backward: 'address.zip: field added without a default',
    forward: null,
  },
  {
    change: 'column dropped from the row of a change event',
    old: customer([{ name: 'after', type: ['null', { type: 'record', name: 'Value', fields: [id, email] }], default: null }]),
    new: customer([{ name: 'after', type: ['null', { type: 'record', name: 'Value', fields: [id] }], default: null }]),
    backward: null,
    forward: 'after.email: field removed without a default',
  },
  { change: 'array items promoted', old: customer([{ name: 'tags', type: { type: 'array', items: 'int' } }]), new: customer([{ name: 'tags', type: { type: 'array', items: 'long' } }]), backward: null, forward: 'tags[]: type changed from int to long' },
  {
    change: 'map values changed',
    old: customer([{ name: 'attributes', type: { type: 'map', values: 'string' } }]),
    new: customer([{ name: 'attributes', type: { type: 'map', values: 'int' } }]),
    backward: 'attributes{}: type changed from string to int',
    forward: 'attributes{}: type changed from string to int',
  },
  {
    change: 'array became a map',
    old: customer([{ name: 'tags', type: { type: 'array', items: 'string' } }]),
    new: customer([{ name: 'tags', type: { type: 'map', values: 'string' } }]),
    backward: 'tags: type changed from array<string> to map<string>',
    forward: 'tags: type changed from array<string> to map<string>',
  },
  {
    change: 'decimal precision changed',
    old: customer([{ name: 'total', type: { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 } }]),
    new: customer([{ name: 'total', type: { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 } }]),
    backward: 'total: type changed from bytes (decimal(10,2)) to bytes (decimal(12,2))',
    forward: 'total: type changed from bytes (decimal(10,2)) to bytes (decimal(12,2))',
  },
  {
    change: 'logical type dropped (date became a plain int)',
    old: customer([{ name: 'born', type: { type: 'int', logicalType: 'date' } }]),
    new: customer([{ name: 'born', type: 'int' }]),
    backward: 'born: type changed from int (date) to int',
    forward: 'born: type changed from int (date) to int',
  },
  {
    change: 'timestamp precision changed inside a nullable field',
    old: customer([{ name: 'seen', type: ['null', { type: 'long', logicalType: 'timestamp-millis' }], default: null }]),
    new: customer([{ name: 'seen', type: ['null', { type: 'long', logicalType: 'timestamp-micros' }], default: null }]),
    backward: 'seen: type changed from long (timestamp-millis) to long (timestamp-micros)',
    forward: 'seen: type changed from long (timestamp-millis) to long (timestamp-micros)',
  },
  { change: 'namespace changed (names match unqualified)', old: customer([id]), new: customer([id], { namespace: 'shop.v2' }), backward: null, forward: null },
  {
    change: 'record renamed without an alias',
    old: customer([id]),
    new: customer([id], { name: 'Client' }),
    backward: 'record name changed from shop.Customer to shop.Client (add "aliases": ["shop.Customer"] to keep reading old data)',
    forward: 'record name changed from shop.Customer to shop.Client',
  },
  { change: 'record renamed with an alias', old: customer([id]), new: customer([id], { name: 'Client', aliases: ['shop.Customer'] }), backward: null, forward: 'record name changed from shop.Customer to shop.Client' },
];

describe('schema compatibility', () => {
  describe.each(cases)('$change', (change) => {
    it('BACKWARD: the new schema reads data written with the old one', () => {
      expect(verdict(change.old, change.new, 'BACKWARD')).toEqual(change.backward ? [`customers-value: ${change.backward}, breaks BACKWARD`] : []);
    });
    it('FORWARD: old readers read data written with the new schema', () => {
      expect(verdict(change.old, change.new, 'FORWARD')).toEqual(change.forward ? [`customers-value: ${change.forward}, breaks FORWARD`] : []);
    });
    it('FULL: both', () => {
      const expected = [change.backward, change.forward].filter((reason) => reason !== null).map((reason) => `customers-value: ${reason}, breaks FULL`);
      expect(verdict(change.old, change.new, 'FULL')).toEqual([...new Set(expected)]);
    });
    it('NONE: anything goes', () => {
      expect(verdict(change.old, change.new, 'NONE')).toEqual([]);
    });
  });

  describe('transitive modes', () => {
    const versions = [customer([id]), customer([id, { ...email, default: '' }])];
    const previous = versions.map((schema, index) => ({ label: `version ${index + 1}`, schema: parseAvroSchema(schema) }));
    const candidate = parseAvroSchema(customer([id, email]));

    it('BACKWARD checks only the latest version', () => {
      expect(checkCompatibility(candidate, previous, 'BACKWARD')).toEqual([]);
    });

    it('BACKWARD_TRANSITIVE checks every version and names the one it breaks', () => {
      const lines = checkCompatibility(candidate, previous, 'BACKWARD_TRANSITIVE').map((found) => formatIncompatibility('customers-value', found));
      expect(lines).toEqual(['customers-value: email: field added without a default, breaks BACKWARD_TRANSITIVE (against version 1)']);
    });

    it('FORWARD_TRANSITIVE: every old reader must read the new schema', () => {
      const lines = checkCompatibility(parseAvroSchema(customer([])), previous, 'FORWARD_TRANSITIVE').map((found) => formatIncompatibility('customers-value', found));
      expect(lines).toEqual(['customers-value: id: field removed without a default, breaks FORWARD_TRANSITIVE (against version 2)']);
    });

    it('FULL_TRANSITIVE reports each break once even when several versions share it', () => {
      const found = checkCompatibility(parseAvroSchema(customer([{ name: 'id', type: 'string' }])), previous, 'FULL_TRANSITIVE');
      expect(found.map((item) => `${item.path}: ${item.reason}`)).toEqual(['id: type changed from long to string']);
    });
  });

  it('compares recursive schemas without looping', () => {
    const node = (fields: unknown[]) => ({ type: 'record', name: 'Node', fields: [{ name: 'next', type: ['null', 'Node'], default: null }, ...fields] });
    expect(verdict(node([]), node([{ name: 'label', type: 'string' }]), 'BACKWARD')).toEqual(['customers-value: label: field added without a default, breaks BACKWARD']);
  });

  it('a subject without previous versions is compatible under every mode', () => {
    expect(checkCompatibility(parseAvroSchema(customer([id])), [], 'FULL_TRANSITIVE')).toEqual([]);
  });

  it('accepts modes in any case and refuses unknown ones in one line', () => {
    expect(parseCompatibilityMode('full_transitive')).toBe('FULL_TRANSITIVE');
    expect(() => parseCompatibilityMode('SIDEWAYS')).toThrow('unknown compatibility mode "SIDEWAYS"');
  });
});

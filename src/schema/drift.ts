/**
 * Drift between the committed schema files and the live database: the schema a table would get
 * now (derived from its current definition) compared with the file, field by field.
 */
import { describeType, type AvroNode, type RecordNode } from './avro-schema.js';

export interface Drift {
  /** `after.nickname`; empty for the whole schema. */
  path: string;
  description: string;
}

/** Differences from the committed file to the live schema; empty when they agree. */
export function findDrift(fileSchema: AvroNode, liveSchema: AvroNode): Drift[] {
  const drift: Drift[] = [];
  compare(fileSchema, liveSchema, '', drift, new Set());
  return drift;
}

function compare(file: AvroNode, live: AvroNode, path: string, drift: Drift[], seen: Set<string>): void {
  const fileRecord = recordOf(file);
  const liveRecord = recordOf(live);
  if (fileRecord && liveRecord && fileRecord.name === liveRecord.name) {
    compareRecords(fileRecord, liveRecord, path, drift, seen);
    if (file.kind !== live.kind) drift.push({ path, description: `is ${describeType(live)} in the database but ${describeType(file)} in the schema file` });
    return;
  }
  if (file.kind === 'array' && live.kind === 'array') return compare(file.items, live.items, `${path}[]`, drift, seen);
  if (describeType(file) !== describeType(live) || JSON.stringify(enumSymbols(file)) !== JSON.stringify(enumSymbols(live))) {
    drift.push({ path, description: `is ${describeType(live)} in the database but ${describeType(file)} in the schema file` });
  }
}

function compareRecords(file: RecordNode, live: RecordNode, path: string, drift: Drift[], seen: Set<string>): void {
  if (seen.has(file.name)) return; // a recursive record, already being compared further up
  seen.add(file.name);
  const join = (name: string) => (path ? `${path}.${name}` : name);
  for (const field of live.fields) {
    const fileField = file.fields.find((candidate) => candidate.name === field.name);
    if (!fileField) drift.push({ path: join(field.name), description: 'is in the database but not in the schema file' });
    else compare(fileField.type, field.type, join(field.name), drift, seen);
  }
  for (const field of file.fields) {
    if (!live.fields.some((candidate) => candidate.name === field.name)) drift.push({ path: join(field.name), description: 'is in the schema file but no longer in the database' });
  }
  const sharedOrder = (fields: { name: string }[], other: { name: string }[]) => fields.map((field) => field.name).filter((name) => other.some((candidate) => candidate.name === name));
  if (sharedOrder(file.fields, live.fields).join() !== sharedOrder(live.fields, file.fields).join()) {
    drift.push({ path, description: 'fields are in a different order than the table columns' });
  }
  seen.delete(file.name);
}

/** A record, or the record in a `["null", Record]` union. */
function recordOf(node: AvroNode): RecordNode | undefined {
  if (node.kind === 'record') return node;
  if (node.kind === 'union') {
    const records = node.branches.filter((branch): branch is RecordNode => branch.kind === 'record');
    const others = node.branches.filter((branch) => branch.kind !== 'record' && !(branch.kind === 'primitive' && branch.type === 'null'));
    if (records.length === 1 && others.length === 0) return records[0];
  }
  return undefined;
}

function enumSymbols(node: AvroNode): string[] | undefined {
  return node.kind === 'enum' ? node.symbols : undefined;
}

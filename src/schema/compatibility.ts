/**
 * Schema compatibility: the Avro specification's schema resolution rules (can a reader schema read
 * data written with a writer schema?) and, on top of them, the Confluent registry modes.
 *
 * Resolution problems are found in reader/writer terms and then told in the terms users think in —
 * what changed from the old schema to the new one — with the path of the field:
 * `after.email: field removed without a default, breaks FORWARD`.
 *
 * Deliberately stricter than the Java implementation in one way: a changed logical type (e.g. an
 * `int (date)` that became a plain `int`, or `timestamp-millis` → `timestamp-micros`) is reported,
 * because the bytes still decode but their meaning changed.
 */
import { TandemError } from '../errors.js';
import { describeType, unqualifiedName, type AvroNode, type FieldNode, type LogicalTypeInfo, type NamedNode, type RecordNode } from './avro-schema.js';

export const COMPATIBILITY_MODES = ['BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE', 'NONE'] as const;
export type CompatibilityMode = (typeof COMPATIBILITY_MODES)[number];

/** `backward` → `BACKWARD`; anything else is a one-line error listing the modes. */
export function parseCompatibilityMode(text: string): CompatibilityMode {
  const mode = text.trim().toUpperCase();
  if ((COMPATIBILITY_MODES as readonly string[]).includes(mode)) return mode as CompatibilityMode;
  throw new TandemError(`unknown compatibility mode "${text}"`, { fix: `use one of ${COMPATIBILITY_MODES.join(', ')}` });
}

/** One reason a reader cannot read what a writer wrote, found by `resolveSchemas`. */
export type ResolutionIssue = { path: string } & (
  | { kind: 'missing-field'; field: string; /** an unmatched writer field of the same type: maybe a rename */ renameCandidate?: string }
  | { kind: 'type-mismatch'; reader: AvroNode; writer: AvroNode }
  | { kind: 'missing-enum-symbol'; symbol: string }
  | { kind: 'missing-union-branch'; branch: AvroNode }
  | { kind: 'name-mismatch'; typeKind: string; reader: string; writer: string }
  | { kind: 'fixed-size-mismatch'; reader: number; writer: number }
);

/**
 * The Avro schema resolution rules: every problem a reader schema has reading data written with
 * the writer schema (empty when it can). Walks the whole schema so that all problems are reported.
 */
export function resolveSchemas(reader: AvroNode, writer: AvroNode): ResolutionIssue[] {
  const issues: ResolutionIssue[] = [];
  resolve(reader, writer, '', issues, new Set());
  return issues;
}

function resolve(reader: AvroNode, writer: AvroNode, path: string, issues: ResolutionIssue[], active: Set<string>): void {
  if (writer.kind === 'union') {
    if (reader.kind === 'union') {
      for (const branch of writer.branches) resolveIntoUnion(reader, branch, path, issues, active, true);
    } else {
      // A reader that is not a union must read every branch the writer may have written.
      const failing = writer.branches.filter((branch) => !resolvesCleanly(reader, branch, active));
      if (failing.length > 0) issues.push({ path, kind: 'type-mismatch', reader, writer });
    }
    return;
  }
  if (reader.kind === 'union') {
    resolveIntoUnion(reader, writer, path, issues, active, false);
    return;
  }
  if (reader.kind === 'primitive' && writer.kind === 'primitive') {
    const promotable = reader.type === writer.type || PROMOTIONS[writer.type]?.includes(reader.type);
    if (!promotable || !sameLogicalType(reader.logical, writer.logical)) issues.push({ path, kind: 'type-mismatch', reader, writer });
    return;
  }
  if (reader.kind !== writer.kind) {
    issues.push({ path, kind: 'type-mismatch', reader, writer });
    return;
  }
  switch (reader.kind) {
    case 'array':
      resolve(reader.items, (writer as typeof reader).items, `${path}[]`, issues, active);
      return;
    case 'map':
      resolve(reader.values, (writer as typeof reader).values, `${path}{}`, issues, active);
      return;
    case 'fixed': {
      const fixedWriter = writer as typeof reader;
      if (!namesMatch(reader, fixedWriter)) issues.push({ path, kind: 'name-mismatch', typeKind: 'fixed', reader: reader.name, writer: fixedWriter.name });
      else if (reader.size !== fixedWriter.size) issues.push({ path, kind: 'fixed-size-mismatch', reader: reader.size, writer: fixedWriter.size });
      else if (!sameLogicalType(reader.logical, fixedWriter.logical)) issues.push({ path, kind: 'type-mismatch', reader, writer });
      return;
    }
    case 'enum': {
      const enumWriter = writer as typeof reader;
      if (!namesMatch(reader, enumWriter)) {
        issues.push({ path, kind: 'name-mismatch', typeKind: 'enum', reader: reader.name, writer: enumWriter.name });
        return;
      }
      if (reader.default !== undefined) return; // unknown symbols are read as the default
      for (const symbol of enumWriter.symbols) {
        if (!reader.symbols.includes(symbol)) issues.push({ path, kind: 'missing-enum-symbol', symbol });
      }
      return;
    }
    case 'record':
      resolveRecord(reader, writer as RecordNode, path, issues, active);
      return;
    case 'primitive':
      return; // handled above
  }
}

function resolveRecord(reader: RecordNode, writer: RecordNode, path: string, issues: ResolutionIssue[], active: Set<string>): void {
  if (!namesMatch(reader, writer)) {
    issues.push({ path, kind: 'name-mismatch', typeKind: 'record', reader: reader.name, writer: writer.name });
    return;
  }
  // Recursive schemas: a pair already being compared further up the stack needs no second look.
  const pair = `${reader.name}<-${writer.name}`;
  if (active.has(pair)) return;
  active.add(pair);
  const matched = new Set<FieldNode>();
  const missing: FieldNode[] = [];
  for (const readerField of reader.fields) {
    const writerField = writer.fields.find((field) => field.name === readerField.name) ?? writer.fields.find((field) => readerField.aliases.includes(field.name));
    if (writerField) {
      matched.add(writerField);
      resolve(readerField.type, writerField.type, joinPath(path, readerField.name), issues, active);
    } else if (!readerField.hasDefault) {
      missing.push(readerField);
    }
  }
  const unmatched = writer.fields.filter((field) => !matched.has(field));
  for (const readerField of missing) {
    const sameType = unmatched.filter((field) => describeType(field.type) === describeType(readerField.type));
    const renameCandidate = sameType.length === 1 ? sameType[0]!.name : undefined;
    issues.push({ path: joinPath(path, readerField.name), kind: 'missing-field', field: readerField.name, ...(renameCandidate ? { renameCandidate } : {}) });
  }
  active.delete(pair);
}

function joinPath(path: string, field: string): string {
  return path ? `${path}.${field}` : field;
}

/**
 * A writer branch (or a writer that is not a union) read by a reader union: the spec picks the
 * first reader branch that matches. A branch of the same named type or kind is followed into, so a
 * change inside `["null", Value]` is reported at the field that changed, not as a missing branch.
 */
function resolveIntoUnion(reader: { branches: AvroNode[] }, writer: AvroNode, path: string, issues: ResolutionIssue[], active: Set<string>, writerIsBranch: boolean): void {
  const clean = reader.branches.find((branch) => resolvesCleanly(branch, writer, active));
  if (clean) return;
  const sameKind = reader.branches.find((branch) => sameTypeIdentity(branch, writer));
  if (sameKind) {
    resolve(sameKind, writer, path, issues, active);
    return;
  }
  if (writerIsBranch) issues.push({ path, kind: 'missing-union-branch', branch: writer });
  else issues.push({ path, kind: 'type-mismatch', reader: { kind: 'union', branches: reader.branches }, writer });
}

function resolvesCleanly(reader: AvroNode, writer: AvroNode, active: Set<string>): boolean {
  const issues: ResolutionIssue[] = [];
  resolve(reader, writer, '', issues, new Set(active));
  return issues.length === 0;
}

function sameTypeIdentity(reader: AvroNode, writer: AvroNode): boolean {
  if (reader.kind !== writer.kind) return false;
  if (reader.kind === 'record' || reader.kind === 'enum' || reader.kind === 'fixed') return namesMatch(reader, writer as NamedNode);
  if (reader.kind === 'primitive') return reader.type === (writer as typeof reader).type;
  return true;
}

/** Writer type → reader types it is promoted to (Avro specification, "Schema Resolution"). */
const PROMOTIONS: Partial<Record<string, string[]>> = {
  int: ['long', 'float', 'double'],
  long: ['float', 'double'],
  float: ['double'],
  string: ['bytes'],
  bytes: ['string'],
};

/** Named types match by unqualified name (so a namespace change alone is fine) or by a reader alias. */
function namesMatch(reader: NamedNode, writer: NamedNode): boolean {
  return unqualifiedName(reader.name) === unqualifiedName(writer.name) || reader.aliases.includes(writer.name);
}

function sameLogicalType(reader: LogicalTypeInfo | undefined, writer: LogicalTypeInfo | undefined): boolean {
  if (!reader || !writer) return reader === writer;
  return reader.name === writer.name && reader.precision === writer.precision && (reader.scale ?? 0) === (writer.scale ?? 0);
}

// ---------------------------------------------------------------------------------------------
// Modes

/** A schema version to check against; `label` names it in messages (`version 3`, `HEAD`, `a1b2c3d`). */
export interface PreviousSchema {
  label: string;
  schema: AvroNode;
}

export interface Incompatibility {
  /** Where in the schema, e.g. `after.email`; empty for the top level. */
  path: string;
  /** What changed, in old → new terms: `field removed without a default`. */
  reason: string;
  mode: CompatibilityMode;
  /** The previous version it conflicts with. */
  against: string;
}

/**
 * Checks a candidate schema against the previous versions of its subject (oldest first) under a
 * registry compatibility mode. Empty result = compatible.
 */
export function checkCompatibility(candidate: AvroNode, previous: PreviousSchema[], mode: CompatibilityMode): Incompatibility[] {
  if (mode === 'NONE' || previous.length === 0) return [];
  const transitive = mode.endsWith('_TRANSITIVE');
  const against = transitive ? previous : previous.slice(-1);
  const backward = mode.startsWith('BACKWARD') || mode.startsWith('FULL');
  const forward = mode.startsWith('FORWARD') || mode.startsWith('FULL');
  const found: Incompatibility[] = [];
  const seen = new Set<string>();
  for (const old of [...against].reverse()) {
    const issues = [
      ...(backward ? resolveSchemas(candidate, old.schema).map((issue) => ({ issue, newReadsOld: true })) : []),
      ...(forward ? resolveSchemas(old.schema, candidate).map((issue) => ({ issue, newReadsOld: false })) : []),
    ];
    for (const { issue, newReadsOld } of issues) {
      const reason = describeIssue(issue, newReadsOld);
      const key = `${issue.path}\u0000${reason}`;
      if (seen.has(key)) continue; // the same break against several versions is told once
      seen.add(key);
      found.push({ path: issue.path, reason, mode, against: old.label });
    }
  }
  return found;
}

/** `customers-value: after.email: field removed without a default, breaks FORWARD` */
export function formatIncompatibility(subject: string, incompatibility: Incompatibility): string {
  const where = incompatibility.path ? `${incompatibility.path}: ` : '';
  const against = incompatibility.mode.endsWith('_TRANSITIVE') ? ` (against ${incompatibility.against})` : '';
  return `${subject}: ${where}${incompatibility.reason}, breaks ${incompatibility.mode}${against}`;
}

/**
 * Tells a resolution issue as a change from the old schema to the new one. `newReadsOld`: the new
 * schema is the reader (BACKWARD direction); otherwise old readers read new data (FORWARD).
 */
export function describeIssue(issue: ResolutionIssue, newReadsOld: boolean): string {
  const oldNew = <T>(reader: T, writer: T): [T, T] => (newReadsOld ? [writer, reader] : [reader, writer]);
  switch (issue.kind) {
    case 'missing-field':
      if (!newReadsOld) return 'field removed without a default';
      return issue.renameCandidate
        ? `field added without a default (if it was renamed from ${issue.renameCandidate}, add "aliases": ["${issue.renameCandidate}"])`
        : 'field added without a default';
    case 'type-mismatch': {
      const [before, after] = oldNew(issue.reader, issue.writer);
      return `type changed from ${describeType(before)} to ${describeType(after)}`;
    }
    case 'missing-enum-symbol':
      return newReadsOld ? `enum symbol ${issue.symbol} removed and the enum has no default` : `enum symbol ${issue.symbol} added but the old enum has no default`;
    case 'missing-union-branch':
      return newReadsOld ? `union branch ${describeType(issue.branch)} removed` : `union branch ${describeType(issue.branch)} added`;
    case 'name-mismatch': {
      const [before, after] = oldNew(issue.reader, issue.writer);
      const hint = newReadsOld ? ` (add "aliases": ["${before}"] to keep reading old data)` : '';
      return `${issue.typeKind} name changed from ${before} to ${after}${hint}`;
    }
    case 'fixed-size-mismatch': {
      const [before, after] = oldNew(issue.reader, issue.writer);
      return `fixed size changed from ${before} to ${after}`;
    }
  }
}

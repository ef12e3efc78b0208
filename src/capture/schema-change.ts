import { quoteIdent } from '../pg/identifiers.js';
import type { TableDefinition } from '../schema/table-definition.js';

/** What changed between two definitions of a table, in words: `column email added (text, nullable)`. */
export function describeTableChange(previous: TableDefinition, next: TableDefinition): string[] {
  const changes: string[] = [];
  const before = new Map(previous.columns.map((column) => [column.name, column]));
  const after = new Map(next.columns.map((column) => [column.name, column]));
  for (const column of next.columns) {
    const old = before.get(column.name);
    if (!old) changes.push(`column ${column.name} added (${column.declaredType}, ${column.nullable ? 'nullable' : 'NOT NULL'})`);
    else if (old.declaredType !== column.declaredType) changes.push(`column ${column.name} changed type from ${old.declaredType} to ${column.declaredType}`);
    else if (old.nullable !== column.nullable) changes.push(`column ${column.name} became ${column.nullable ? 'nullable' : 'NOT NULL'}`);
  }
  for (const column of previous.columns) if (!after.has(column.name)) changes.push(`column ${column.name} dropped`);
  if (previous.keyColumns.join() !== next.keyColumns.join()) changes.push(`key changed from (${previous.keyColumns.join(', ')}) to (${next.keyColumns.join(', ')})`);
  return changes;
}

/** The compatible way to make each breaking kind of change, as SQL or advice for people. */
export function compatibleAlternatives(previous: TableDefinition, next: TableDefinition): string[] {
  const table = `${quoteIdent(next.schema)}.${quoteIdent(next.table)}`;
  const before = new Map(previous.columns.map((column) => [column.name, column]));
  const advice: string[] = [];
  for (const column of next.columns) {
    const old = before.get(column.name);
    if (!old && !column.nullable) advice.push(`add ${column.name} as nullable: ALTER TABLE ${table} ALTER COLUMN ${quoteIdent(column.name)} DROP NOT NULL`);
    else if (old && old.declaredType !== column.declaredType) advice.push(`keep ${column.name} as ${old.declaredType} and add a new nullable column of type ${column.declaredType} instead`);
  }
  const after = new Set(next.columns.map((column) => column.name));
  for (const column of previous.columns) {
    if (!after.has(column.name) && !column.nullable) advice.push(`make ${column.name} nullable before dropping it, so readers of the old schema get null`);
  }
  return advice;
}

/**
 * The fix of a schema the registry refused: each compatible alternative, else (or also) relaxing
 * the subject's compatibility; capture acknowledged nothing after the change, so it resumes there.
 */
export function schemaChangeFix(alternatives: readonly string[]): string {
  const relax = "relax the subject's compatibility in the registry (PUT /config/<subject>)";
  const choices = alternatives.length > 0 ? `${alternatives.join('; or ')}; or ${relax}` : relax;
  return `${choices}; then restart capture (nothing after the change was acknowledged)`;
}

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

/**
 * Helpers for connector files. They only write SQL text (or mark a Node-computed column); they add
 * no semantics of their own, so what runs is always what PostgreSQL makes of the text.
 */
import type { JsColumn } from '../config/schema.js';

/** A literal in SQL: strings quoted, numbers and booleans as written, null as NULL. */
export function sqlLiteral(value: string | number | bigint | boolean | null): string {
  if (value === null) return 'NULL';
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`lookup: ${value} has no SQL literal; write the expression yourself`);
    return String(value);
  }
  if (typeof value === 'bigint') return value.toString();
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * `lookup('status_code', { 1: 'active', 2: 'suspended' }, 'unknown')` →
 * `CASE (status_code) WHEN 1 THEN 'active' WHEN 2 THEN 'suspended' ELSE 'unknown' END`.
 * Keys that look like integers are compared as numbers, others as text.
 */
export function lookup(expression: string, map: Readonly<Record<string, string | number | boolean | null>>, otherwise: string | number | boolean | null = null): string {
  const entries = Object.entries(map);
  if (entries.length === 0) throw new RangeError('lookup: the map is empty; list at least one value');
  const whens = entries.map(([key, value]) => `WHEN ${/^-?\d+(\.\d+)?$/.test(key) ? key : sqlLiteral(key)} THEN ${sqlLiteral(value)}`);
  return `CASE (${expression}) ${whens.join(' ')} ELSE ${sqlLiteral(otherwise)} END`;
}

/**
 * A column computed in Node from the legacy row (values in PostgreSQL text form, null for NULL),
 * for what SQL cannot express. Its result is cast to the target column's type by PostgreSQL.
 * Reconcile cannot compare such a column in the database and falls back to streaming for it.
 */
export function js(compute: (row: Readonly<Record<string, string | null>>) => unknown): JsColumn {
  return { kind: 'js', compute };
}

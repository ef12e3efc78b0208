/**
 * The connector's mappings as a plan of frozen nodes: per source table, the target tables it feeds,
 * each with its columns (SQL expressions over the legacy row, or js), filter and delete rule. Pure:
 * built once from the validated connector; `resolve.ts` completes it against the tables' shapes and
 * `compile.ts` turns it into SQL.
 */
import type { Connector } from '../config/index.js';
import type { JsColumn } from '../config/schema.js';
import { referencedNames } from './expression.js';

export interface SqlColumnNode {
  readonly kind: 'sql';
  /** Target column. */
  readonly name: string;
  /** Where it is declared, for messages: `mappings['legacy.customers'][0].columns.email`. */
  readonly path: string;
  readonly sql: string;
  /** Names the expression mentions (a superset of the source columns it reads). */
  readonly reads: readonly string[];
  /** Copied because the target column has the name of a source column, not declared. */
  readonly implicit: boolean;
}

export interface JsColumnNode {
  readonly kind: 'js';
  readonly name: string;
  readonly path: string;
  readonly compute: JsColumn['compute'];
  readonly implicit: false;
}

export type ColumnNode = SqlColumnNode | JsColumnNode;

export type DeleteRule = { readonly kind: 'delete' } | { readonly kind: 'set'; readonly columns: readonly SqlColumnNode[] };

export interface MappingNode {
  /** `mappings['legacy.customers'][0]` (or `mappings['legacy.loyalty']` for a single mapping). */
  readonly path: string;
  /** `schema.table` of the legacy table. */
  readonly source: string;
  /** `schema.table` of the target table. */
  readonly target: string;
  /** Declared columns; `resolve` adds the implicit copies. */
  readonly columns: readonly ColumnNode[];
  readonly where: { readonly sql: string; readonly path: string; readonly reads: readonly string[] } | null;
  readonly onDelete: DeleteRule;
}

export interface MappingPlan {
  readonly connector: string;
  /** Every mapping, in declaration order. */
  readonly mappings: readonly MappingNode[];
  /** Source table → its mappings (a source table without a mapping is copied to target.schema). */
  readonly bySource: ReadonlyMap<string, readonly MappingNode[]>;
  /** Target table → the mappings that feed it (more than one: a merge). */
  readonly byTarget: ReadonlyMap<string, readonly MappingNode[]>;
}

/** `['legacy.customers', 0, 'columns', 'email']` → `mappings['legacy.customers'][0].columns.email`. */
export function mappingPath(...parts: (string | number)[]): string {
  return parts.reduce<string>((out, part) => {
    if (typeof part === 'number') return `${out}[${part}]`;
    return /^[A-Za-z_$][\w$]*$/.test(part) ? `${out}.${part}` : `${out}['${part.replace(/'/g, "\\'")}']`;
  }, 'mappings');
}

export function buildMappingPlan(connector: Connector): MappingPlan {
  const mappings: MappingNode[] = [];
  for (const source of connector.source.tables) {
    const declared = connector.mappings[source];
    if (declared === undefined) {
      const table = source.slice(source.indexOf('.') + 1);
      mappings.push(freezeNode({ path: mappingPath(source), source, target: `${connector.target.schema}.${table}`, columns: [], where: null, onDelete: { kind: 'delete' } }));
      continue;
    }
    const list = Array.isArray(declared) ? declared : [declared];
    list.forEach((mapping, index) => {
      const base = Array.isArray(declared) ? mappingPath(source, index) : mappingPath(source);
      const columns: ColumnNode[] = Object.entries(mapping.columns).map(([name, value]) => {
        const path = `${base}.columns.${name}`;
        return typeof value === 'string' ? { kind: 'sql', name, path, sql: value, reads: referencedNames(value), implicit: false } : { kind: 'js', name, path, compute: value.compute, implicit: false };
      });
      const onDelete: DeleteRule =
        mapping.onDelete === 'delete'
          ? { kind: 'delete' }
          : { kind: 'set', columns: Object.entries(mapping.onDelete.set).map(([name, sql]) => ({ kind: 'sql', name, path: `${base}.onDelete.set.${name}`, sql, reads: referencedNames(sql), implicit: false })) };
      mappings.push(
        freezeNode({
          path: base,
          source,
          target: mapping.to.includes('.') ? mapping.to : `${connector.target.schema}.${mapping.to}`,
          columns,
          where: mapping.where ? { sql: mapping.where, path: `${base}.where`, reads: referencedNames(mapping.where) } : null,
          onDelete,
        }),
      );
    });
  }
  const bySource = new Map<string, MappingNode[]>();
  const byTarget = new Map<string, MappingNode[]>();
  for (const node of mappings) {
    bySource.set(node.source, [...(bySource.get(node.source) ?? []), node]);
    byTarget.set(node.target, [...(byTarget.get(node.target) ?? []), node]);
  }
  return Object.freeze({ connector: connector.name, mappings: Object.freeze(mappings), bySource, byTarget });
}

function freezeNode(node: MappingNode): MappingNode {
  for (const column of node.columns) Object.freeze(column);
  if (node.onDelete.kind === 'set') node.onDelete.columns.forEach((column) => Object.freeze(column));
  return Object.freeze({ ...node, columns: Object.freeze([...node.columns]), onDelete: Object.freeze(node.onDelete) });
}

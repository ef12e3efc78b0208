/**
 * A mapping completed against the shapes of its source (the legacy row as translate stages it) and
 * its target table: implicit copies added, the key located, the columns each expression reads, and
 * every problem that can be seen without asking PostgreSQL. Pure.
 */
import { quoteIdent } from '../pg/identifiers.js';
import { orderParentsFirst } from './fk-order.js';
import type { JsColumnNode, MappingNode, MappingPlan, SqlColumnNode } from './plan.js';

export interface SourceColumn {
  name: string;
  /** The type of the column in the staging table (the legacy type where the target database knows it, else text). */
  stagingType: string;
}

/** The legacy row as translate stages it. */
export interface SourceShape {
  table: string;
  columns: readonly SourceColumn[];
  /** Key columns of the legacy table (what a delete event carries). */
  key: readonly string[];
}

export interface TargetColumn {
  name: string;
  /** format_type() of the column. */
  type: string;
  notNull: boolean;
  /** The default expression, if any. */
  default: string | null;
  /** Generated or identity ALWAYS: cannot be written. */
  generated: boolean;
}

export interface TargetShape {
  table: string;
  columns: readonly TargetColumn[];
  /** Primary key columns, in key order; empty when the table has none. */
  key: readonly string[];
  /** Tables this one references by foreign key. */
  parents: readonly string[];
}

export interface ResolvedColumn {
  name: string;
  path: string;
  /** Target column type. */
  type: string;
  /** The SQL expression, or for a js column its staging column cast to the target type. */
  kind: 'sql' | 'js';
  sql: string;
  /** Source columns whose value the column depends on (js: all of them). */
  reads: readonly string[];
  implicit: boolean;
}

export interface ResolvedMapping {
  node: MappingNode;
  target: TargetShape;
  /** Columns written by this mapping's upsert, in target table order. */
  columns: readonly ResolvedColumn[];
  /** The target key's columns (a subset of `columns`), in key order. */
  key: readonly ResolvedColumn[];
  /** Soft delete: the columns it sets, and what a live row gets in them (their default, else NULL). */
  deleteSets: readonly ResolvedColumn[];
  liveValues: readonly { name: string; sql: string }[];
  /** Source columns any written column reads: a row with one of them not sent keeps those targets' values. */
  reads: readonly string[];
}

export interface ResolvedSource {
  source: SourceShape;
  /** Staging columns of js columns, in order. */
  jsColumns: readonly { stagingName: string; mapping: MappingNode; column: JsColumnNode }[];
  /** Parents first. */
  mappings: readonly ResolvedMapping[];
}

export interface MappingProblem {
  path: string;
  message: string;
  fix: string;
}

export const JS_STAGING_PREFIX = 'tandem$js_';

/** Resolves every mapping of one source table; `resolved` is null when there is a problem. */
export function resolveSource(plan: MappingPlan, sourceTable: string, source: SourceShape, targets: ReadonlyMap<string, TargetShape | undefined>): { resolved: ResolvedSource | null; problems: MappingProblem[] } {
  const problems: MappingProblem[] = [];
  const nodes = plan.bySource.get(sourceTable) ?? [];
  const sourceNames = new Set(source.columns.map((column) => column.name));
  const allSource = source.columns.map((column) => column.name);
  const jsColumns: { stagingName: string; mapping: MappingNode; column: JsColumnNode }[] = [];
  const mappings: ResolvedMapping[] = [];

  for (const node of nodes) {
    const target = targets.get(node.target);
    if (!target) {
      problems.push({ path: `${node.path}.to`, message: `target table ${node.target} does not exist`, fix: `create ${node.target} in the target database, or correct "to"` });
      continue;
    }
    const before = problems.length;
    if (target.key.length === 0) {
      problems.push({ path: `${node.path}.to`, message: `target table ${node.target} has no primary key; translate upserts by it`, fix: `ALTER TABLE ${node.target} ADD PRIMARY KEY (...)` });
    }
    const targetColumns = new Map(target.columns.map((column) => [column.name, column]));
    const declared = new Map(node.columns.map((column) => [column.name, column]));
    for (const column of node.columns) {
      const targetColumn = targetColumns.get(column.name);
      if (!targetColumn) problems.push({ path: column.path, message: `target table ${node.target} has no column ${column.name}`, fix: `correct the column name, or ALTER TABLE ${node.target} ADD COLUMN ${quoteIdent(column.name)} ...` });
      else if (targetColumn.generated) problems.push({ path: column.path, message: `target column ${node.target}.${column.name} is generated and cannot be written`, fix: 'remove it from the mapping' });
    }
    const columns: ResolvedColumn[] = [];
    for (const targetColumn of target.columns) {
      const explicit = declared.get(targetColumn.name);
      if (targetColumn.generated) continue;
      if (explicit?.kind === 'sql') {
        columns.push(sqlColumn(explicit, targetColumn.type, sourceNames));
      } else if (explicit?.kind === 'js') {
        const stagingName = `${JS_STAGING_PREFIX}${jsColumns.length}`;
        jsColumns.push({ stagingName, mapping: node, column: explicit });
        columns.push({ name: explicit.name, path: explicit.path, type: targetColumn.type, kind: 'js', sql: `CAST(${quoteIdent(stagingName)} AS ${targetColumn.type})`, reads: allSource, implicit: false });
      } else if (sourceNames.has(targetColumn.name)) {
        columns.push({ name: targetColumn.name, path: `${node.path}.columns.${targetColumn.name} (copied from ${sourceTable}.${targetColumn.name})`, type: targetColumn.type, kind: 'sql', sql: quoteIdent(targetColumn.name), reads: [targetColumn.name], implicit: true });
      }
    }
    const written = new Set(columns.map((column) => column.name));
    const key: ResolvedColumn[] = [];
    for (const name of target.key) {
      const column = columns.find((candidate) => candidate.name === name);
      if (!column) {
        problems.push({
          path: node.path,
          message: `the key of ${node.target} (${target.key.join(', ')}) is not covered: column ${name} has no expression and ${sourceTable} has no column ${name}`,
          fix: `add columns.${name}: '<expression over ${sourceTable}>'`,
        });
        continue;
      }
      const nonKeyReads = column.reads.filter((read) => !source.key.includes(read));
      if (column.kind === 'js' || nonKeyReads.length > 0) {
        problems.push({
          path: column.path,
          message: `key column ${node.target}.${name} must be computed from the key of ${sourceTable} (${source.key.join(', ') || 'none'}) alone, because a delete event carries only that; it reads ${column.kind === 'js' ? 'the whole row (js)' : nonKeyReads.join(', ')}`,
          fix: `compute ${name} from ${source.key.join(', ') || 'the source key'} (or give ${sourceTable} a primary key that matches)`,
        });
      }
      key.push(column);
    }
    const others = plan.byTarget.get(node.target)!.filter((other) => other !== node);
    for (const targetColumn of target.columns) {
      // A key column without a value was reported above as the key not being covered.
      if (!targetColumn.notNull || targetColumn.default !== null || targetColumn.generated || written.has(targetColumn.name) || target.key.includes(targetColumn.name)) continue;
      const merge = others.length > 0 ? ` (${node.target} is also fed by ${others.map((other) => other.path).join(', ')}; every mapping's insert must give each NOT NULL column a value, whichever source creates the row first)` : '';
      problems.push({
        path: node.path,
        message: `target column ${node.target}.${targetColumn.name} is NOT NULL and has no default, but this mapping gives it no value${merge}`,
        fix: `add columns.${targetColumn.name}, or give the column a default (ALTER TABLE ${node.target} ALTER COLUMN ${quoteIdent(targetColumn.name)} SET DEFAULT ...)`,
      });
    }
    const deleteSets: ResolvedColumn[] = [];
    const liveValues: { name: string; sql: string }[] = [];
    if (node.onDelete.kind === 'set') {
      for (const column of node.onDelete.columns) {
        const targetColumn = targetColumns.get(column.name);
        if (!targetColumn) {
          problems.push({ path: column.path, message: `target table ${node.target} has no column ${column.name}`, fix: 'correct the column name in onDelete.set' });
          continue;
        }
        deleteSets.push(sqlColumn(column, targetColumn.type, sourceNames));
        if (written.has(column.name)) continue;
        if (targetColumn.notNull && targetColumn.default === null) {
          problems.push({
            path: column.path,
            message: `soft-delete column ${node.target}.${column.name} is NOT NULL without a default, so a live (or revived) row has no value for it`,
            fix: `give it a default (ALTER TABLE ${node.target} ALTER COLUMN ${quoteIdent(column.name)} SET DEFAULT ...) or map it in columns`,
          });
        }
        liveValues.push({ name: column.name, sql: targetColumn.default ?? 'NULL' });
      }
    }
    if (problems.length > before) continue;
    const reads = [...new Set(columns.flatMap((column) => column.reads))];
    mappings.push({ node, target, columns, key, deleteSets, liveValues, reads });
  }
  if (problems.length > 0) return { resolved: null, problems };
  const ordered = orderParentsFirst(mappings, (mapping) => mapping.node.target, (mapping) => mapping.target.parents);
  return { resolved: Object.freeze({ source, jsColumns, mappings: ordered }), problems };
}

function sqlColumn(column: SqlColumnNode, type: string, sourceNames: ReadonlySet<string>): ResolvedColumn {
  return { name: column.name, path: column.path, type, kind: 'sql', sql: column.sql, reads: column.reads.filter((read) => sourceNames.has(read)), implicit: column.implicit };
}

/**
 * Which target tables a run compares, and their SQL: the connector's plan resolved against the live
 * legacy and target catalogs (the same resolution translate starts with), compiled per target.
 */
import type pg from 'pg';
import type { Connector } from '../config/index.js';
import { qualify } from '../config/schema.js';
import { TandemError } from '../errors.js';
import { compileReconcileTarget, type ReconcileTargetSql } from '../mapping/reconcile-sql.js';
import { buildMappingPlan } from '../mapping/plan.js';
import { resolveSource, type MappingProblem, type ResolvedMapping } from '../mapping/resolve.js';
import { readTargetShapes } from '../translate/shapes.js';
import { mappingProblemsError, readSourceShape } from '../translate/validate.js';

export async function compileTargets(connector: Connector, source: pg.ClientBase, target: pg.ClientBase, only?: readonly string[]): Promise<ReconcileTargetSql[]> {
  const plan = buildMappingPlan(connector);
  const all = [...plan.byTarget.keys()];
  const wanted = only && only.length > 0 ? only.map((table) => qualify(table, connector.target.schema)) : all;
  const unknown = wanted.filter((table) => !plan.byTarget.has(table));
  if (unknown.length > 0) {
    throw new TandemError(`--tables names ${unknown.join(', ')}, which no mapping of connector ${connector.name} feeds`, { fix: `choose among ${all.join(', ')}` });
  }
  const sources = [...new Set(wanted.flatMap((table) => plan.byTarget.get(table)!.map((node) => node.source)))];
  const shapes = await readTargetShapes(target, plan.mappings.map((node) => node.target));
  const byTarget = new Map<string, ResolvedMapping[]>();
  const problems: MappingProblem[] = [];
  for (const table of sources) {
    const shape = await readSourceShape(source, table).catch((error: unknown) => {
      problems.push({ path: `source.tables (${table})`, message: (error as Error).message, fix: (error as TandemError).fix ?? 'create the legacy table or correct source.tables' });
      return null;
    });
    if (!shape) continue;
    const { resolved, problems: found } = resolveSource(plan, table, shape, shapes);
    problems.push(...found);
    for (const mapping of resolved?.mappings ?? []) byTarget.set(mapping.node.target, [...(byTarget.get(mapping.node.target) ?? []), mapping]);
  }
  if (problems.length > 0) throw mappingProblemsError(connector.name, problems, 'reconcile cannot compare');
  return wanted.map((table) => {
    // Declaration order, as in plan.byTarget (resolution orders parents first within a source).
    const order = plan.byTarget.get(table)!;
    const mappings = [...byTarget.get(table)!].sort((a, b) => order.indexOf(a.node) - order.indexOf(b.node));
    return compileReconcileTarget(shapes.get(table)!, mappings);
  });
}

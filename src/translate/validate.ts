/**
 * Start-up validation against the live target: every mapping is resolved against the target
 * catalog, then each expression and each compiled statement is prepared by PostgreSQL against a
 * staging table of the source's shape, so a problem is reported with its connector path and
 * PostgreSQL's own words. Nothing is executed: the checks run in a transaction that is rolled back.
 */
import type pg from 'pg';
import type { Connector } from '../config/index.js';
import { TandemError } from '../errors.js';
import { compileSource } from '../mapping/compile.js';
import { buildMappingPlan, type MappingPlan } from '../mapping/plan.js';
import { resolveSource, type MappingProblem, type ResolvedSource, type SourceShape, type TargetShape } from '../mapping/resolve.js';
import { connectClient } from '../pg/connect.js';
import { quoteIdent, quoteQualified, splitQualified } from '../pg/identifiers.js';
import { readTableDefinition } from '../schema/catalog-reader.js';
import { readTargetShapes, stagingTypeOf } from './shapes.js';

/** Resolves and prepares one source's mappings; problems carry connector paths. */
export async function validateSource(client: pg.ClientBase, plan: MappingPlan, sourceTable: string, source: SourceShape, targets: ReadonlyMap<string, TargetShape | undefined>): Promise<{ resolved: ResolvedSource | null; problems: MappingProblem[] }> {
  const { resolved, problems } = resolveSource(plan, sourceTable, source, targets);
  if (!resolved) return { resolved, problems };
  const compiled = compileSource(resolved, 0);
  const stage = `pg_temp.${quoteIdent(compiled.staging.table)}`;
  const found: MappingProblem[] = [];
  let statement = 0;
  const prepare = async (path: string, sql: string, params: string, fix: string) => {
    const name = `tandem_check_${statement++}`;
    await client.query('SAVEPOINT tandem_check');
    try {
      await client.query(`PREPARE ${name}${params} AS ${sql}`);
      await client.query(`DEALLOCATE ${name}`);
      await client.query('RELEASE SAVEPOINT tandem_check');
      return true;
    } catch (error) {
      await client.query('ROLLBACK TO SAVEPOINT tandem_check');
      found.push({ path, message: (error as Error).message, fix });
      return false;
    }
  };
  await client.query('BEGIN');
  try {
    await client.query(compiled.staging.create);
    for (const target of compiled.targets) {
      const { mapping } = target;
      const table = quoteQualified(mapping.target.table);
      let columnsOk = true;
      for (const column of mapping.columns) {
        const fix = column.kind === 'js' ? `return a value PostgreSQL can cast to ${column.type}` : `correct the expression (a PostgreSQL expression over the columns of ${sourceTable}: ${source.columns.map((c) => c.name).join(', ')}) or cast it to ${column.type}`;
        columnsOk = (await prepare(column.path, `INSERT INTO ${table} (${quoteIdent(column.name)}) SELECT (${column.sql}) FROM ${stage}`, '', fix)) && columnsOk;
      }
      if (mapping.node.where) {
        columnsOk = (await prepare(mapping.node.where.path, `SELECT 1 FROM ${stage} WHERE (${mapping.node.where.sql})`, '', `write a boolean expression over the columns of ${sourceTable}`)) && columnsOk;
      }
      for (const column of mapping.deleteSets) {
        columnsOk = (await prepare(column.path, `INSERT INTO ${table} (${quoteIdent(column.name)}) SELECT (${column.sql}) FROM ${stage}`, '', `correct the expression or cast it to ${column.type}`)) && columnsOk;
      }
      if (!columnsOk) continue;
      const fix = 'the expressions are valid one by one but not together: check the key columns\' types against the target key';
      for (const sql of [target.upsert, target.insertUnsent, target.updateUnsent, target.remove]) {
        if (sql) await prepare(mapping.node.path, sql, '(integer, integer)', fix);
      }
      await prepare(mapping.node.path, target.truncate, '', fix);
    }
  } finally {
    await client.query('ROLLBACK');
  }
  return found.length > 0 ? { resolved: null, problems: found } : { resolved, problems: [] };
}

/** The legacy table's shape from the source catalog (start-up and doctor). */
export async function readSourceShape(sourceClient: pg.ClientBase, table: string): Promise<SourceShape> {
  const { schema, table: name } = splitQualified(table);
  const definition = await readTableDefinition(sourceClient, schema, name);
  return { table, columns: definition.columns.map((column) => ({ name: column.name, stagingType: stagingTypeOf(column) ?? 'text' })), key: definition.keyColumns };
}

/** Every problem of every mapping of the connector, against the live source and target catalogs. */
export async function checkMappings(connector: Connector, plan: MappingPlan = buildMappingPlan(connector)): Promise<MappingProblem[]> {
  const source = await connectClient(connector.source.url, 'source');
  try {
    const target = await connectClient(connector.target.url, 'target');
    try {
      const targets = await readTargetShapes(target, plan.mappings.map((mapping) => mapping.target));
      const problems: MappingProblem[] = [];
      for (const table of connector.source.tables) {
        let shape: SourceShape;
        try {
          shape = await readSourceShape(source, table);
        } catch (error) {
          problems.push({ path: `source.tables (${table})`, message: (error as Error).message, fix: (error as TandemError).fix ?? 'create the legacy table or correct source.tables' });
          continue;
        }
        problems.push(...(await validateSource(target, plan, table, shape, targets)).problems);
      }
      return problems;
    } finally {
      await target.end().catch(() => undefined);
    }
  } finally {
    await source.end().catch(() => undefined);
  }
}

/** The refusal: every problem on its own line, path first. */
export function mappingProblemsError(connector: string, problems: readonly MappingProblem[], context = 'translate refuses to start'): TandemError {
  const lines = problems.map((problem) => `  ${problem.path}: ${problem.message}\n    fix: ${problem.fix}`);
  return new TandemError(`${context}: connector ${connector} has ${problems.length === 1 ? '1 mapping problem' : `${problems.length} mapping problems`}:\n${lines.join('\n')}`, {
    fix: 'correct the mappings (or the target tables) as listed above, then start translate again',
  });
}

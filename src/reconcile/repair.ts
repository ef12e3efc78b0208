/**
 * `--repair`: drifted target rows rewritten from the legacy rows through the mappings (the expected
 * projection), one transaction per chunk of keys, each repaired key recorded in
 * `tandem.reconcile_repair` in the same transaction; then those keys are compared again.
 *
 * On a live system translate keeps applying changes meanwhile; a key it changes after repair read
 * the legacy row is rewritten by translate's own upsert, and the recheck shows whether any is left.
 */
import type pg from 'pg';
import type { Connector } from '../config/index.js';
import { repairJsQuery, repairRemoveQuery, repairUpsertQuery, rowsByKeyQuery, type ReconcileTargetSql, type SqlQuery } from '../mapping/reconcile-sql.js';
import type { Logger } from '../observability/logger.js';
import { connectClient } from '../pg/connect.js';
import type { JsColumns } from './js-columns.js';
import { clientJsRunner, queryError, sessionOptions } from './pg-side.js';
import { diffRows, type CanonicalRow } from './row-diff.js';
import { differing, limitsOf, prepareJs, type ReconcileResult } from './run.js';
import { keyId, type Key } from './segment.js';

export interface RepairResult {
  /** Rows rewritten per target table. */
  repaired: Map<string, number>;
  /** Drifted rows left when the repaired keys were compared again. */
  recheckDrift: number;
}

async function rows(client: pg.Client, query: SqlQuery, keyLength: number, role: string, url: string): Promise<CanonicalRow[]> {
  try {
    const result = await client.query({ text: query.text, values: query.values as string[], rowMode: 'array' });
    return (result.rows as (string | null)[][]).map((row) => ({ key: row.slice(0, keyLength) as string[], values: row.slice(keyLength) }));
  } catch (error) {
    throw queryError(error, role, url, query.text);
  }
}

export async function repairDrift(connector: Connector, result: ReconcileResult, targets: readonly ReconcileTargetSql[], runId: string, logger: Logger): Promise<RepairResult> {
  const options = { options: sessionOptions(limitsOf(connector)), application_name: 'tandem reconcile repair' };
  const source = await connectClient(connector.source.url, 'source', options);
  const target = await connectClient(connector.target.url, 'target', options).catch(async (error: unknown) => {
    await source.end();
    throw error;
  });
  const repaired = new Map<string, number>();
  let recheckDrift = 0;
  try {
    // js() columns are written as translate writes them: cast under translate's session settings, read on a session opened like its own.
    const plain = await connectClient(connector.target.url, 'target');
    const js = await prepareJs(targets, source, plain).finally(() => plain.end().catch(() => undefined));
    for (const table of result.tables) {
      const keys = differing(table);
      if (keys.length === 0) continue;
      const sql = targets.find((item) => item.table === table.table)!;
      const kinds = new Map<string, 'missing' | 'extra' | 'different'>([...table.missing.map((key) => [keyId(key), 'missing'] as const), ...table.extra.map((key) => [keyId(key), 'extra'] as const), ...table.different.map((row) => [keyId(row.key), 'different'] as const)]);
      let count = 0;
      for (let start = 0; start < keys.length; start += connector.reconcile.bisectRows) {
        const chunk = keys.slice(start, start + connector.reconcile.bisectRows);
        const expected = await rows(source, rowsByKeyQuery(sql.expected, sql.key, sql.columns, chunk), sql.key.length, 'source', connector.source.url);
        const present = new Set(expected.map((row) => keyId(row.key)));
        const absent = chunk.filter((key) => !present.has(keyId(key)));
        await target.query('BEGIN');
        try {
          if (expected.length > 0) await runQuery(target, repairUpsertQuery(sql, expected), connector.target.url);
          if (absent.length > 0) await runQuery(target, repairRemoveQuery(sql, absent), connector.target.url);
          const jsColumns = js.get(sql.table);
          if (jsColumns && expected.length > 0) await repairJs(jsColumns, source, target, expected.map((row) => row.key), connector);
          await target.query(
            `INSERT INTO tandem.reconcile_repair (run_id, target_table, kind, key) SELECT $1, $2, k.kind, k.key FROM jsonb_to_recordset($3::jsonb) AS k(kind text, key jsonb)`,
            [runId, sql.table, JSON.stringify(chunk.map((key) => ({ kind: kinds.get(keyId(key)) ?? 'different', key: Object.fromEntries(sql.key.map((column, index) => [column.name, key[index]])) })))],
          );
          await target.query('COMMIT');
        } catch (error) {
          await target.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
        count += chunk.length;
        logger.info({ table: sql.table, rows: chunk.length, upserted: expected.length, removed: absent.length }, `repair: rewrote ${chunk.length} row(s) of ${sql.table} from legacy`);
      }
      repaired.set(sql.table, count);
      recheckDrift += await recheck(source, target, sql, keys, connector, js.get(sql.table) ?? null);
    }
  } finally {
    await Promise.all([source.end().catch(() => undefined), target.end().catch(() => undefined)]);
  }
  return { repaired, recheckDrift };
}

async function runQuery(client: pg.Client, query: SqlQuery, url: string): Promise<void> {
  try {
    await client.query(query.text, query.values as string[]);
  } catch (error) {
    throw queryError(error, 'target', url, query.text);
  }
}

/**
 * Inside the repair transaction, after the upsert: the js() columns of the rows with these keys, as
 * translate stages them, cast under translate's settings (set_config local to the transaction, the
 * last statements before the bookkeeping row). Rows whose function throws are left as they are.
 */
async function repairJs(js: JsColumns, source: pg.Client, target: pg.Client, keys: readonly Key[], connector: Connector): Promise<void> {
  const reader = clientJsRunner(source, 'source', connector.source.url);
  await runQuery(target, { text: js.castSettingsSql, values: [] }, connector.target.url);
  for (const item of js.table.js) {
    const staged = await js.stagedTexts(reader, item, keys);
    if (staged.length > 0) await runQuery(target, repairJsQuery(js.table, item, staged), connector.target.url);
  }
}

async function recheck(source: pg.Client, target: pg.Client, sql: ReconcileTargetSql, keys: readonly Key[], connector: Connector, js: JsColumns | null): Promise<number> {
  let left = 0;
  for (let start = 0; start < keys.length; start += connector.reconcile.bisectRows) {
    const chunk = keys.slice(start, start + connector.reconcile.bisectRows);
    const [want, got] = await Promise.all([rows(source, rowsByKeyQuery(sql.expected, sql.key, sql.columns, chunk), sql.key.length, 'source', connector.source.url), rows(target, rowsByKeyQuery(sql.actual, sql.key, sql.columns, chunk), sql.key.length, 'target', connector.target.url)]);
    const diff = diffRows(sql.columns, want, got);
    const jsDifferent = js ? await js.compareKeys(clientJsRunner(source, 'source', connector.source.url), clientJsRunner(target, 'target', connector.target.url), chunk) : [];
    const ids = new Set(diff.different.map((row) => keyId(row.key)));
    left += diff.missing.length + diff.extra.length + diff.different.length + jsDifferent.filter((row) => !ids.has(keyId(row.key))).length;
  }
  return left;
}

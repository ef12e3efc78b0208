import { describe, expect, it } from 'vitest';
import { parseConnector } from '../../../src/config/load.js';
import { compileReconcileTarget, rowsByKeyQuery, segmentWhere } from '../../../src/mapping/reconcile-sql.js';
import { buildMappingPlan } from '../../../src/mapping/plan.js';
import { resolveSource, type TargetShape } from '../../../src/mapping/resolve.js';
import { js } from '../../../src/mapping/helpers.js';

const connector = parseConnector({
  name: 'shop',
  source: { url: 'postgres://u@h/legacy', schema: 'legacy', tables: ['customers', 'loyalty'] },
  kafka: { brokers: ['h:9092'] },
  registry: { url: 'http://h:8081' },
  target: { url: 'postgres://u@h/app', schema: 'app' },
  mappings: {
    'legacy.customers': { to: 'app.customer', columns: { email: 'lower(email)', score: js((row) => row.id) }, where: 'NOT is_test', onDelete: { set: { deleted_at: 'now()' } } },
    'legacy.loyalty': { to: 'app.customer', columns: { id: 'customer_id', points: 'points' } },
  },
});

const customer: TargetShape = {
  table: 'app.customer',
  columns: [
    { name: 'id', type: 'bigint', notNull: true, default: null, generated: false },
    { name: 'email', type: 'text', notNull: false, default: null, generated: false },
    { name: 'score', type: 'integer', notNull: false, default: null, generated: false },
    { name: 'points', type: 'integer', notNull: true, default: '0', generated: false },
    { name: 'deleted_at', type: 'timestamp with time zone', notNull: false, default: null, generated: false },
  ],
  key: ['id'],
  parents: [],
};

function compiled() {
  const plan = buildMappingPlan(connector);
  const targets = new Map([['app.customer', customer]]);
  const customers = resolveSource(plan, 'legacy.customers', { table: 'legacy.customers', columns: ['id', 'email', 'is_test'].map((name) => ({ name, stagingType: 'text' })), key: ['id'] }, targets);
  const loyalty = resolveSource(plan, 'legacy.loyalty', { table: 'legacy.loyalty', columns: ['customer_id', 'points'].map((name) => ({ name, stagingType: 'text' })), key: ['customer_id'] }, targets);
  expect([...customers.problems, ...loyalty.problems]).toEqual([]);
  return compileReconcileTarget(customer, [...customers.resolved!.mappings, ...loyalty.resolved!.mappings]);
}

describe('reconcile SQL from the mapping plan', () => {
  it('joins a merge on the key: a row exists when any source has it, a missing source gives the column default', () => {
    const target = compiled();
    expect(target.key).toEqual([{ name: 'id', type: 'bigint' }]);
    expect(target.columns).toEqual(['email', 'points']);
    expect(target.expected).toContain('FULL JOIN');
    expect(target.expected).toContain(`CASE WHEN m1."id" IS NOT NULL THEN m1."points" ELSE CAST(0 AS integer) END AS "points"`);
    expect(target.expected).toContain(`COALESCE(m0."id", m1."id") AS "id"`);
    expect(target.expected).toContain('(NOT is_test) IS TRUE');
  });

  it('leaves soft-deleted rows out of the actual side and streams js() columns from the legacy rows their function reads', () => {
    const target = compiled();
    expect(target.actual).toBe(`SELECT "id", "email", "points" FROM "app"."customer" WHERE "deleted_at" IS NOT DISTINCT FROM (NULL)`);
    expect(target.notComparable).toEqual([]);
    expect(target.js.map((item) => ({ source: item.source, legacyColumns: item.legacyColumns, columns: item.columns.map((column) => [column.name, column.type]) }))).toEqual([
      { source: 'legacy.customers', legacyColumns: ['id', 'email', 'is_test'], columns: [['score', 'integer']] },
    ]);
    expect(target.js[0]!.legacy).toBe(`SELECT CAST(("id") AS bigint) AS "id", "id" AS "c0", "email" AS "c1", "is_test" AS "c2" FROM "legacy"."customers" WHERE (NOT is_test) IS TRUE`);
    expect(target.actualJs).toBe(`SELECT "id", "score" FROM "app"."customer" WHERE "deleted_at" IS NOT DISTINCT FROM (NULL)`);
    expect(target.softDelete).toEqual({ set: [{ name: 'deleted_at', sql: 'now()' }], live: [{ name: 'deleted_at', sql: 'NULL' }] });
  });

  it('bounds segments with typed key parameters, byte order for text keys when asked', () => {
    const key = [
      { name: 'tenant', type: 'text' },
      { name: 'n', type: 'integer' },
    ];
    expect(segmentWhere(key, { collateC: true }, ['acme', '7'], null)).toEqual({ text: ' WHERE (p."tenant" COLLATE "C", p."n") >= ($1::text COLLATE "C", $2::integer)', values: ['acme', '7'] });
    expect(segmentWhere(key.slice(1), { collateC: false }, ['1'], ['9'])).toEqual({ text: ' WHERE p."n" >= $1::integer AND p."n" < $2::integer', values: ['1', '9'] });
    expect(segmentWhere(key, { collateC: false }, null, null)).toEqual({ text: '', values: [] });
  });

  it('finds rows by key through the leading key column, quoting array elements', () => {
    const query = rowsByKeyQuery('SELECT * FROM t', [{ name: 'id', type: 'bigint' }, { name: 'code', type: 'text' }], ['v'], [['1', 'a "b"'], ['2', 'c\\d']]);
    expect(query.text).toContain('p."id" = ANY($1::text[]::bigint[])');
    expect(query.values).toEqual(['{"1","2"}', '{"a \\"b\\"","c\\\\d"}']);
  });
});

import { describe, expect, it } from 'vitest';
import { parseConnector } from '../../../src/config/load.js';
import { compileProjection, compileSource } from '../../../src/mapping/compile.js';
import { referencedNames } from '../../../src/mapping/expression.js';
import { orderParentsFirst } from '../../../src/mapping/fk-order.js';
import { js, lookup } from '../../../src/mapping/helpers.js';
import { buildMappingPlan, mappingPath } from '../../../src/mapping/plan.js';
import { resolveSource, type SourceShape, type TargetShape } from '../../../src/mapping/resolve.js';

const base = {
  name: 'shop',
  source: { url: 'postgres://localhost/legacy', schema: 'legacy', tables: ['legacy.customers', 'legacy.loyalty', 'legacy.orders'] },
  kafka: { brokers: ['localhost:9092'] },
  registry: { url: 'http://localhost:8081' },
  target: { url: 'postgres://localhost/app', schema: 'app' },
};

const connector = parseConnector({
  ...base,
  mappings: {
    'legacy.customers': [
      { to: 'app.customer', columns: { full_name: "trim(first_name || ' ' || last_name)", email: 'lower(email)', status: lookup('status_code', { 1: 'active', 2: 'suspended' }, 'unknown') }, where: 'NOT is_test', onDelete: { set: { deleted_at: 'now()' } } },
      { to: 'customer_address', columns: { customer_id: 'id', line1: "split_part(address, E'\\n', 1)", shout: js((row) => row.first_name?.toUpperCase()) } },
    ],
    'legacy.loyalty': { to: 'app.customer', columns: { id: 'customer_id', points: 'points' } },
  },
});

const customers: SourceShape = {
  table: 'legacy.customers',
  columns: ['id', 'first_name', 'last_name', 'email', 'status_code', 'is_test', 'address', 'notes'].map((name) => ({ name, stagingType: name === 'id' || name === 'status_code' ? 'integer' : name === 'is_test' ? 'boolean' : 'text' })),
  key: ['id'],
};

const column = (name: string, type = 'text', extra: Partial<TargetShape['columns'][number]> = {}) => ({ name, type, notNull: false, default: null, generated: false, ...extra });
const targets = new Map<string, TargetShape | undefined>([
  ['app.customer', { table: 'app.customer', columns: [column('id', 'integer', { notNull: true }), column('full_name'), column('email'), column('status'), column('notes'), column('points', 'integer'), column('deleted_at', 'timestamp with time zone')], key: ['id'], parents: [] }],
  ['app.customer_address', { table: 'app.customer_address', columns: [column('customer_id', 'integer', { notNull: true }), column('line1'), column('shout')], key: ['customer_id'], parents: ['app.customer'] }],
]);

describe('mapping plan', () => {
  it('names every mapping and column by its connector path', () => {
    const plan = buildMappingPlan(connector);
    expect(plan.mappings.map((mapping) => [mapping.path, mapping.target])).toEqual([
      ["mappings['legacy.customers'][0]", 'app.customer'],
      ["mappings['legacy.customers'][1]", 'app.customer_address'],
      ["mappings['legacy.loyalty']", 'app.customer'],
      ["mappings['legacy.orders']", 'app.orders'],
    ]);
    expect(plan.mappings[0]!.columns.map((item) => item.path)).toContain("mappings['legacy.customers'][0].columns.email");
    expect(plan.byTarget.get('app.customer')).toHaveLength(2);
    expect(Object.isFrozen(plan.mappings[0])).toBe(true);
    expect(mappingPath('legacy.x', 2, 'where')).toBe("mappings['legacy.x'][2].where");
  });

  it('turns lookup into a CASE and keeps string keys quoted', () => {
    expect(lookup('status_code', { 1: 'active', 2: "o'k" }, 'unknown')).toBe("CASE (status_code) WHEN 1 THEN 'active' WHEN 2 THEN 'o''k' ELSE 'unknown' END");
    expect(lookup('kind', { a: 1 })).toBe("CASE (kind) WHEN 'a' THEN 1 ELSE NULL END");
  });

  it('finds the names an expression reads, not the words inside its literals', () => {
    expect(referencedNames("trim(first_name || ' ' || last_name)").sort()).toEqual(['first_name', 'last_name', 'trim']);
    expect(referencedNames(`split_part(address, E'it''s \\' x', 1) -- note\n + "Odd Name"`).sort()).toEqual(['Odd Name', 'address', 'split_part']);
    expect(referencedNames("$$ignored$$ || notes")).toEqual(['notes']);
  });

  it('orders targets parents first and keeps cycles in their given order', () => {
    const items = [{ t: 'c', p: ['b'] }, { t: 'b', p: ['a'] }, { t: 'a', p: [] }, { t: 'x', p: ['y'] }, { t: 'y', p: ['x'] }];
    expect(orderParentsFirst(items, (item) => item.t, (item) => item.p).map((item) => item.t)).toEqual(['a', 'b', 'c', 'x', 'y']);
  });
});

describe('resolving and compiling a mapping', () => {
  const plan = buildMappingPlan(connector);

  it('adds implicit copies, finds the key and compiles one statement per target and kind', () => {
    const { resolved, problems } = resolveSource(plan, 'legacy.customers', customers, targets);
    expect(problems).toEqual([]);
    const [customer, address] = resolved!.mappings;
    expect(customer!.columns.map((item) => item.name)).toEqual(['id', 'full_name', 'email', 'status', 'notes']);
    expect(customer!.key.map((item) => item.sql)).toEqual(['"id"']);
    expect(customer!.liveValues).toEqual([{ name: 'deleted_at', sql: 'NULL' }]);
    expect(address!.target.table).toBe('app.customer_address');
    expect(resolved!.jsColumns.map((item) => item.stagingName)).toEqual(['tandem$js_0']);

    const compiled = compileSource(resolved!, 7);
    expect(compiled.staging.table).toBe('tandem_stage_legacy_customers_7');
    expect(compiled.staging.create).toContain('ON COMMIT DELETE ROWS');
    const [upsertCustomer, upsertAddress] = compiled.targets;
    expect(upsertCustomer!.upsert).toMatch(/^INSERT INTO "app"\."customer" AS t \("id", "full_name", "email", "status", "notes", "deleted_at"\) SELECT \("id"\), \(trim\(first_name \|\| ' ' \|\| last_name\)\)/);
    expect(upsertCustomer!.upsert).toContain('AND (NOT is_test) IS TRUE');
    expect(upsertCustomer!.upsert).toContain('ON CONFLICT ("id") DO UPDATE SET "full_name" = EXCLUDED."full_name"');
    expect(upsertCustomer!.remove).toMatch(/^UPDATE "app"\."customer" AS t SET "deleted_at" = s\."d0" FROM \(SELECT \("id"\) AS "k0", CAST\(\(now\(\)\) AS timestamp with time zone\) AS "d0" FROM pg_temp\."tandem_stage_legacy_customers_7" WHERE .* AND \("tandem\$op" = 'd' OR \(\(NOT is_test\) IS NOT TRUE AND NOT \("tandem\$unsent" && '\{"is_test"\}'::text\[\]\)\)\)\) AS s WHERE t\."id" = s\."k0"$/);
    expect(upsertAddress!.remove).toMatch(/^DELETE FROM "app"\."customer_address" AS t USING/);
    expect(upsertAddress!.upsert).toContain('CAST("tandem$js_0" AS text)');
    // Unchanged TOAST: the columns each expression reads decide which target values are kept.
    expect(upsertCustomer!.updateUnsent).toContain(`("tandem$unsent" && '{"first_name","last_name"}'::text[]) AS "keep0"`);
    // A where over a column not sent is undecided: such a row is neither inserted nor removed, and keeps its soft-delete state.
    expect(upsertCustomer!.insertUnsent).toContain(`AND NOT ("tandem$unsent" && '{"is_test"}'::text[])`);
    expect(upsertCustomer!.updateUnsent).toContain(`"deleted_at" = CASE WHEN s."undecided" THEN t."deleted_at" ELSE (NULL) END`);
    expect(upsertCustomer!.updateUnsent).toMatch(/AND \(NOT s\."undecided" OR \(t\."deleted_at" IS NOT DISTINCT FROM \(NULL\)\)\)$/);
    expect(upsertCustomer!.truncate).toMatch(/^UPDATE "app"\."customer" AS t SET "deleted_at" = s\."d0" FROM \(SELECT .* FROM \(SELECT NULL::integer AS "id"/);
  });

  it('exposes the projection reconcile runs over the legacy table, without js columns', () => {
    const { resolved } = resolveSource(plan, 'legacy.customers', customers, targets);
    const projection = compileProjection(resolved!.mappings[1]!);
    expect(projection.sql).toBe(`SELECT CAST((id) AS integer) AS "customer_id", CAST((split_part(address, E'\\n', 1)) AS text) AS "line1" FROM "legacy"."customers"`);
    expect(projection.notComparable).toEqual(['shout']);
    expect(compileProjection(resolved!.mappings[0]!).sql).toContain('WHERE (NOT is_test) IS TRUE');
  });

  it('reports every problem it can see without PostgreSQL, with the connector path', () => {
    const strict = new Map(targets);
    strict.set('app.customer', { ...targets.get('app.customer')!, columns: [...targets.get('app.customer')!.columns, column('tier', 'text', { notNull: true })] });
    strict.delete('app.customer_address');
    const { problems } = resolveSource(plan, 'legacy.customers', customers, strict);
    expect(problems.map((problem) => `${problem.path}: ${problem.message}`)).toEqual([
      "mappings['legacy.customers'][0]: target column app.customer.tier is NOT NULL and has no default, but this mapping gives it no value (app.customer is also fed by mappings['legacy.loyalty']; every mapping's insert must give each NOT NULL column a value, whichever source creates the row first)",
      "mappings['legacy.customers'][1].to: target table app.customer_address does not exist",
    ]);
    const keyless = resolveSource(buildMappingPlan(parseConnector({ ...base, mappings: { 'legacy.customers': { to: 'app.customer', columns: { id: 'status_code', nickname: 'email' } } } })), 'legacy.customers', customers, targets);
    expect(keyless.problems.map((problem) => problem.message)).toEqual([
      'target table app.customer has no column nickname',
      'key column app.customer.id must be computed from the key of legacy.customers (id) alone, because a delete event carries only that; it reads status_code',
    ]);
    const noKey = resolveSource(buildMappingPlan(parseConnector({ ...base, mappings: { 'legacy.loyalty': { to: 'app.customer', columns: { points: 'points' } } } })), 'legacy.loyalty', { table: 'legacy.loyalty', columns: [{ name: 'customer_id', stagingType: 'integer' }, { name: 'points', stagingType: 'integer' }], key: ['customer_id'] }, targets);
    expect(noKey.problems[0]!.message).toBe('the key of app.customer (id) is not covered: column id has no expression and legacy.loyalty has no column id');
  });
});

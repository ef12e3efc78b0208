import { describe, expect, it } from 'vitest';
import { alertEvent, driftState } from '../../../src/reconcile/alerts.js';
import type { ReconcileResult } from '../../../src/reconcile/run.js';

function result(tables: { table: string; missing?: string[][]; extra?: string[][]; different?: { key: string[]; columns: string[] }[] }[]): ReconcileResult {
  const reports = tables.map((table) => ({
    table: table.table,
    missing: table.missing ?? [],
    extra: table.extra ?? [],
    different: (table.different ?? []).map((row) => ({ key: row.key, columns: Object.fromEntries(row.columns.map((column) => [column, { expected: 'a', actual: 'b' }])) })),
  }));
  const drift = reports.reduce((sum, table) => sum + table.missing.length + table.extra.length + table.different.length, 0);
  return { connector: 'shop', direction: 'forward', drift, tables: reports } as unknown as ReconcileResult;
}

describe('drift alerts', () => {
  const clean = driftState(result([{ table: 'app.customer' }]));
  const some = driftState(result([{ table: 'app.customer', missing: [['1']], different: [{ key: ['2'], columns: ['email'] }] }]));

  it.each([
    ['first run, clean', null, clean, null],
    ['first run, drift', null, some, 'appeared'],
    ['clean after clean', clean, clean, null],
    ['drift after clean', clean, some, 'appeared'],
    ['the same drift again', some, some, null],
    ['clean after drift', some, clean, 'resolved'],
  ] as const)('%s → %s', (_name, previous, current, expected) => {
    expect(alertEvent(previous, current)).toBe(expected);
  });

  it('does not call drift resolved by a run that left tables out while capture snapshots them, and still alerts on drift it found', () => {
    expect(alertEvent(some, clean, false)).toBeNull();
    expect(alertEvent(clean, some, false)).toBe('appeared');
  });

  it('treats other keys, another kind or another column as changed drift, and key order as the same drift', () => {
    const base = [{ table: 'app.customer', missing: [['1'], ['3']], different: [{ key: ['2'], columns: ['email'] }] }];
    const reordered = driftState(result([{ table: 'app.customer', missing: [['3'], ['1']], different: [{ key: ['2'], columns: ['email'] }] }]));
    expect(alertEvent(driftState(result(base)), reordered)).toBeNull();
    expect(alertEvent(driftState(result(base)), driftState(result([{ ...base[0]!, missing: [['1'], ['4']] }])))).toBe('changed');
    expect(alertEvent(driftState(result(base)), driftState(result([{ ...base[0]!, missing: [['1']], extra: [['3']] }])))).toBe('changed');
    expect(alertEvent(driftState(result(base)), driftState(result([{ ...base[0]!, different: [{ key: ['2'], columns: ['points'] }] }])))).toBe('changed');
  });
});

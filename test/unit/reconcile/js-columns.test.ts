import { describe, expect, it } from 'vitest';
import { jsCastQuery } from '../../../src/mapping/reconcile-sql.js';
import { castSettingsSql, diffJsRows, mergeDifferences } from '../../../src/reconcile/js-columns.js';

describe('js() columns compared by streaming', () => {
  it('merges both sides of a segment by key: differing values reported, keys on one side only left to the SQL comparison', () => {
    const expected = [
      { key: ['1'], values: ['AB', '1.50'] },
      { key: ['2'], values: ['CD', null] },
      { key: ['3'], values: ['EF', '0.00'] },
      { key: ['4'], values: [null, ''] },
    ];
    const actual = [
      { key: ['4'], values: ['', ''] },
      { key: ['1'], values: ['AB', '1.5'] },
      { key: ['2'], values: ['CD', null] },
      { key: ['9'], values: ['ZZ', '1'] },
    ];
    expect(diffJsRows(['initials', 'amount'], expected, actual)).toEqual([
      { key: ['1'], columns: { amount: { expected: '1.50', actual: '1.5' } } },
      { key: ['4'], columns: { initials: { expected: null, actual: '' } } },
    ]);
  });

  it('joins the SQL and js() differences of one key into one row', () => {
    const sql = [{ key: ['1'], columns: { email: { expected: 'a', actual: 'b' } } }];
    const js = [
      { key: ['2'], columns: { initials: { expected: 'X', actual: 'Y' } } },
      { key: ['1'], columns: { initials: { expected: 'A', actual: 'B' } } },
    ];
    expect(mergeDifferences(sql, js)).toEqual([
      { key: ['1'], columns: { email: { expected: 'a', actual: 'b' }, initials: { expected: 'A', actual: 'B' } } },
      { key: ['2'], columns: { initials: { expected: 'X', actual: 'Y' } } },
    ]);
  });

  it('casts the staged texts to the target types in one statement, in input order, NULL kept', () => {
    expect(jsCastQuery(['numeric(10,2)', 'timestamp with time zone'], [['1.5', null], [null, '2024-01-01T00:00:00Z']])).toEqual({
      text: 'SELECT CAST(r.c0 AS numeric(10,2))::text, CAST(r.c1 AS timestamp with time zone)::text FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS r(c0, c1, n) ORDER BY r.n',
      values: ['{"1.5",NULL}', '{NULL,"2024-01-01T00:00:00Z"}'],
    });
  });

  it("parses under translate's input settings and prints under fixed output settings", () => {
    expect(castSettingsSql({ timeZone: "Europe/Berlin", dateOrder: 'DMY', intervalStyle: 'postgres' })).toBe(
      "SELECT set_config('TimeZone', 'Europe/Berlin', true), set_config('DateStyle', 'ISO, DMY', true), set_config('IntervalStyle', 'postgres', true), set_config('extra_float_digits', '3', true), set_config('bytea_output', 'hex', true)",
    );
  });
});

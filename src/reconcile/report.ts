/**
 * What a run found, for people and machines: the JSON contract (`drift`, `tables[]` with `missing`,
 * `extra`, `different` keys as objects of the target key columns, lists capped with a `truncated`
 * count), Markdown, a self-contained HTML page, and the terminal summary. Summary first everywhere.
 */
import type { RowDifference } from './row-diff.js';
import type { ReconcileResult, TableReport } from './run.js';
import type { Key } from './segment.js';

export type KeyObject = Record<string, string>;

export interface TableJson {
  table: string;
  sources: string[];
  rowsCompared: number;
  drift: number;
  inFlightResolved: number;
  /** Rows per differing column, over all `different` rows (complete, not capped). */
  columnCounts: Record<string, number>;
  missing: KeyObject[];
  extra: KeyObject[];
  different: { key: KeyObject; columns: RowDifference['columns'] }[];
  /** Rows left out of each list by the cap (reconcile.reportKeys). */
  truncated: { missing: number; extra: number; different: number };
  counts: { missing: number; extra: number; different: number };
  notComparable: { column: string; reason: string }[];
  chunks: number;
  durationMs: number;
  repaired?: number;
  /** Not compared: capture's snapshot of these source tables was still in progress at the cut. */
  awaitingSnapshot?: string[];
  /** Not verified: keys still differed while translate was behind on these partitions (they may be in flight). */
  unverified?: { keys: number; behind: string[] };
}

export interface ReportJson {
  connector: string;
  runId: string | null;
  /** incomplete: no drift in what was verified, but some tables wait for capture's snapshot or translate (tables[].awaitingSnapshot, tables[].unverified). */
  status: 'clean' | 'drift' | 'incomplete';
  direction: 'forward';
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  cut: ReconcileResult['cut'];
  rowsCompared: number;
  drift: number;
  inFlightResolved: number;
  summary: { missing: number; extra: number; different: number };
  tables: TableJson[];
  repair?: { rows: number; recheckDrift: number };
}

const keyObject = (columns: readonly string[], key: Key): KeyObject => Object.fromEntries(columns.map((column, index) => [column, key[index]!]));

export function buildReport(result: ReconcileResult, options: { runId: string | null; cap: number; repaired?: Map<string, number>; recheckDrift?: number }): ReportJson {
  const tables = result.tables.map((table): TableJson => {
    const columnCounts: Record<string, number> = {};
    for (const row of table.different) for (const column of Object.keys(row.columns)) columnCounts[column] = (columnCounts[column] ?? 0) + 1;
    const cap = <T>(items: readonly T[]) => items.slice(0, options.cap);
    return {
      table: table.table,
      sources: table.sources,
      rowsCompared: table.rowsCompared,
      drift: table.missing.length + table.extra.length + table.different.length,
      inFlightResolved: table.inFlightResolved,
      columnCounts,
      missing: cap(table.missing).map((key) => keyObject(table.keyColumns, key)),
      extra: cap(table.extra).map((key) => keyObject(table.keyColumns, key)),
      different: cap(table.different).map((row) => ({ key: keyObject(table.keyColumns, row.key), columns: row.columns })),
      truncated: { missing: Math.max(0, table.missing.length - options.cap), extra: Math.max(0, table.extra.length - options.cap), different: Math.max(0, table.different.length - options.cap) },
      counts: { missing: table.missing.length, extra: table.extra.length, different: table.different.length },
      notComparable: table.notComparable,
      chunks: table.chunks,
      durationMs: table.durationMs,
      ...(options.repaired ? { repaired: options.repaired.get(table.table) ?? 0 } : {}),
      ...(table.awaitingSnapshot ? { awaitingSnapshot: table.awaitingSnapshot } : {}),
      ...(table.unverified ? { unverified: table.unverified } : {}),
    };
  });
  const sum = (pick: (table: TableReport) => number) => result.tables.reduce((total, table) => total + pick(table), 0);
  return {
    connector: result.connector,
    runId: options.runId,
    status: result.status,
    direction: result.direction,
    startedAt: result.startedAt.toISOString(),
    finishedAt: result.finishedAt.toISOString(),
    durationMs: result.finishedAt.getTime() - result.startedAt.getTime(),
    cut: result.cut,
    rowsCompared: result.rowsCompared,
    drift: result.drift,
    inFlightResolved: result.inFlightResolved,
    summary: { missing: sum((table) => table.missing.length), extra: sum((table) => table.extra.length), different: sum((table) => table.different.length) },
    tables,
    ...(options.repaired ? { repair: { rows: [...options.repaired.values()].reduce((a, b) => a + b, 0), recheckDrift: options.recheckDrift ?? 0 } } : {}),
  };
}

const number = (value: number) => value.toLocaleString('en-US');
const duration = (ms: number) => (ms < 1000 ? `${ms} ms` : ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`);
const showValue = (value: string | null) => (value === null ? 'NULL' : value === '' ? "'' (empty)" : value);
const showKey = (key: KeyObject) => Object.entries(key).map(([column, value]) => `${column}=${value}`).join(', ');
const cutLine = (report: ReportJson) =>
  report.cut.mode === 'exact'
    ? `exact cut at source WAL ${report.cut.sourceLsn} (translate held at it)`
    : `settle and recheck (${report.cut.reason ?? 'no exact cut'}): ${report.cut.settleRounds ?? 0} round(s), ${number(report.inFlightResolved)} in-flight row(s) resolved`;

/** A table this run left out (capture still snapshotting its sources) or could not verify (translate behind); null otherwise. */
function pendingLabel(table: Pick<TableJson, 'awaitingSnapshot' | 'unverified'>): 'not compared' | 'not verified' | null {
  return table.awaitingSnapshot ? 'not compared' : table.unverified ? 'not verified' : null;
}

/** Why a table was not compared or not verified in this run (null when it was), in one sentence. */
export function pendingNote(table: Pick<TableJson, 'awaitingSnapshot' | 'unverified'>): string | null {
  if (table.awaitingSnapshot) return `not compared: capture's snapshot of ${table.awaitingSnapshot.join(', ')} is still in progress; the first run after it completes compares this table`;
  if (table.unverified) {
    const behind = table.unverified.behind.slice(0, 3).join(', ') + (table.unverified.behind.length > 3 ? ' …' : '');
    return `not verified: ${table.unverified.keys} key(s) still differed while translate was behind (${behind}), so they may be in flight; the next run checks them again`;
  }
  return null;
}
/** The headline: what a reader must know first. */
const headline = (report: ReportJson) =>
  report.status === 'drift' ? `${number(report.drift)} drifted rows` : report.status === 'incomplete' ? `incomplete, ${report.tables.filter((table) => pendingNote(table)).length} table(s) not compared or not verified` : 'clean';

export function renderJson(report: ReportJson): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** The terminal summary: one line per table, then the first differences. */
export function renderText(report: ReportJson): string {
  const lines = [
    `${report.status.toUpperCase()}  ${report.connector}: ${number(report.drift)} drifted row(s) in ${number(report.rowsCompared)} compared (missing ${number(report.summary.missing)}, extra ${number(report.summary.extra)}, different ${number(report.summary.different)}) in ${duration(report.durationMs)}`,
    `      ${cutLine(report)}${report.runId ? `; run ${report.runId}` : ''}`,
  ];
  for (const table of report.tables) {
    const note = pendingNote(table);
    if (note) {
      lines.push(`  wait  ${table.table.padEnd(30)} ${note}`);
      continue;
    }
    lines.push(`  ${table.drift === 0 ? 'ok   ' : 'drift'} ${table.table.padEnd(30)} ${number(table.rowsCompared).padStart(12)} rows  missing ${table.counts.missing}  extra ${table.counts.extra}  different ${table.counts.different}${Object.keys(table.columnCounts).length ? ` (${Object.entries(table.columnCounts).map(([column, count]) => `${column} ${count}`).join(', ')})` : ''}`);
    for (const key of table.missing.slice(0, 3)) lines.push(`        missing in new: ${showKey(key)}`);
    for (const key of table.extra.slice(0, 3)) lines.push(`        extra in new:   ${showKey(key)}`);
    for (const row of table.different.slice(0, 3)) {
      lines.push(`        different:      ${showKey(row.key)}: ${Object.entries(row.columns).map(([column, values]) => `${column} expected ${showValue(values.expected)}, actual ${showValue(values.actual)}`).join('; ')}`);
    }
    for (const item of table.notComparable) lines.push(`        not compared: ${item.column} (${item.reason})`);
  }
  if (report.repair) lines.push(`  repair: ${number(report.repair.rows)} row(s) rewritten from legacy; recheck found ${number(report.repair.recheckDrift)} drifted row(s)`);
  return `${lines.join('\n')}\n`;
}

const md = (text: string) => text.replace(/[|\\`*_[\]<>]/g, (char) => `\\${char}`).replace(/\n/g, ' ');

export function renderMarkdown(report: ReportJson): string {
  const out = [
    `# Reconcile ${report.connector}: ${headline(report)}`,
    '',
    `| | |`,
    `|---|---|`,
    `| Status | **${report.status.toUpperCase()}** |`,
    `| Rows compared | ${number(report.rowsCompared)} |`,
    `| Missing in new | ${number(report.summary.missing)} |`,
    `| Extra in new | ${number(report.summary.extra)} |`,
    `| Different | ${number(report.summary.different)} |`,
    `| In flight, resolved | ${number(report.inFlightResolved)} |`,
    `| Cut | ${md(cutLine(report))} |`,
    `| Started | ${report.startedAt} (${duration(report.durationMs)}) |`,
    ...(report.runId ? [`| Run | ${report.runId} |`] : []),
    ...(report.repair ? [`| Repaired | ${number(report.repair.rows)} rows; recheck drift ${number(report.repair.recheckDrift)} |`] : []),
    '',
    '## Tables',
    '',
    '| Table | Rows compared | Missing | Extra | Different | Columns | In flight |',
    '|---|---:|---:|---:|---:|---|---:|',
    ...report.tables.map((table) => `| ${md(table.table)}${pendingLabel(table) ? ` (${pendingLabel(table)})` : ''} | ${number(table.rowsCompared)} | ${table.counts.missing} | ${table.counts.extra} | ${table.counts.different} | ${md(Object.entries(table.columnCounts).map(([column, count]) => `${column} ${count}`).join(', ') || '—')} | ${table.inFlightResolved} |`),
  ];
  for (const table of report.tables.filter((item) => item.drift > 0 || item.notComparable.length > 0 || pendingNote(item))) {
    out.push('', `## ${md(table.table)}`, '');
    const note = pendingNote(table);
    if (note) out.push(`**${md(note.charAt(0).toUpperCase() + note.slice(1))}.**`, '');
    if (table.missing.length) out.push(`**Missing in new** (${table.counts.missing}): ${table.missing.map((key) => `\`${showKey(key)}\``).join(', ')}${table.truncated.missing ? ` … and ${table.truncated.missing} more` : ''}`, '');
    if (table.extra.length) out.push(`**Extra in new** (${table.counts.extra}): ${table.extra.map((key) => `\`${showKey(key)}\``).join(', ')}${table.truncated.extra ? ` … and ${table.truncated.extra} more` : ''}`, '');
    if (table.different.length) {
      out.push(`**Different** (${table.counts.different}):`, '', '| Key | Column | Expected (legacy, mapped) | Actual (new) |', '|---|---|---|---|');
      for (const row of table.different) for (const [column, values] of Object.entries(row.columns)) out.push(`| ${md(showKey(row.key))} | ${md(column)} | ${md(showValue(values.expected))} | ${md(showValue(values.actual))} |`);
      if (table.truncated.different) out.push('', `… and ${table.truncated.different} more rows.`);
      out.push('');
    }
    for (const item of table.notComparable) out.push(`Not compared: \`${item.column}\` — ${md(item.reason)}`, '');
  }
  return `${out.join('\n')}\n`;
}

const html = (text: string) => text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!);
const htmlValue = (value: string | null) => (value === null ? '<span class="null">NULL</span>' : value === '' ? '<span class="null">empty string</span>' : `<code>${html(value)}</code>`);

export function renderHtml(report: ReportJson): string {
  const tone = report.status === 'drift' ? 'bad' : report.status === 'incomplete' ? 'warn' : 'ok';
  const card = (label: string, value: string, tone = '') => `<div class="card ${tone}"><div class="value">${value}</div><div class="label">${label}</div></div>`;
  const keys = (label: string, items: KeyObject[], more: number, total: number) =>
    items.length === 0 ? '' : `<h3>${label} <span class="count">${number(total)}</span></h3><ul class="keys">${items.map((key) => `<li><code>${html(showKey(key))}</code></li>`).join('')}${more ? `<li class="more">… and ${number(more)} more</li>` : ''}</ul>`;
  const sections = report.tables
    .filter((table) => table.drift > 0 || table.notComparable.length > 0 || pendingNote(table))
    .map((table) => {
      const rows = table.different.flatMap((row) => Object.entries(row.columns).map(([column, values], index) => `<tr>${index === 0 ? `<td rowspan="${Object.keys(row.columns).length}"><code>${html(showKey(row.key))}</code></td>` : ''}<td>${html(column)}</td><td class="exp">${htmlValue(values.expected)}</td><td class="act">${htmlValue(values.actual)}</td></tr>`));
      return `<section><h2>${html(table.table)}</h2><p class="muted">from ${html(table.sources.join(' + '))} · ${number(table.rowsCompared)} rows compared · ${table.chunks} chunks · ${duration(table.durationMs)}</p>
${keys('Missing in new', table.missing, table.truncated.missing, table.counts.missing)}
${keys('Extra in new', table.extra, table.truncated.extra, table.counts.extra)}
${rows.length ? `<h3>Different <span class="count">${number(table.counts.different)}</span></h3><table class="diff"><thead><tr><th>Key</th><th>Column</th><th>Expected (legacy, mapped)</th><th>Actual (new)</th></tr></thead><tbody>${rows.join('')}</tbody></table>${table.truncated.different ? `<p class="more">… and ${number(table.truncated.different)} more rows</p>` : ''}` : ''}
${pendingNote(table) ? `<p class="note">${html(pendingNote(table)!)}.</p>` : ''}
${table.notComparable.map((item) => `<p class="note">Not compared: <code>${html(item.column)}</code> — ${html(item.reason)}</p>`).join('')}</section>`;
    });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Reconcile ${html(report.connector)} — ${html(headline(report))}</title>
<style>
:root{--ok:#16794c;--bad:#b42318;--warn:#b54708;--ink:#1d2939;--muted:#667085;--line:#eaecf0;--bg:#f9fafb}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
main{max-width:1100px;margin:0 auto;padding:32px 24px 64px}
header{display:flex;align-items:center;gap:16px;margin-bottom:8px}h1{font-size:24px;margin:0}
.badge{padding:4px 12px;border-radius:999px;font-weight:600;font-size:13px;letter-spacing:.04em;color:#fff;background:var(--${tone})}
.muted{color:var(--muted);margin:4px 0 16px}.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px;margin:20px 0 28px}
.card{background:#fff;border:1px solid var(--line);border-radius:10px;padding:14px 16px}.card .value{font-size:24px;font-weight:650}.card .label{color:var(--muted);font-size:13px}
.card.bad .value{color:var(--bad)}.card.ok .value{color:var(--ok)}
table{width:100%;border-collapse:collapse;background:#fff;border:1px solid var(--line);border-radius:10px;overflow:hidden}
th,td{text-align:left;padding:8px 12px;border-bottom:1px solid var(--line);vertical-align:top}th{background:#f2f4f7;font-size:13px;color:#344054}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}tr.drift td:first-child{border-left:3px solid var(--bad)}tr.ok td:first-child{border-left:3px solid var(--ok)}tr.wait td:first-child{border-left:3px solid var(--warn)}
section{margin-top:36px}h2{font-size:19px;margin:0}h3{font-size:15px;margin:18px 0 8px}.count{background:#fee4e2;color:var(--bad);border-radius:999px;padding:1px 8px;font-size:12px;margin-left:4px}
ul.keys{list-style:none;padding:0;margin:0;display:flex;flex-wrap:wrap;gap:6px}ul.keys li{background:#fff;border:1px solid var(--line);border-radius:6px;padding:2px 8px}
code{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}.null{color:var(--muted);font-style:italic;font-size:13px}
td.exp code{color:var(--ok)}td.act code{color:var(--bad)}.more,.note{color:var(--muted);font-size:13px}
footer{margin-top:40px;color:var(--muted);font-size:12px}
</style></head><body><main>
<header><h1>Reconcile · ${html(report.connector)}</h1><span class="badge">${report.status.toUpperCase()}</span></header>
<p class="muted">${html(report.startedAt)} · ${duration(report.durationMs)} · ${html(cutLine(report))}${report.runId ? ` · run ${html(report.runId)}` : ''}</p>
<div class="cards">
${card('drifted rows', number(report.drift), report.drift ? 'bad' : 'ok')}
${card('rows compared', number(report.rowsCompared))}
${card('missing in new', number(report.summary.missing), report.summary.missing ? 'bad' : '')}
${card('extra in new', number(report.summary.extra), report.summary.extra ? 'bad' : '')}
${card('different', number(report.summary.different), report.summary.different ? 'bad' : '')}
${card('in flight, resolved', number(report.inFlightResolved))}
${report.repair ? card('repaired rows', number(report.repair.rows), report.repair.recheckDrift ? 'bad' : 'ok') : ''}
</div>
<table><thead><tr><th>Table</th><th class="num">Rows compared</th><th class="num">Missing</th><th class="num">Extra</th><th class="num">Different</th><th>Columns differing</th><th class="num">In flight</th></tr></thead><tbody>
${report.tables.map((table) => `<tr class="${table.drift ? 'drift' : pendingLabel(table) ? 'wait' : 'ok'}"><td><code>${html(table.table)}</code>${pendingLabel(table) ? ` <span class="muted">${pendingLabel(table)}</span>` : ''}</td><td class="num">${number(table.rowsCompared)}</td><td class="num">${table.counts.missing}</td><td class="num">${table.counts.extra}</td><td class="num">${table.counts.different}</td><td>${html(Object.entries(table.columnCounts).map(([column, count]) => `${column} (${count})`).join(', ') || '—')}</td><td class="num">${table.inFlightResolved}</td></tr>`).join('\n')}
</tbody></table>
${sections.join('\n')}
<footer>tandem reconcile · expected = legacy rows through the connector's mappings; actual = the new tables</footer>
</main></body></html>
`;
}

/** The renderer for a report file, by its extension. */
export function rendererFor(file: string): ((report: ReportJson) => string) | null {
  if (/\.html?$/i.test(file)) return renderHtml;
  if (/\.(md|markdown)$/i.test(file)) return renderMarkdown;
  if (/\.json$/i.test(file)) return renderJson;
  return null;
}

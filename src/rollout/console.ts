/**
 * The migration console served at `/` by `rollout serve`: phases with the current one highlighted,
 * gates, the next phase's criteria with their values, trends (lag, drift, error rate) as small
 * charts, rollback triggers, the audit log and the last reconcile report. Server-rendered HTML with
 * inline SVG, no script; pure.
 */
import type { RecordedTableSummary } from '../reconcile/runs.js';
import { pendingNote } from '../reconcile/report.js';
import type { RolloutStatus } from './controller.js';
import { formatDuration } from '../config/duration.js';
import type { TrendPoint } from './evidence.js';
import type { AuditEntry } from './store.js';

export interface ConsoleData {
  status: RolloutStatus;
  history: readonly AuditEntry[];
  trends: { lag: readonly TrendPoint[]; drift: readonly TrendPoint[]; errorRate: readonly TrendPoint[] };
  lastReconcile: Record<string, unknown> | null;
  /** Who is looking (the key's name). */
  viewer: string;
}

export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!);
}

/** A small line chart of the points (oldest first), with its last value. */
export function sparkline(points: readonly TrendPoint[], options: { label: string; unit: string; bound?: number | null }): string {
  const width = 220;
  const height = 48;
  const last = points.at(-1);
  const caption = `${escapeHtml(options.label)}: ${last ? `${formatNumber(last.value)}${options.unit}` : 'no data yet'}`;
  if (points.length === 0) return `<figure class="chart"><svg width="${width}" height="${height}" role="img" aria-label="${caption}"><text x="8" y="28" class="muted">no samples</text></svg><figcaption>${caption}</figcaption></figure>`;
  const values = points.map((point) => point.value);
  const max = Math.max(...values, options.bound ?? 0, 1e-9);
  const step = points.length > 1 ? (width - 8) / (points.length - 1) : 0;
  const y = (value: number) => (height - 4 - (value / max) * (height - 8)).toFixed(1);
  const path = points.map((point, index) => `${(4 + index * step).toFixed(1)},${y(point.value)}`).join(' ');
  const bound = options.bound != null ? `<line x1="0" x2="${width}" y1="${y(options.bound)}" y2="${y(options.bound)}" class="bound"/>` : '';
  const dot = `<circle cx="${(4 + (points.length - 1) * step).toFixed(1)}" cy="${y(last!.value)}" r="3"/>`;
  return `<figure class="chart"><svg width="${width}" height="${height}" role="img" aria-label="${caption}">${bound}<polyline points="${path}"/>${dot}</svg><figcaption>${caption}</figcaption></figure>`;
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return '∞';
  return Math.abs(value) >= 100 ? String(Math.round(value)) : String(Number(value.toFixed(2)));
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:14px 24px;display:flex;justify-content:space-between;align-items:baseline}
header h1{font-size:18px;margin:0} header span{opacity:.75}
main{padding:16px 24px;display:grid;grid-template-columns:1fr 1fr;gap:16px}
section{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:12px 16px}
section.wide{grid-column:1 / -1}
h2{font-size:13px;text-transform:uppercase;letter-spacing:.06em;color:#5b6475;margin:0 0 8px}
ol.phases{display:flex;gap:6px;list-style:none;padding:0;margin:0;flex-wrap:wrap}
ol.phases li{border:1px solid #c9cfd9;border-radius:6px;padding:6px 10px;min-width:92px;background:#fafbfc}
ol.phases li.done{opacity:.6}
ol.phases li.current{background:#1f6feb;border-color:#1f6feb;color:#fff;font-weight:600}
ol.phases small{display:block;font-weight:400}
table{border-collapse:collapse;width:100%} td:first-child{white-space:nowrap} td,th{text-align:left;padding:4px 8px;border-bottom:1px solid #eef0f3;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums} .met{color:#1a7f37;font-weight:600} .unmet{color:#cf222e;font-weight:600} .muted{color:#8a93a3;fill:#8a93a3}
.charts{display:flex;gap:16px;flex-wrap:wrap} figure.chart{margin:0} figcaption{font-size:12px;color:#5b6475}
svg polyline{fill:none;stroke:#1f6feb;stroke-width:2} svg circle{fill:#1f6feb} svg line.bound{stroke:#cf222e;stroke-dasharray:4 3}
.gates b{font-size:22px;margin-right:4px}
code{font-size:12px}
`;

export function renderConsole(data: ConsoleData): string {
  const { status, history, trends, lastReconcile } = data;
  const { plan, state, verdict, next, triggers, evidence } = status;
  const phases = plan.phases
    .map((phase) => {
      const kind = phase.index < status.current.index ? 'done' : phase.index === status.current.index ? 'current' : 'ahead';
      return `<li class="${kind}"${kind === 'current' ? ' aria-current="step"' : ''}>${escapeHtml(phase.name)}<small>${phase.gates.readNew}% reads${phase.gates.readNewServices.length > 0 ? ` + ${escapeHtml(phase.gates.readNewServices.join(', '))}` : ''} · writes ${phase.gates.write}${phase.gates.reverseSync ? ' · reverse' : ''}</small></li>`;
    })
    .join('');
  const criteria = verdict
    ? verdict.criteria.length === 0
      ? '<tr><td colspan="3" class="muted">no criteria</td></tr>'
      : verdict.criteria.map((criterion) => `<tr><td class="${criterion.met ? 'met' : 'unmet'}">${criterion.met ? '✓ met' : '✗ unmet'}</td><td>${escapeHtml(criterion.name)}: ${escapeHtml(criterion.required)}</td><td>${escapeHtml(criterion.actual)}</td></tr>`).join('')
    : '<tr><td colspan="3">the rollout is complete</td></tr>';
  const triggerRows = triggers.length === 0 ? '<tr><td class="muted" colspan="3">no triggers while every gate is on legacy</td></tr>' : triggers.map((trigger) => `<tr><td class="${trigger.fired ? 'unmet' : 'met'}">${trigger.fired ? '✗ fired' : '✓ quiet'}</td><td>${escapeHtml(trigger.name)}: ${escapeHtml(trigger.bound)}</td><td>${escapeHtml(trigger.actual)}</td></tr>`).join('');
  const audit = history.length === 0 ? '<tr><td class="muted" colspan="5">no changes yet</td></tr>' : history.slice(0, 25).map((entry) => `<tr><td>${escapeHtml(entry.at.replace('T', ' ').slice(0, 19))}</td><td>${escapeHtml(entry.action)}${entry.forced ? ' <b class="unmet">forced</b>' : ''}</td><td>${escapeHtml(entry.from === entry.to ? entry.to : `${entry.from} → ${entry.to}`)}</td><td>${escapeHtml(entry.actorKind === 'api-key' ? `key ${entry.actor}` : entry.actor)}${entry.osUser && entry.osUser !== entry.actor ? ` <span class="muted">(${escapeHtml(entry.osUser)})</span>` : ''}</td><td>${escapeHtml(entry.reason ?? '')}</td></tr>`).join('');
  const report = lastReconcile
    ? `<p>run <b>${escapeHtml(lastReconcile.id)}</b> · ${escapeHtml(lastReconcile.direction)} · <span class="${lastReconcile.status === 'clean' ? 'met' : 'unmet'}">${escapeHtml(lastReconcile.status)}</span> · ${escapeHtml(lastReconcile.drift_rows ?? 0)} drift rows · finished ${escapeHtml(lastReconcile.finished_at instanceof Date ? lastReconcile.finished_at.toISOString() : lastReconcile.finished_at)}</p>${renderReconcileTables(lastReconcile.tables)}`
    : '<p class="muted">reconcile has recorded no run yet</p>';
  const soak = formatDuration(Date.parse(evidence.at) - Date.parse(state.enteredAt));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5"><title>tandem · ${escapeHtml(state.migration)} · ${escapeHtml(state.phase)}</title><style>${STYLE}</style></head>
<body>
<header><h1>tandem rollout · ${escapeHtml(state.migration)}</h1><span>version ${state.version} · evidence at ${escapeHtml(evidence.at)} · signed in as ${escapeHtml(data.viewer)}</span></header>
<main>
<section class="wide" id="phases"><h2>Phases</h2><ol class="phases">${phases}</ol></section>
<section id="gates" class="gates"><h2>Gates</h2><p><b>${state.gates.readNew}%</b> of reads on new${state.gates.readNewServices.length > 0 ? `, and every read of <b>${escapeHtml(state.gates.readNewServices.join(', '))}</b>` : ''} (stickiness <code>${escapeHtml(plan.stickiness)}</code>, group <code>${escapeHtml(state.groupId)}</code>)</p><p>writes to <b>${escapeHtml(state.gates.write)}</b> · reverse sync <b>${state.gates.reverseSync ? 'on' : 'off'}</b></p><p class="muted">in ${escapeHtml(state.phase)} for ${escapeHtml(soak)} · lag ${evidence.lag.seconds === null ? 'unknown' : `${formatNumber(evidence.lag.seconds)}s`} · applied ${escapeHtml(evidence.lag.appliedPosition ?? 'unknown')} · source ${escapeHtml(evidence.lag.sourceLsn ?? 'unknown')}</p></section>
<section id="criteria"><h2>Next: ${escapeHtml(next?.name ?? 'none')}${verdict ? ` — ${verdict.met ? '<span class="met">ready</span>' : '<span class="unmet">not ready</span>'}` : ''}</h2><table>${criteria}</table></section>
<section class="wide" id="trends"><h2>Trends</h2><div class="charts">${sparkline(trends.lag, { label: 'lag', unit: 's', bound: plan.rollback.maxLagSeconds })}${sparkline(trends.drift, { label: 'drift rows per reconcile run', unit: '' })}${sparkline(trends.errorRate.map((point) => ({ at: point.at, value: point.value * 100 })), { label: 'error rate on new', unit: '%', bound: plan.rollback.maxErrorRate * 100 })}</div></section>
<section id="triggers"><h2>Rollback triggers</h2><table>${triggerRows}</table></section>
<section id="reconcile"><h2>Last reconcile report</h2>${report}</section>
<section class="wide" id="audit"><h2>Audit log</h2><table><tr><th>at (UTC)</th><th>action</th><th>phase</th><th>who</th><th>why</th></tr>${audit}</table></section>
</main></body></html>`;
}

function renderReconcileTables(tables: unknown): string {
  if (!Array.isArray(tables) || tables.length === 0) return '';
  const count = (value: number | null | undefined) => escapeHtml(Number(value ?? 0).toLocaleString('en-US'));
  const rows = (tables as RecordedTableSummary[]).map((table) => {
    const columns = Object.entries(table.columns ?? {}).map(([column, rows]) => `${column} ${rows}`).join(', ');
    const drifted = (value: number) => `class="num${value > 0 ? ' unmet' : ''}"`;
    const note = pendingNote(table);
    if (note) return `<tr><td><code>${escapeHtml(table.table)}</code></td><td colspan="5" class="muted">${escapeHtml(note)}</td></tr>`;
    return `<tr><td><code>${escapeHtml(table.table)}</code></td><td class="num">${count(table.rowsCompared)}</td><td ${drifted(table.missing)}>${count(table.missing)}</td><td ${drifted(table.extra)}>${count(table.extra)}</td><td ${drifted(table.different)}>${count(table.different)}${columns ? ` <span class="muted">(${escapeHtml(columns)})</span>` : ''}</td><td class="num">${count(table.inFlightResolved)}</td></tr>`;
  });
  return `<table><tr><th>table</th><th class="num">compared</th><th class="num">missing in new</th><th class="num">extra in new</th><th class="num">different</th><th class="num">in flight, resolved</th></tr>${rows.join('')}</table>`;
}

/**
 * `tandem blueprint`: the migration as a Mermaid diagram for design reviews: legacy tables →
 * topics → new tables (with each mapping's filter), the reverse mappings of reverse sync, the
 * gates, and the phases in order with their gate values, criteria and approvals. Pure.
 */
import type { Connector } from '../config/index.js';
import { topicFor } from '../kafka/topics.js';
import { buildMappingPlan } from '../mapping/plan.js';
import { formatDuration } from '../config/duration.js';
import { buildPlan } from './plan.js';

const id = (kind: string, name: string) => `${kind}_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
const label = (text: string) => `"${text.replace(/"/g, '#quot;')}"`;

export function renderBlueprint(connector: Connector): string {
  const mapping = buildMappingPlan(connector);
  const plan = buildPlan(connector);
  const lines = ['flowchart LR'];
  lines.push(`  subgraph sg_legacy[${label(`legacy · ${connector.source.schema}`)}]`);
  for (const table of connector.source.tables) lines.push(`    ${id('src', table)}[(${label(table)})]`);
  lines.push('  end');
  lines.push(`  subgraph sg_kafka[${label('Kafka topics')}]`);
  for (const table of connector.source.tables) lines.push(`    ${id('topic', table)}>${label(topicFor(connector.kafka.topicPrefix, table))}]`);
  lines.push('  end');
  lines.push(`  subgraph sg_new[${label(`new · ${connector.target.schema}`)}]`);
  for (const target of mapping.byTarget.keys()) lines.push(`    ${id('dst', target)}[(${label(target)})]`);
  lines.push('  end');
  for (const table of connector.source.tables) lines.push(`  ${id('src', table)} -- capture --> ${id('topic', table)}`);
  for (const node of mapping.mappings) {
    const details = [node.columns.length > 0 ? `${node.columns.length} column${node.columns.length === 1 ? '' : 's'}` : 'copy', node.where ? `where ${node.where.sql}` : '', node.onDelete.kind === 'set' ? 'soft delete' : ''].filter(Boolean).join(', ');
    lines.push(`  ${id('topic', node.source)} -- ${label(`translate: ${details}`)} --> ${id('dst', node.target)}`);
  }
  for (const [newTable, declared] of Object.entries(connector.rollout.reverse)) {
    for (const reverse of Array.isArray(declared) ? declared : [declared]) {
      const legacy = reverse.to.includes('.') ? reverse.to : `${connector.source.schema}.${reverse.to}`;
      if (!mapping.byTarget.has(newTable)) lines.push(`  ${id('dst', newTable)}[(${label(newTable)})]`);
      if (!connector.source.tables.includes(legacy)) lines.push(`  ${id('src', legacy)}[(${label(legacy)})]`);
      lines.push(`  ${id('dst', newTable)} -. ${label('reverse sync after cutover')} .-> ${id('src', legacy)}`);
    }
  }
  lines.push(`  sg_new -. reconcile .- sg_legacy`);
  lines.push(`  gates{{${label(`gates · read: % of ${plan.stickiness} on new · write: legacy | new`)}}}`);
  lines.push('  gates -. services read/write .-> sg_new');
  lines.push('  gates -. services read/write .-> sg_legacy');
  lines.push(`  subgraph sg_phases[${label(`rollout of ${plan.migration}`)}]`);
  lines.push('    direction LR');
  for (const phase of plan.phases) {
    const criteria = [
      phase.criteria.reconcileCleanRuns > 0 ? `${phase.criteria.reconcileCleanRuns} clean runs` : '',
      phase.criteria.maxLagSeconds !== null ? `lag ≤ ${phase.criteria.maxLagSeconds}s` : '',
      phase.criteria.maxErrorRate !== null ? `errors ≤ ${phase.criteria.maxErrorRate * 100}%` : '',
      phase.criteria.minSoakMs > 0 ? `soak ${formatDuration(phase.criteria.minSoakMs)}` : '',
      phase.approvals.count > 0 ? `${phase.approvals.count} approval${phase.approvals.count === 1 ? '' : 's'}` : '',
    ].filter(Boolean);
    const gates = `read ${phase.gates.readNew}%${phase.gates.readNewServices.length > 0 ? ` + ${phase.gates.readNewServices.join(', ')}` : ''} · write ${phase.gates.write}${phase.gates.reverseSync ? ' · reverse sync' : ''}`;
    lines.push(`    ${id('phase', phase.name)}[${label(`${phase.name}<br/>${gates}${criteria.length ? `<br/><small>${criteria.join(', ')}</small>` : ''}`)}]`);
  }
  plan.phases.slice(1).forEach((phase, index) => lines.push(`    ${id('phase', plan.phases[index]!.name)} --> ${id('phase', phase.name)}`));
  lines.push('  end');
  lines.push('  sg_phases -. set .-> gates');
  return `${lines.join('\n')}\n`;
}

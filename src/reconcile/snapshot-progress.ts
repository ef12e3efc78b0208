/**
 * Which target tables cannot be compared yet because capture's snapshot of a table feeding them is
 * still in progress. Until capture has sent every row of a legacy table, the new tables hold only
 * part of it: comparing them would report the rest as drift, a false alarm on every run of a new
 * pipeline. Capture records each finished snapshot in `_tandem.capture_state` on the source, after
 * Kafka acknowledged its last rows, so reading that row in the run's source snapshot tells exactly
 * which tables the cut covers in full.
 */
import type pg from 'pg';
import type { Connector } from '../config/index.js';
import { readState } from '../capture/state.js';
import { tableExists } from '../pg/catalog.js';

/**
 * The connector's source tables whose snapshot is not complete as of the client's snapshot. Empty
 * when capture never ran against this source (no bookkeeping, no state): the target was filled
 * some other way, and everything is compared.
 */
export async function tablesAwaitingSnapshot(source: pg.ClientBase, connector: Connector): Promise<string[]> {
  if (!(await tableExists(source, '_tandem.capture_state'))) return [];
  const state = await readState(source, connector.name);
  if (!state) return [];
  return connector.source.tables.filter((table) => !state.snapshot.done.includes(table));
}

/** Per target table that waits: the source tables it waits for. Targets fed only by complete tables are left out. */
export function targetsAwaitingSnapshot(targets: readonly { table: string; sources: readonly string[] }[], awaiting: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const target of targets) {
    const waitingFor = target.sources.filter((source) => awaiting.includes(source));
    if (waitingFor.length > 0) out.set(target.table, waitingFor);
  }
  return out;
}

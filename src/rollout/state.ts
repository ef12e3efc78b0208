/** The rollout state of one migration as kept in PostgreSQL and handed to services. Pure. */
import type { Gates, RolloutPlan } from './plan.js';

export interface Approval {
  /** The phase approved for entry. */
  readonly phase: string;
  readonly by: string;
  readonly at: string;
}

export interface RolloutState {
  readonly migration: string;
  readonly groupId: string;
  readonly phase: string;
  /** ISO time the current phase began. */
  readonly enteredAt: string;
  readonly gates: Gates;
  /** Approvals given for phases not yet entered. */
  readonly approvals: readonly Approval[];
  /** Grows by one with every change: optimistic concurrency, NOTIFY payloads, OFREP ETags. */
  readonly version: number;
}

/** Before the first transition: the plan's first phase, everyone on legacy. */
export function initialState(plan: RolloutPlan, now: string): RolloutState {
  const first = plan.phases[0]!;
  return { migration: plan.migration, groupId: plan.groupId, phase: first.name, enteredAt: now, gates: first.gates, approvals: [], version: 0 };
}

/** Who made a change: the OS user and --by on the CLI, the key name over HTTP, or the watch daemon. */
export interface Actor {
  readonly kind: 'cli' | 'api-key' | 'watch';
  /** --by, the API key's name, or `watch`. */
  readonly name: string;
  readonly osUser: string | null;
}

export function describeActor(actor: Actor): string {
  if (actor.kind === 'api-key') return `api key ${actor.name}`;
  if (actor.kind === 'watch') return actor.osUser ? `watch (${actor.osUser})` : 'watch';
  return actor.osUser && actor.osUser !== actor.name ? `${actor.name} (os user ${actor.osUser})` : actor.name;
}

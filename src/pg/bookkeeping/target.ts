import type { Bookkeeping } from './migrate.js';

/**
 * The target database's bookkeeping schema. Translate, reconcile and rollout each keep their tables
 * there, declared in a file of their own beside this one (reconcile.ts, rollout.ts) and versioned
 * apart; a shipped migration is never edited, only followed by a new one.
 */
export const TARGET_SCHEMA = 'tandem';

/** Translate's tables: what it applied, where it stands per partition. */
export const TARGET_BOOKKEEPING: Bookkeeping = {
  schema: TARGET_SCHEMA,
  component: 'translate',
  migrations: [],
};

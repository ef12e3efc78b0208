import type { Bookkeeping } from './migrate.js';

/**
 * Bookkeeping in the target database (schema `tandem`): what translate applied, reconcile's runs,
 * rollout's state and audit. Each module appends its migrations here, never edits a shipped one.
 */
export const TARGET_BOOKKEEPING: Bookkeeping = {
  schema: 'tandem',
  migrations: [],
};

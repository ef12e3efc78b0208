import type { Bookkeeping } from './migrate.js';

/**
 * Capture's bookkeeping in the source database (schema `_tandem`), next to the data it follows so
 * it survives the worker's container. The stream position itself lives in the replication slot.
 *
 * - `capture_state`: snapshot progress per connector.
 * - `signal`: published with the captured tables; capture writes the low and high watermarks of
 *   incremental snapshot chunks there and recognises them in the stream.
 */
export const SOURCE_BOOKKEEPING: Bookkeeping = {
  schema: '_tandem',
  component: 'capture',
  migrations: [
    {
      version: 1,
      description: 'capture state and signal table',
      // IF NOT EXISTS: databases set up before versioning already have these tables.
      sql: `CREATE TABLE IF NOT EXISTS _tandem.capture_state (
          connector text PRIMARY KEY,
          state jsonb NOT NULL,
          updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE IF NOT EXISTS _tandem.signal (
          id text PRIMARY KEY,
          connector text NOT NULL,
          kind text NOT NULL,
          data jsonb,
          created_at timestamptz NOT NULL DEFAULT now()
        );`,
    },
  ],
};

export const SIGNAL_TABLE = '_tandem.signal';

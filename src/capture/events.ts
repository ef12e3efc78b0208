import type { Envelope, Op, SourceInfo } from '../schema/envelope.js';

export type { Op, SourceInfo };

/** A row as PostgreSQL's text output: null for NULL, undefined for "unchanged TOAST, not sent". */
export type ChangeRow = Record<string, string | null | undefined>;

/** A change as capture understands it, before Avro: the envelope's fields capture fills in (schema/envelope.ts). */
export type ChangeEvent = Pick<Envelope<ChangeRow>, 'op' | 'before' | 'after' | 'source'>;

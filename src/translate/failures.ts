/**
 * Every failure translate meets is classified once, here, and the class decides what happens:
 *
 * | class      | what happens                                                        | examples |
 * |------------|---------------------------------------------------------------------|----------|
 * | transient  | the batch is rolled back and retried with backoff; never a DLQ      | connection lost, serialization failure, deadlock, lock timeout, registry down |
 * | parked     | the change waits in tandem.translate_parked and is retried; after translate.parkTimeoutMs it becomes a dead letter | foreign key violation: the parent has not arrived yet |
 * | poison     | the change goes to <topic>.dlq; the rest of the batch applies      | undecodable message, NOT NULL / CHECK / unique violation, value out of range, invalid text for a type, js column threw |
 * | fatal      | translate stops (nothing committed is lost); a person must act     | mapping broken by a schema change (undefined column/function), privileges, anything unknown |
 *
 * Unknown errors are fatal, as kafkajs treats unknown codes as not retriable: a bug must not turn
 * into a dead-letter topic full of good changes.
 */
import { PoisonEvent } from './event-reader.js';

export type FailureClass = 'transient' | 'parked' | 'poison' | 'fatal';

/** By SQLSTATE: exact codes first, then their class (first two characters). */
const BY_SQLSTATE: ReadonlyArray<[code: string, failure: FailureClass]> = [
  ['23503', 'parked'], // foreign_key_violation
  ['40001', 'transient'], // serialization_failure
  ['40P01', 'transient'], // deadlock_detected
  ['55P03', 'transient'], // lock_not_available
  ['57014', 'transient'], // query_canceled (statement_timeout)
  ['57P01', 'transient'], // admin_shutdown
  ['57P02', 'transient'], // crash_shutdown
  ['57P03', 'transient'], // cannot_connect_now
  ['25P02', 'transient'], // in_failed_sql_transaction: an earlier statement failed; retry the batch
  ['08', 'transient'], // connection exceptions
  ['53', 'transient'], // insufficient resources (disk full, out of memory, too many connections)
  ['58', 'transient'], // system error (I/O)
  ['22', 'poison'], // data exceptions: out of range, invalid text representation, division by zero
  ['23', 'poison'], // other integrity violations: not null, unique, check, exclusion
  ['42', 'fatal'], // syntax error or access rule violation: the mapping or the privileges
  ['28', 'fatal'], // invalid authorization
];

const TRANSIENT_NODE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

export function classifyFailure(error: unknown): FailureClass {
  if (error instanceof PoisonEvent) return 'poison';
  const failure = error as { code?: unknown; transient?: unknown; message?: unknown };
  if (failure?.transient === true) return 'transient';
  const code = typeof failure?.code === 'string' ? failure.code : undefined;
  if (code && /^[0-9A-Z]{5}$/.test(code)) {
    const exact = BY_SQLSTATE.find(([known]) => known === code);
    if (exact) return exact[1];
    const byClass = BY_SQLSTATE.find(([known]) => known.length === 2 && code.startsWith(known));
    return byClass ? byClass[1] : 'fatal';
  }
  if (code && TRANSIENT_NODE_CODES.has(code)) return 'transient';
  const message = typeof failure?.message === 'string' ? failure.message : '';
  if (/Connection terminated|Client has encountered a connection error|connection timeout|not queryable/i.test(message)) return 'transient';
  return 'fatal';
}

/** Backoff before retry number `attempt` (1, 2, …): doubling from 100 ms up to `maxMs`, with jitter. */
export function backoffMs(attempt: number, maxMs: number, random: () => number = Math.random): number {
  const base = Math.min(maxMs, 100 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base / 2 + (random() * base) / 2);
}

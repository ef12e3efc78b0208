/**
 * The gates as feature flags, for OpenFeature and OFREP: `<migration>.read` ('legacy' | 'new' for
 * the evaluation context: 'new' for a service named in the phase's readNewServices (the context's
 * `service`), else the targetingKey bucketed like readFrom) and `<migration>.write`. Pure: one
 * evaluation shared by the SDK, the OpenFeature provider and `rollout serve`.
 */
import { bucketOf } from './bucketing.js';

/** What a service needs to decide locally: the gate values of one migration. */
export interface GateSnapshot {
  readonly migration: string;
  readonly groupId: string;
  readonly phase: string;
  readonly readNew: number;
  /** Services whose every read goes to new. */
  readonly readNewServices: readonly string[];
  readonly write: 'legacy' | 'new';
  readonly reverseSync: boolean;
  readonly version: number;
}

export type FlagErrorCode = 'FLAG_NOT_FOUND' | 'TARGETING_KEY_MISSING' | 'INVALID_CONTEXT' | 'TYPE_MISMATCH' | 'PARSE_ERROR' | 'GENERAL';

export type FlagEvaluation =
  | { readonly ok: true; readonly key: string; readonly value: 'legacy' | 'new'; readonly variant: 'legacy' | 'new'; readonly reason: 'STATIC' | 'DEFAULT' | 'TARGETING_MATCH' | 'SPLIT'; readonly metadata: Record<string, string | number | boolean> }
  | { readonly ok: false; readonly key: string; readonly errorCode: FlagErrorCode; readonly errorDetails: string };

export function flagKeys(migration: string): string[] {
  return [`${migration}.read`, `${migration}.write`];
}

/** Reads from new for this key? The bucket (Unleash's normalizedValue) against the percentage. */
export function readsNew(snapshot: Pick<GateSnapshot, 'groupId' | 'readNew'>, key: string): boolean {
  if (snapshot.readNew <= 0) return false;
  if (snapshot.readNew >= 100) return true;
  return bucketOf(key, snapshot.groupId) <= snapshot.readNew;
}

export function evaluateFlag(snapshot: GateSnapshot, key: string, context: Record<string, unknown>): FlagEvaluation {
  const metadata = { phase: snapshot.phase, version: snapshot.version, readNewPercent: snapshot.readNew, readNewServices: snapshot.readNewServices.join(',') };
  if (key === `${snapshot.migration}.write`) return { ok: true, key, value: snapshot.write, variant: snapshot.write, reason: 'STATIC', metadata };
  if (key !== `${snapshot.migration}.read`) {
    return { ok: false, key, errorCode: 'FLAG_NOT_FOUND', errorDetails: `no flag "${key}"; this server has ${flagKeys(snapshot.migration).join(' and ')}` };
  }
  const service = context.service;
  if (service !== undefined && service !== null && typeof service !== 'string') return { ok: false, key, errorCode: 'INVALID_CONTEXT', errorDetails: 'service must be a string (the name a phase lists in readNewServices)' };
  if (service && snapshot.readNewServices.includes(service)) return { ok: true, key, value: 'new', variant: 'new', reason: 'TARGETING_MATCH', metadata };
  if (snapshot.readNew <= 0 || snapshot.readNew >= 100) {
    const value = snapshot.readNew >= 100 ? 'new' : 'legacy';
    // Not STATIC while some services are named: the value then depends on the context.
    return { ok: true, key, value, variant: value, reason: snapshot.readNew < 100 && snapshot.readNewServices.length > 0 ? 'DEFAULT' : 'STATIC', metadata };
  }
  const targetingKey = context.targetingKey;
  if (targetingKey === undefined || targetingKey === null || targetingKey === '') {
    return { ok: false, key, errorCode: 'TARGETING_KEY_MISSING', errorDetails: `${key} is split ${snapshot.readNew}% new by stickiness key; pass it as the context's targetingKey` };
  }
  if (typeof targetingKey !== 'string' && typeof targetingKey !== 'number') {
    return { ok: false, key, errorCode: 'INVALID_CONTEXT', errorDetails: 'targetingKey must be a string' };
  }
  const value = readsNew(snapshot, String(targetingKey)) ? 'new' : 'legacy';
  return { ok: true, key, value, variant: value, reason: 'SPLIT', metadata };
}

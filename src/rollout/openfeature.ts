/**
 * An OpenFeature provider over the gate client, so Node services can use the standard API:
 *
 *   await OpenFeature.setProviderAndWait(new TandemProvider({ connectionString, migration: 'customers' }));
 *   const side = await OpenFeature.getClient().getStringValue('customers.read', 'legacy', { targetingKey: tenantId });
 *
 * Flags: `<migration>.read` (by targetingKey, or 'new' for a service the phase names: the context's
 * `service`, else the gate client's) and `<migration>.write`. Evaluations are local; a gate change
 * emits PROVIDER_CONFIGURATION_CHANGED.
 */
import { ErrorCode, OpenFeatureEventEmitter, ProviderEvents, type EvaluationContext, type JsonValue, type Provider, type ResolutionDetails } from '@openfeature/server-sdk';
import { evaluateFlag, flagKeys, type FlagErrorCode } from './flags.js';
import { createGateClient, type GateClient, type GateClientOptions } from './sdk.js';

const ERROR_CODES: Record<FlagErrorCode, ErrorCode> = {
  FLAG_NOT_FOUND: ErrorCode.FLAG_NOT_FOUND,
  TARGETING_KEY_MISSING: ErrorCode.TARGETING_KEY_MISSING,
  INVALID_CONTEXT: ErrorCode.INVALID_CONTEXT,
  TYPE_MISMATCH: ErrorCode.TYPE_MISMATCH,
  PARSE_ERROR: ErrorCode.PARSE_ERROR,
  GENERAL: ErrorCode.GENERAL,
};

export class TandemProvider implements Provider {
  readonly metadata = { name: 'tandem' } as const;
  readonly runsOn = 'server' as const;
  readonly events = new OpenFeatureEventEmitter();
  private client: GateClient | null = null;
  private unsubscribe: (() => void) | null = null;

  /** Options to connect its own gate client, or a gate client the service already has. */
  constructor(private readonly source: GateClientOptions | { client: GateClient }) {}

  async initialize(): Promise<void> {
    this.client = 'client' in this.source ? this.source.client : await createGateClient(this.source);
    const migration = 'client' in this.source ? this.client.snapshot?.migration : this.source.migration;
    this.unsubscribe = this.client.onChange((snapshot) => this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged: flagKeys(migration ?? snapshot.migration), metadata: { phase: snapshot.phase, version: snapshot.version } }));
  }

  async onClose(): Promise<void> {
    this.unsubscribe?.();
    if (this.client && !('client' in this.source)) await this.client.close();
    this.client = null;
  }

  private resolve<T extends JsonValue>(flagKey: string, defaultValue: T, context: EvaluationContext): ResolutionDetails<T> {
    const snapshot = this.client?.snapshot;
    if (!snapshot) {
      // No state yet: legacy everywhere is the safe answer; the default stands for anything else.
      return { value: defaultValue, reason: 'DEFAULT' };
    }
    const service = context.service ?? this.client!.service;
    const evaluation = evaluateFlag(snapshot, flagKey, { ...context, service });
    if (!evaluation.ok) return { value: defaultValue, reason: 'ERROR', errorCode: ERROR_CODES[evaluation.errorCode], errorMessage: evaluation.errorDetails };
    if (typeof defaultValue !== 'string') return { value: defaultValue, reason: 'ERROR', errorCode: ErrorCode.TYPE_MISMATCH, errorMessage: `${flagKey} is a string flag ('legacy' or 'new')` };
    // Counted like readFrom, so reads through OpenFeature are error-rate evidence too (same bucketing, same answer).
    if (flagKey === `${snapshot.migration}.read`) this.client!.readFrom(String(context.targetingKey ?? ''), service as string | undefined);
    return { value: evaluation.value as T, variant: evaluation.variant, reason: evaluation.reason, flagMetadata: evaluation.metadata };
  }

  async resolveStringEvaluation(flagKey: string, defaultValue: string, context: EvaluationContext): Promise<ResolutionDetails<string>> {
    return this.resolve(flagKey, defaultValue, context);
  }

  async resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: EvaluationContext): Promise<ResolutionDetails<boolean>> {
    return this.resolve(flagKey, defaultValue, context);
  }

  async resolveNumberEvaluation(flagKey: string, defaultValue: number, context: EvaluationContext): Promise<ResolutionDetails<number>> {
    return this.resolve(flagKey, defaultValue, context);
  }

  async resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T, context: EvaluationContext): Promise<ResolutionDetails<T>> {
    return this.resolve(flagKey, defaultValue, context);
  }
}

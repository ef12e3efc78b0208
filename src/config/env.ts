import { registerSecret } from '../observability/redact.js';
import { TandemError } from '../errors.js';

/** A value read from the environment when the connector is loaded. Marked secret: never logged. */
export interface EnvReference {
  readonly kind: 'env';
  readonly name: string;
  readonly fallback?: string;
}

/**
 * Reads a setting from the environment at load time, e.g. `url: env('LEGACY_DATABASE_URL')`.
 * The resolved value is registered with the log redactor.
 */
export function env(name: string, fallback?: string): EnvReference {
  return { kind: 'env', name, fallback };
}

export function isEnvReference(value: unknown): value is EnvReference {
  return typeof value === 'object' && value !== null && (value as EnvReference).kind === 'env' && typeof (value as EnvReference).name === 'string';
}

/** The reference's value: the variable, or the fallback when it is unset. An empty variable counts as unset. */
export function lookupEnv(reference: EnvReference): string | undefined {
  const value = process.env[reference.name];
  if (value !== undefined && value !== '') return value;
  return reference.fallback === '' ? undefined : reference.fallback;
}

export function resolveEnv(reference: EnvReference, path: string): string {
  const value = lookupEnv(reference);
  if (value === undefined) {
    throw new TandemError(`${path}: environment variable ${reference.name} is not set`, {
      fix: `export ${reference.name}=... before running tandem, or write the value in the connector file`,
    });
  }
  registerSecret(value);
  return value;
}

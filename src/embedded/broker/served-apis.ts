import { ApiKey, SUPPORTED_APIS, type SupportedApi } from './protocol/index.js';

/**
 * Versions whose data the broker cannot serve: Produce before v3 and Fetch before v4 carry the old
 * message-set formats (magic 0 and 1), and the broker stores and returns record batches v2 only.
 */
const FIRST_RECORD_BATCH_VERSION: Partial<Record<number, number>> = { [ApiKey.Produce]: 3, [ApiKey.Fetch]: 4 };

/** What the broker advertises in ApiVersions and accepts: the codecs' ranges, less those versions. */
export const SERVED_APIS: readonly SupportedApi[] = SUPPORTED_APIS.map((api) => ({
  ...api,
  minVersion: Math.max(api.minVersion, FIRST_RECORD_BATCH_VERSION[api.apiKey] ?? 0),
}));

const servedByKey = new Map(SERVED_APIS.map((api) => [api.apiKey as number, api]));

export function isServed(apiKey: number, apiVersion: number): boolean {
  const api = servedByKey.get(apiKey);
  return api !== undefined && apiVersion >= api.minVersion && apiVersion <= api.maxVersion;
}

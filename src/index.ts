// Public API for connector files (`import { defineConnector, env } from 'tandem'`) and embedders.
export { defineConnector, env, type Connector, type ConnectorDefinition } from './config/index.js';
export { js, lookup } from './mapping/helpers.js';
// Rollout, service side: local gate decisions (SDK) and the OpenFeature provider.
export { createGateClient, type GateClient, type GateClientOptions, type Side } from './rollout/sdk.js';
export { TandemProvider } from './rollout/openfeature.js';
export type { GateSnapshot } from './rollout/flags.js';

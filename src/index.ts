// Public API for connector files (`import { defineConnector, env } from 'tandem'`) and embedders.
export { defineConnector, env, type Connector, type ConnectorDefinition } from './config/index.js';
export { js, lookup } from './mapping/helpers.js';

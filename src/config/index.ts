export { defineConnector, type ConnectorDefinition } from './define.js';
export { env } from './env.js';
export { findConfigFile, loadConnector, parseConnector } from './load.js';
export { qualify, type Connector } from './schema.js';

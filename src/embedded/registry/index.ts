export { startRegistry, type RegistryOptions, type RunningRegistry } from './server.js';

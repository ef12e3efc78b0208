import { NODE_ID, type Handler } from '../context.js';
import { ErrorCode } from '../protocol/index.js';

/** This broker coordinates every group. */
export const findCoordinator: Handler<10> = (_request, { broker }) => ({
  throttleTimeMs: 0,
  errorCode: ErrorCode.NONE,
  errorMessage: null,
  nodeId: NODE_ID,
  host: broker.advertised.host,
  port: broker.advertised.port,
});

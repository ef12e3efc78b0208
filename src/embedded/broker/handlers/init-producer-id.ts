import type { Handler } from '../context.js';
import { ErrorCode } from '../protocol/index.js';

/** Hands an idempotent producer its id (epoch 0). Transactions are not supported. */
export const initProducerId: Handler<22> = (request, { broker }) => {
  if (request.transactionalId !== null) {
    return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: -1n, producerEpoch: -1 };
  }
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: BigInt(broker.topics.allocateProducerId()), producerEpoch: 0 };
};

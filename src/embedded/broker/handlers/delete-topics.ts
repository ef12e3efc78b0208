import type { Handler } from '../context.js';
import { ErrorCode } from '../protocol/index.js';

/** Deletes topics with their logs and the committed offsets that pointed into them. */
export const deleteTopics: Handler<20> = (request, { broker }) => ({
  throttleTimeMs: 0,
  responses: request.topicNames.map((name) => {
    const { errorCode } = broker.topics.delete(name);
    if (errorCode === ErrorCode.NONE) broker.coordinator.forgetTopic(name);
    return { name, errorCode };
  }),
});

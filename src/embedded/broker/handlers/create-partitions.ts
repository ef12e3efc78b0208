import type { Handler } from '../context.js';

/** Grows topics to the requested partition count. */
export const createPartitions: Handler<37> = (request, { broker }) => ({
  throttleTimeMs: 0,
  results: request.topics.map(({ name, count }) => ({ name, ...broker.topics.addPartitions(name, count, request.validateOnly) })),
});

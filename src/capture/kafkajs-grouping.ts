/**
 * kafkajs 2.2.4 groups a produce request's messages by partition in
 * `src/producer/groupMessagesPerPartition.js` with `[...current, message]` for every message: each
 * message copies its partition's list so far, quadratic in the messages per partition and request
 * (a fifth of the producer thread's CPU in bench:capture). This replaces that one CommonJS module
 * with a linear function of the same result, the partition's messages in their order.
 *
 * Only the producer thread installs it (producer-worker.ts, before anything loads kafkajs there):
 * a worker thread has a module cache of its own, so kafkajs elsewhere in the process is untouched.
 * installLinearGrouping() checks that the kafkajs it loads really uses the replacement, and
 * test/unit/capture/kafkajs-grouping.test.ts compares both functions' results.
 */
import Module, { createRequire } from 'node:module';

interface GroupingArguments<M> {
  topic: string;
  partitionMetadata: readonly unknown[];
  messages: readonly M[];
  partitioner: (input: { topic: string; partitionMetadata: readonly unknown[]; message: M }) => number;
}

/** Partition → its messages in order; the same contract as kafkajs's groupMessagesPerPartition. */
export function groupMessagesPerPartition<M>({ topic, partitionMetadata, messages, partitioner }: GroupingArguments<M>): Record<number, M[]> {
  if (partitionMetadata.length === 0) return {};
  const result: Record<number, M[]> = {};
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    const list = result[partition];
    if (list) list.push(message);
    else result[partition] = [message];
  }
  return result;
}

const require = createRequire(import.meta.url);
const GROUPING_FILE = require.resolve('kafkajs/src/producer/groupMessagesPerPartition.js');
const SEND_MESSAGES_FILE = require.resolve('kafkajs/src/producer/sendMessages.js');

/**
 * Puts the linear grouping into the CommonJS module cache under kafkajs's file name, then loads
 * kafkajs through require(), so its producer takes the replacement (a later `import 'kafkajs'`
 * gets this same loaded module). Throws when kafkajs was loaded before or did not take it.
 */
export function installLinearGrouping(): void {
  const loaded = (file: string) => require.cache[file];
  if (loaded(SEND_MESSAGES_FILE)) throw new Error('kafkajs was loaded before its partition grouping could be replaced');
  const replacement = new Module(GROUPING_FILE);
  replacement.filename = GROUPING_FILE;
  replacement.exports = groupMessagesPerPartition;
  replacement.loaded = true;
  require.cache[GROUPING_FILE] = replacement;
  require('kafkajs');
  if (!loaded(SEND_MESSAGES_FILE)?.children.includes(replacement)) {
    throw new Error(`kafkajs did not take the linear partition grouping (is it still 2.2.4 with ${GROUPING_FILE}?)`);
  }
}

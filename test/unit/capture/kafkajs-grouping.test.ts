import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { groupMessagesPerPartition } from '../../../src/capture/kafkajs-grouping.js';

// kafkajs's own module, as every process but capture's producer thread uses it.
const kafkajsGrouping = createRequire(import.meta.url)('kafkajs/src/producer/groupMessagesPerPartition.js') as typeof groupMessagesPerPartition;

const metadata = (partitions: number) => Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0 }));

describe("the producer thread's partition grouping", () => {
  it("gives kafkajs's result: each partition's messages in their order, for any spread over the partitions", () => {
    let state = 12345;
    const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0);
    for (const [count, partitions] of [
      [0, 3],
      [1, 1],
      [7, 3],
      [500, 3],
      [2000, 12],
    ] as const) {
      const messages = Array.from({ length: count }, (_, index) => ({ index, partition: next() % partitions }));
      const input = { topic: 't', partitionMetadata: metadata(partitions), messages, partitioner: ({ message }: { message: { partition: number } }) => message.partition };
      const ours = groupMessagesPerPartition(input);
      const theirs = kafkajsGrouping(input);
      expect(ours).toEqual(theirs);
      expect(Object.keys(ours)).toEqual(Object.keys(theirs));
    }
  });

  it('groups nothing for a topic without partition metadata, as kafkajs does', () => {
    const input = { topic: 't', partitionMetadata: [], messages: [{ partition: 0 }], partitioner: () => 0 };
    expect(groupMessagesPerPartition(input)).toEqual({});
    expect(kafkajsGrouping(input)).toEqual({});
  });

  it("is the one kafkajs's producer uses once installed, through require() and import alike, and refuses to install after kafkajs loaded", () => {
    const module = new URL('../../../src/capture/kafkajs-grouping.ts', import.meta.url).href;
    // A fresh process, like the producer thread: nothing has loaded kafkajs yet.
    const script = `
      import { createRequire } from 'node:module';
      const { groupMessagesPerPartition, installLinearGrouping } = await import(${JSON.stringify(module)});
      installLinearGrouping();
      const require = createRequire(${JSON.stringify(module)});
      const used = require('kafkajs/src/producer/groupMessagesPerPartition.js') === groupMessagesPerPartition;
      const sameKafka = (await import('kafkajs')).Kafka === require('kafkajs').Kafka;
      let again = 'installed twice';
      try { installLinearGrouping(); } catch (error) { again = error.message; }
      process.stdout.write(JSON.stringify({ used, sameKafka, again }));
    `;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual({ used: true, sameKafka: true, again: 'kafkajs was loaded before its partition grouping could be replaced' });
  });
});

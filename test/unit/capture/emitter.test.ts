import { describe, expect, it } from 'vitest';
import { messagesOf } from '../../../src/capture/emitter.js';

const key = Buffer.from('key');
const value = Buffer.from('value');
const keyed = { table: 'legacy.t', topic: 'p.legacy.t', partitions: 3, hasKey: true };
const keyless = { ...keyed, hasKey: false };

describe('messagesOf: the Kafka messages of one change event', () => {
  it('sends a keyed change once, partitioned by its key', () => {
    expect(messagesOf(keyed, 'u', key, value, null)).toEqual([{ topic: 'p.legacy.t', key, value, ack: null, table: 'legacy.t', op: 'u' }]);
  });

  it('follows a delete with a tombstone of its key that is no event of its own', () => {
    expect(messagesOf(keyed, 'd', key, value, null).map((message) => [message.key, message.value, message.op])).toEqual([
      [key, value, 'd'],
      [key, null, null],
    ]);
  });

  it('puts every event of a table without key on partition 0, deletes without tombstone', () => {
    for (const op of ['r', 'c', 'u', 'd'] as const) expect(messagesOf(keyless, op, null, value, null)).toEqual([{ topic: 'p.legacy.t', partition: 0, key: null, value, ack: null, table: 'legacy.t', op }]);
  });

  it('writes a truncate to every partition, counted once as an event', () => {
    const ack = { sent: () => undefined, acknowledge: () => undefined, commit: () => undefined };
    const messages = messagesOf({ ...keyed, partitions: 4 }, 't', null, value, ack);
    expect(messages.map((message) => [message.partition, message.key, message.value, message.op, message.ack])).toEqual([
      [0, null, value, 't', ack],
      [1, null, value, null, ack],
      [2, null, value, null, ack],
      [3, null, value, null, ack],
    ]);
  });
});

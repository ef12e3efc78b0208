import { describe, expect, it } from 'vitest';
import { packBatch, unpackBatch } from '../../../src/capture/batch-transfer.js';

describe('batch transfer to the producer thread', () => {
  it('packs keys, values, tombstones, null keys and explicit partitions into one buffer and unpacks them by topic, in order', () => {
    const messages = [
      { topic: 'a', key: Buffer.from('k1'), value: Buffer.from('v1') },
      { topic: 'b', key: null, value: Buffer.from('truncate') },
      { topic: 'a', key: Buffer.from('k2'), value: null },
      { topic: 'a', key: Buffer.alloc(0), value: Buffer.alloc(0) },
      { topic: 'b', partition: 2, key: null, value: Buffer.from('t2') },
    ];
    const packed = packBatch(messages);
    expect(packed.topics).toEqual(['a', 'b']);
    expect(packed.payload.byteLength).toBe(2 + 2 + 8 + 2 + 2);
    const unpacked = unpackBatch(packed);
    expect(unpacked.map((group) => group.topic)).toEqual(['a', 'b']);
    expect(unpacked[0]!.messages.map((message) => [message.key?.toString() ?? null, message.value?.toString() ?? null])).toEqual([
      ['k1', 'v1'],
      ['k2', null],
      ['', ''],
    ]);
    expect(unpacked[1]!.messages).toEqual([
      { key: null, value: Buffer.from('truncate') },
      { partition: 2, key: null, value: Buffer.from('t2') },
    ]);
  });
});

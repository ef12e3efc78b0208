import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { partitionOfKey } from '../../../src/capture/key-partition.js';
import { createAvroType } from '../../../src/schema/avro-type.js';
import { encodeFrame } from '../../../src/schema/wire-format.js';

/** A deterministic byte source (xorshift32), so a failure can be replayed. */
function bytes(seed: number) {
  let state = seed;
  return (length: number) => {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      out[i] = state & 0xff;
    }
    return out;
  };
}

const metadata = (partitions: number) => Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));

describe('partitionOfKey: the partition of a keyed message', () => {
  it("is kafkajs's default partitioner's choice for random keys of every length up to 64 bytes and 1 to 12 partitions", () => {
    const kafkajs = Partitioners.DefaultPartitioner();
    const random = bytes(0x2545f491);
    for (let length = 0; length <= 64; length++) {
      for (let sample = 0; sample < 40; sample++) {
        const key = random(length);
        for (let partitions = 1; partitions <= 12; partitions++) {
          const expected = kafkajs({ topic: 't', partitionMetadata: metadata(partitions), message: { key, value: null } });
          expect(partitionOfKey(key, partitions), `key ${key.toString('hex')}, ${partitions} partitions`).toBe(expected);
        }
      }
    }
  });

  it("is kafkajs's choice for capture's keys: Confluent-framed Avro records of a bigint id", () => {
    const kafkajs = Partitioners.DefaultPartitioner();
    const type = createAvroType({ type: 'record', name: 'Key', fields: [{ name: 'id', type: 'long' }] });
    const ids = [0n, 1n, 2n, 63n, 64n, 1000n, 300_000n, -1n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n)];
    for (let id = 3n; id < 5000n; id += 7n) ids.push(id);
    for (const id of ids) {
      const key = encodeFrame(12345, type.toBuffer({ id }));
      expect(partitionOfKey(key, 3)).toBe(kafkajs({ topic: 't', partitionMetadata: metadata(3), message: { key, value: null } }));
    }
  });

  it('spreads keys over every partition', () => {
    const random = bytes(7);
    const seen = new Set<number>();
    for (let i = 0; i < 100; i++) seen.add(partitionOfKey(random(9), 3));
    expect([...seen].sort()).toEqual([0, 1, 2]);
  });
});

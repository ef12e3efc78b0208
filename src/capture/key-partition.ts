/**
 * The partition of a keyed message, exactly as kafkajs's DefaultPartitioner (and Kafka's Java
 * client) chooses it: murmur2 of the key bytes, made positive, modulo the partition count. kafkajs
 * computes murmur2 with a 64-bit Long (a BigInt object) per step; 32-bit multiplications
 * (Math.imul) give the same low 32 bits it keeps, at a fraction of the cost.
 * test/unit/capture/key-partition.test.ts compares both on random keys.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's murmur2 (Utils.murmur2 of the Java client) as a signed 32-bit integer. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // The last 1-3 bytes (the Java client's fall-through switch).
  const rest = length & 3;
  if (rest > 0) {
    if (rest === 3) h ^= data[whole + 2]! << 16;
    if (rest >= 2) h ^= data[whole + 1]! << 8;
    h ^= data[whole]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition kafkajs's default partitioner gives a message with this key among `partitions`. */
export function partitionOfKey(key: Uint8Array, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}

/**
 * Sticky, monotonic bucketing, the same as Unleash's gradual rollout: a key's bucket is
 * murmur3 x86 32-bit (seed 0) of `groupId:key`, modulo 100, plus 1 (1–100), and the key is on new
 * when its bucket ≤ the percentage. Raising the percentage only adds keys, so a tenant that reads
 * new at 5% still reads new at 25%, and it is in the same cohort as in an Unleash flag with the
 * same group id. Pure.
 *
 * The hash is written out here (Math.imul, no intermediate strings) because it is the SDK's hot
 * path; the tests check it against the murmurhash3js package Unleash's Node client uses, against
 * the algorithm's reference vectors and against the values the Unleash clients publish. Keys are
 * hashed as UTF-8 bytes, as the Java, Go and Rust Unleash clients do (the Node client reads one byte
 * per UTF-16 unit, which only differs for non-ASCII keys).
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function mixBlock(h1: number, k1: number): number {
  k1 = Math.imul(k1, C1);
  k1 = (k1 << 15) | (k1 >>> 17);
  k1 = Math.imul(k1, C2);
  h1 ^= k1;
  h1 = (h1 << 13) | (h1 >>> 19);
  return (Math.imul(h1, 5) + 0xe6546b64) | 0;
}

function finish(h1: number, k1: number, pending: number, length: number): number {
  if (pending > 0) {
    k1 = Math.imul(k1, C1);
    k1 = (k1 << 15) | (k1 >>> 17);
    k1 = Math.imul(k1, C2);
    h1 ^= k1;
  }
  h1 ^= length;
  h1 ^= h1 >>> 16;
  h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  h1 = Math.imul(h1, 0xc2b2ae35);
  h1 ^= h1 >>> 16;
  return h1 >>> 0;
}

/** murmur3 x86 32-bit of bytes. */
export function murmur3Bytes(bytes: Uint8Array, seed = 0): number {
  let h1 = seed | 0;
  let k1 = 0;
  let pending = 0;
  for (let index = 0; index < bytes.length; index += 1) {
    k1 |= bytes[index]! << (pending * 8);
    if (++pending === 4) {
      h1 = mixBlock(h1, k1);
      k1 = 0;
      pending = 0;
    }
  }
  return finish(h1, k1, pending, bytes.length);
}

/** murmur3 x86 32-bit of the UTF-8 bytes of `text`. */
export function murmur3(text: string, seed = 0): number {
  return murmur3Bytes(Buffer.from(text, 'utf8'), seed);
}

/**
 * The bucket function of one group id: the `groupId:` prefix is hashed once, each key continues
 * from there. ASCII keys take a path without allocation; others are hashed as UTF-8 bytes.
 */
export function bucketer(groupId: string): (key: string) => number {
  const prefix = Buffer.from(`${groupId}:`, 'utf8');
  let h0 = 0;
  let k0 = 0;
  let pending0 = 0;
  for (const byte of prefix) {
    k0 |= byte << (pending0 * 8);
    if (++pending0 === 4) {
      h0 = mixBlock(h0, k0);
      k0 = 0;
      pending0 = 0;
    }
  }
  const prefixLength = prefix.length;
  const slow = (key: string) => (murmur3Bytes(Buffer.concat([prefix, Buffer.from(key, 'utf8')])) % 100) + 1;
  return (key: string) => {
    let h1 = h0;
    let k1 = k0;
    let pending = pending0;
    const length = key.length;
    let index = 0;
    // Complete the prefix's partial block, then whole blocks of four characters, then the tail.
    for (; pending !== 0 && index < length; index += 1) {
      const code = key.charCodeAt(index);
      if (code > 0x7f) return slow(key);
      k1 |= code << (pending * 8);
      if (++pending === 4) {
        h1 = mixBlock(h1, k1);
        k1 = 0;
        pending = 0;
      }
    }
    for (; index + 4 <= length; index += 4) {
      const a = key.charCodeAt(index);
      const b = key.charCodeAt(index + 1);
      const c = key.charCodeAt(index + 2);
      const d = key.charCodeAt(index + 3);
      if ((a | b | c | d) > 0x7f) return slow(key);
      h1 = mixBlock(h1, a | (b << 8) | (c << 16) | (d << 24));
    }
    for (; index < length; index += 1) {
      const code = key.charCodeAt(index);
      if (code > 0x7f) return slow(key);
      k1 |= code << (pending * 8);
      pending += 1;
    }
    return (finish(h1, k1, pending, prefixLength + length) % 100) + 1;
  };
}

const bucketers = new Map<string, (key: string) => number>();

/** Unleash's normalizedValue(id, groupId): the key's bucket, 1–100. */
export function bucketOf(key: string, groupId: string): number {
  let bucket = bucketers.get(groupId);
  if (!bucket) {
    if (bucketers.size > 1_000) bucketers.clear();
    bucket = bucketer(groupId);
    bucketers.set(groupId, bucket);
  }
  return bucket(key);
}

/** Whether a key falls into the first `percentage` buckets (Unleash: percentage > 0 && bucket ≤ percentage). */
export function inRollout(key: string, groupId: string, percentage: number): boolean {
  return percentage > 0 && bucketOf(key, groupId) <= percentage;
}

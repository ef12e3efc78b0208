/**
 * Sticky, monotonic bucketing, the same as Unleash's gradual rollout: a key's bucket is
 * murmur3 x86 32-bit (seed 0) of `groupId:key`, modulo 100, plus 1 (1–100), and the key is on new
 * when its bucket ≤ the percentage. Raising the percentage only adds keys, so a tenant that reads
 * new at 5% still reads new at 25%, and it is in the same cohort as in an Unleash flag with the
 * same group id. Pure.
 */
import murmurHash3 from 'murmurhash3js';

const NON_ASCII = /[^\x00-\x7f]/;

/**
 * murmur3 x86 32-bit of the UTF-8 bytes of `text` (as the Java, Go and Rust Unleash clients hash).
 * murmurhash3js reads one byte per UTF-16 code unit, so non-ASCII text is first turned into one
 * character per UTF-8 byte; ASCII text (the usual key) is hashed as it is.
 */
export function murmur3(text: string, seed = 0): number {
  const bytes = NON_ASCII.test(text) ? Buffer.from(text, 'utf8').toString('latin1') : text;
  return murmurHash3.x86.hash32(bytes, seed);
}

/** Unleash's normalizedValue(id, groupId): the key's bucket, 1–100. */
export function bucketOf(key: string, groupId: string): number {
  return (murmur3(`${groupId}:${key}`) % 100) + 1;
}

/** Whether a key falls into the first `percentage` buckets (Unleash: percentage > 0 && bucket ≤ percentage). */
export function inRollout(key: string, groupId: string, percentage: number): boolean {
  return percentage > 0 && bucketOf(key, groupId) <= percentage;
}

import { randomInt } from 'node:crypto';

/**
 * A seeded PRNG (mulberry32) for tests that make random choices. The seed comes from
 * TANDEM_TEST_SEED or is drawn fresh; it is printed with `what`, so a failing run can be replayed
 * exactly: TANDEM_TEST_SEED=<seed> npx vitest run <file>.
 */
export function seededRandom(what: string): () => number {
  const fromEnv = process.env.TANDEM_TEST_SEED;
  if (fromEnv !== undefined && fromEnv !== '' && !/^\d+$/.test(fromEnv)) {
    throw new Error(`TANDEM_TEST_SEED=${fromEnv} is not a seed: use the unsigned integer a test printed`);
  }
  const seed = fromEnv ? Number(fromEnv) >>> 0 : randomInt(2 ** 32);
  console.log(`${what}: random seed ${seed} (replay with TANDEM_TEST_SEED=${seed})`);
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

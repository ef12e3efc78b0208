import { randomInt } from 'node:crypto';
import { mulberry32 } from '../../src/dev/seeded-random.js';

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
  return mulberry32(seed);
}

export { mulberry32 };

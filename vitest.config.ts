import { defineConfig } from 'vitest/config';

const integration = {
  globalSetup: ['test/support/global-setup.ts'],
  testTimeout: 120_000,
  hookTimeout: 180_000,
  // Integration files share one PostgreSQL server and the 2-core machine; run them one at a time.
  fileParallelism: false,
};

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          ...integration,
        },
      },
      {
        // Checks against peers outside Node (Chromium, Python packages from PyPI): `npm run test:peers`.
        test: {
          name: 'peers',
          include: ['test/peers/**/*.test.ts'],
          ...integration,
        },
      },
    ],
  },
});

import { defineConfig } from 'vitest/config';

/** `npm run test:browser`: /docs in headless Chromium against `wrangler dev` (test/browser/). */
export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
});

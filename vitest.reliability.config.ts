import { defineConfig } from 'vitest/config';

/**
 * `npm run test:reliability`: the hardening suite (SECURITY.md). Fuzzing and abuse run with
 * the collector exposed, so memory is compared after a full GC; one fork, as the suite measures
 * its own process's descriptors.
 */
export default defineConfig({
  test: {
    include: ['test/reliability/**/*.test.ts'],
    testTimeout: 240_000,
    hookTimeout: 60_000,
    pool: 'forks',
    poolOptions: { forks: { singleFork: true, execArgv: ['--expose-gc'] } },
  },
});

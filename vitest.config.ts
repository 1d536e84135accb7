import { existsSync } from 'node:fs';
import { configDefaults, defineConfig } from 'vitest/config';

// The browser tests drive the system Chromium (never a downloaded one). Without it they are
// left out with a note, unless PARLEY_REQUIRE_BROWSER=1 (CI) makes its absence a failure.
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const skipBrowser = !existsSync(chromium) && process.env.PARLEY_REQUIRE_BROWSER !== '1';
if (skipBrowser) console.warn(`[skipped] test/browser — no Chromium at ${chromium} (set CHROMIUM_PATH, or apt-get install chromium); PARLEY_REQUIRE_BROWSER=1 makes this a failure`);

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The reliability suite has its own runner and budget: `npm run test:reliability`.
    exclude: [...configDefaults.exclude, 'test/reliability/**', ...(skipBrowser ? ['test/browser/**'] : [])],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // e2e files each start their own server on a random port; two cores, so two forks.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});

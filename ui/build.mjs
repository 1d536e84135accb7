// Bundles the web UI (the /messages/ page) and the widgets into dist-ui/ with esbuild.
// `node ui/build.mjs` from the repository root; tests call `buildUi()`.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

/** Builds both bundles; resolves when they are written. */
export async function buildUi({ minify = true, outdir = 'dist-ui' } = {}) {
  await build({
    absWorkingDir: root,
    entryPoints: {
      'parley-messages': 'ui/src/entries/messages.ts',
      'parley-widgets': 'ui/src/entries/widgets.ts',
    },
    outdir,
    bundle: true,
    format: 'iife',
    target: 'es2022',
    minify,
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'warning',
    tsconfig: 'ui/tsconfig.json',
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildUi();
  console.log(`web UI built in ${join(root, 'dist-ui')}`);
}

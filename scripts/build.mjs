// Builds what `npm start` runs, with esbuild only (a runtime dependency), so a production
// install (`npm ci --omit=dev`) can build and start: the server's TypeScript is transpiled
// file by file into dist/ (type checking is `npm run typecheck`'s job; `npm run build` also
// writes the .d.ts files a package needs), and the web UI is bundled into dist-ui/.
//
//   node scripts/build.mjs             build now
//   node scripts/build.mjs --clean     empty dist/ (files of sources since deleted go with it)
//   node scripts/build.mjs --if-stale  build only when a source is newer than the last build
//                                      (`npm start` does this; an installed package has no
//                                      sources and ships dist/ and dist-ui/ built)
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const stamp = join(root, 'dist', '.build-stamp');
const sourceDirs = ['src', 'ui/src'].map((d) => join(root, d));

/** Every file under `dir`, recursively. */
function walk(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(path));
    else out.push(path);
  }
  return out;
}

const newest = (files) => files.reduce((max, f) => Math.max(max, statSync(f).mtimeMs), 0);

/** Why a build is needed, or null when dist/ and dist-ui/ are up to date (or there is nothing to build from). */
function staleness() {
  if (!existsSync(join(root, 'src'))) return null;
  if (!existsSync(stamp) || !existsSync(join(root, 'dist-ui', 'parley-messages.js'))) return 'no build yet';
  const built = statSync(stamp).mtimeMs;
  const sources = sourceDirs.filter((d) => existsSync(d)).flatMap(walk);
  sources.push(join(root, 'package.json'));
  return newest(sources) > built ? 'sources changed since the last build' : null;
}

export async function buildServer() {
  const { build } = await import('esbuild');
  const entryPoints = walk(join(root, 'src')).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('/testing.ts') && !f.endsWith('.d.ts'));
  await build({
    absWorkingDir: root,
    entryPoints,
    outdir: join(root, 'dist'),
    outbase: join(root, 'src'),
    bundle: false,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
    tsconfig: join(root, 'tsconfig.build.json'),
  });
  return entryPoints.length;
}

async function main() {
  if (process.argv.includes('--clean')) {
    rmSync(join(root, 'dist'), { recursive: true, force: true });
    return;
  }
  if (process.argv.includes('--if-stale')) {
    const why = staleness();
    if (why === null) return;
    console.error(`parley: building (${why})…`);
  }
  const started = Date.now();
  const files = await buildServer();
  const { buildUi } = await import(pathToFileURL(join(root, 'ui', 'build.mjs')).href);
  await buildUi();
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
  console.error(`parley: built ${files} server files into ${relative(process.cwd(), join(root, 'dist')) || '.'} and the web UI into dist-ui in ${Date.now() - started} ms`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main();
}

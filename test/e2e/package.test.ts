import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * What a team deploying Parley does: a production install (no dev dependencies) from the
 * packed tarball, and from a checkout, then `npm start`. Installing from the registry is not
 * possible here, so each install starts from a hard-linked copy of this checkout's
 * node_modules and lets `npm prune --omit=dev` remove what production does not get.
 */
const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const work = mkdtempSync(join(tmpdir(), 'parley-pack-'));
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

/** node_modules as `npm ci --omit=dev` leaves it, without touching this checkout's own. */
async function productionModules(dir: string): Promise<void> {
  execFileSync('cp', ['-al', join(root, 'node_modules'), join(dir, 'node_modules')]);
  // npm rewrites its hidden lockfile in place: the copy must not share the original's inode.
  const hidden = join(dir, 'node_modules', '.package-lock.json');
  rmSync(hidden, { force: true });
  copyFileSync(join(root, 'node_modules', '.package-lock.json'), hidden);
  await run('npm', ['prune', '--omit=dev', '--offline', '--no-audit', '--no-fund'], { cwd: dir });
  expect(existsSync(join(dir, 'node_modules', 'typescript'))).toBe(false);
  expect(existsSync(join(dir, 'node_modules', 'vitest'))).toBe(false);
}

/** `npm start` in `dir`; resolves with the URL it listens on. */
function npmStart(dir: string): Promise<string> {
  const data = mkdtempSync(join(work, 'data-'));
  const child = spawn('npm', ['start'], { cwd: dir, env: { ...process.env, PORT: '0', PARLEY_DATA_DIR: data, PARLEY_CONFIG: '', LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`npm start did not listen: ${out}`)), 90_000);
    const onData = (b: Buffer) => {
      out += b.toString();
      const m = /Parley listening on (http:\/\/[^"\s]+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`npm start exited with ${code}: ${out}`)));
  });
}

async function expectWebUi(url: string): Promise<void> {
  const page = await fetch(`${url}/messages/`);
  expect(page.status).toBe(200);
  const html = await page.text();
  const script = /src="([^"]*parley-messages[^"]*\.js)"/.exec(html)?.[1];
  expect(script).toBeTruthy();
  expect((await fetch(new URL(script ?? '', `${url}/messages/`))).status).toBe(200);
}

describe('production install', { timeout: 240_000 }, () => {
  it('the packed tarball holds the built server, its types and the web UI, and no sources or tests', async () => {
    const { stdout } = await run('npm', ['pack', '--pack-destination', work, '--json', '--silent'], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
    const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const files = (packed?.files ?? []).map((f) => f.path);
    for (const f of ['dist/cli/main.js', 'dist/index.js', 'dist/index.d.ts', 'dist-ui/parley-messages.js', 'dist-ui/parley-widgets.js', 'scripts/build.mjs', 'README.md', 'docs/configuration.md']) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => /^(src|test|ui|bench)\//.test(f) || f.endsWith('.test.js'))).toEqual([]);

    const dir = join(work, 'package');
    await run('tar', ['xzf', join(work, packed?.filename ?? ''), '-C', work]);
    await productionModules(dir);
    const url = await npmStart(dir);
    await expectWebUi(url);
    const version = await run(process.execPath, [join(dir, 'dist', 'cli', 'main.js'), '--version']);
    expect(version.stdout.trim()).toBe((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version);
  });

  it('a checkout builds on `npm start` with production dependencies only, and not again when nothing changed', async () => {
    const dir = join(work, 'clone');
    mkdirSync(dir);
    const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean);
    for (const f of tracked) if (existsSync(join(root, f))) cpSync(join(root, f), join(dir, f));
    for (const f of ['scripts/build.mjs']) cpSync(join(root, f), join(dir, f));
    await productionModules(dir);
    const first = await run('npm', ['run', 'prestart'], { cwd: dir });
    expect(first.stderr).toMatch(/building \(no build yet\)/);
    const again = await run('npm', ['run', 'prestart'], { cwd: dir });
    expect(again.stderr).not.toMatch(/building/);
    const url = await npmStart(dir);
    await expectWebUi(url);
  });
});

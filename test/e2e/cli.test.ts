import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'parley-cli-'));
const env = { ...process.env, PARLEY_DATA_DIR: dir, LOG_LEVEL: 'info', PARLEY_CONFIG: '' };
const cli = ['--import', 'tsx', 'src/cli/main.ts'];

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts `parley serve` as a child process and resolves with its URL once it listens. */
function serve(extraEnv: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [...cli, 'serve', '--port', '0'], { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 60_000);
    const onData = (b: Buffer) => {
      out += b.toString();
      const m = /Parley listening on (http:\/\/[^"\s]+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve({ child, url: m[1], exited });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
}

// Each step spawns a Node process that compiles TypeScript on the fly: slow on a busy machine.
describe('parley CLI', { timeout: 90_000 }, () => {
  it('migrates, creates a user and a token the API accepts, and shuts down cleanly on SIGTERM', async () => {
    const migrate = await run(process.execPath, [...cli, 'migrate'], { env });
    expect(migrate.stdout).toMatch(/Applied: 0001_initial, 0002_event_log/);
    expect(existsSync(join(dir, 'parley.sqlite3'))).toBe(true);
    const again = await run(process.execPath, [...cli, 'migrate'], { env });
    expect(again.stdout).toMatch(/up to date/);

    const created = await run(process.execPath, [...cli, 'user', 'create', 'root', '--password', 'root-password', '--display-name', 'Root User'], { env });
    expect(created.stdout).toMatch(/Created user root \(id \d+\)/);
    const token = (await run(process.execPath, [...cli, 'token', 'create', 'root'], { env })).stdout.trim();
    expect(token).toMatch(/^[A-Za-z0-9_-]{40,}$/);

    const { child, url, exited } = await serve();
    const health = await fetch(`${url}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok' });
    const me = await fetch(`${url}/auth/me`, { headers: { authorization: `Token ${token}` } });
    expect(((await me.json()) as { display_name: string }).display_name).toBe('Root User');
    const page = await fetch(`${url}/`);
    expect(await page.text()).toMatch(/Create an account/);
    const docs = await fetch(`${url}/api/docs/`);
    expect(docs.status).toBe(200);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('refuses an unknown user and a bad configuration with a clear message and exit code 2', async () => {
    await expect(run(process.execPath, [...cli, 'token', 'create', 'ghost'], { env })).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/No such user: ghost/) });
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ messagesPerPage: 0, transport: 'pigeon', nope: 1 }));
    const err = await run(process.execPath, [...cli, '--config', bad, 'migrate'], { env }).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 2 });
    const stderr = (err as { stderr: string }).stderr;
    expect(stderr).toMatch(/messagesPerPage/);
    expect(stderr).toMatch(/transport/);
    expect(stderr).toMatch(/nope/);
    await expect(run(process.execPath, [...cli, 'serve'], { env: { ...env, PORT: 'eighty' } })).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/port \(from PORT\)/),
    });
  });
});

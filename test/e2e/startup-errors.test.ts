import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * What an operator sees when Parley cannot start: one or two lines that name the setting,
 * where it came from, the bad value and the fix; never a stack trace or a driver object.
 */
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'parley-startup-'));
const base = { ...process.env, PARLEY_DATA_DIR: dir, PARLEY_CONFIG: '', LOG_LEVEL: 'warn', DATABASE_URL: '', PORT: '', REDIS_URL: '' };
const PG = process.env.PARLEY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pgUp = await new Promise<boolean>((resolve) => {
  const u = new URL(PG);
  const socket = connect(Number(u.port || 5432), u.hostname, () => {
    socket.end();
    resolve(true);
  });
  socket.on('error', () => resolve(false));
});
if (!pgUp) console.warn(`[skipped] start-up errors with PostgreSQL: nothing listens at ${new URL(PG).host}`);

/** Runs `parley …`, expecting it to fail; returns its exit code and stderr. */
async function fails(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stderr: string; lines: string[] }> {
  const r = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env: { ...base, ...env } }).then(
    (ok) => ({ code: 0, stderr: ok.stderr }),
    (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
  );
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  expect(r.code, r.stderr).not.toBe(0);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  return { ...r, lines };
}

describe('start-up errors', { timeout: 60_000 }, () => {
  it('port in use: names the port, where it was set, and how to pick another', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const flag = await fails(['serve', '--port', String(port)]);
      expect(flag.lines).toHaveLength(2);
      expect(flag.stderr).toContain(`port ${port} (from --port) is already in use`);
      expect(flag.stderr).toMatch(/PORT=/);
      const env = await fails(['serve'], { PORT: String(port) });
      expect(env.stderr).toContain(`port ${port} (from PORT) is already in use`);
    } finally {
      blocker.close();
    }
  });

  it('--port abc says what a port looks like', async () => {
    const r = await fails(['serve', '--port', 'abc']);
    expect(r.stderr).toMatch(/--port.*'abc' is invalid.*0 to 65535/);
    expect(r.lines.length).toBeLessThanOrEqual(2);
  });

  it('a bad LOG_LEVEL lists the levels', async () => {
    const r = await fails(['migrate'], { LOG_LEVEL: 'loud' });
    expect(r.stderr).toContain('logLevel (from LOG_LEVEL): must be one of fatal, error, warn, info, debug, trace, silent (got "loud")');
    expect(r.lines).toHaveLength(2);
  });

  it('config-file errors name the file: a missing file, bad JSON, an unknown setting, a bad value', async () => {
    const missing = await fails(['--config', join(dir, 'nope.json'), 'migrate']);
    expect(missing.stderr).toContain(`config file ${join(dir, 'nope.json')} (from --config): no such file`);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"port": 3000,');
    expect((await fails(['--config', broken, 'migrate'])).stderr).toContain(`config file ${broken}: not valid JSON`);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ prot: 3000, transport: 'pigeon' }));
    const r = await fails(['--config', bad, 'migrate']);
    expect(r.stderr).toContain(`prot (in ${bad}): unknown setting`);
    expect(r.stderr).toContain(`transport (in ${bad}): must be one of websocket, polling (got "pigeon")`);
  });

  it('an unwritable data directory names the directory, the setting and the fix', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    const r = await fails(['migrate'], { PARLEY_DATA_DIR: join(file, 'data') });
    expect(r.stderr).toMatch(/dataDir \(from PARLEY_DATA_DIR\): cannot write .*a-file\/data \(ENOTDIR/);
    expect(r.stderr).toMatch(/writable directory/);
    // With a secret given, the database file itself is what cannot be made.
    const db = await fails(['migrate'], { PARLEY_DATA_DIR: join(file, 'data'), PARLEY_SECRET: 'a-secret-of-sixteen-chars' });
    expect(db.lines).toHaveLength(2);
    expect(db.stderr).toMatch(/the data directory .*a-file\/data \(dataDir, from PARLEY_DATA_DIR\): cannot create or open the SQLite database.*ENOTDIR/);
  });

  it.skipIf(!pgUp && process.env.PARLEY_REQUIRE_POSTGRES !== '1')('PostgreSQL: a missing database and a wrong port name host, port and cause', async () => {
    const url = new URL(PG);
    url.pathname = '/parley_no_such_database';
    const missing = await fails(['migrate'], { DATABASE_URL: url.toString() });
    expect(missing.lines).toHaveLength(2);
    expect(missing.stderr).toContain(`DATABASE_URL (from DATABASE_URL): database "parley_no_such_database" does not exist on PostgreSQL at ${url.hostname}:${url.port || '5432'}`);
    expect(missing.stderr).toMatch(/createdb/);
    url.pathname = '/test';
    url.port = '1';
    const wrongPort = await fails(['migrate'], { DATABASE_URL: url.toString() });
    expect(wrongPort.lines).toHaveLength(2);
    expect(wrongPort.stderr).toContain(`cannot reach PostgreSQL at ${url.hostname}:1 (connection refused`);
  });
});

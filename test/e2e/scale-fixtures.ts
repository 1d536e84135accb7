import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';
import { describe, it } from 'vitest';
import { Client, type TestServer, type TestUser } from './harness.js';

/**
 * Helpers of the scale-out tests (scale-*.test.ts): service probes with the same skip rules
 * as the contract suites, private PostgreSQL schemas, private Redis servers and `parley serve`
 * child processes.
 */

export const PG_URL = process.env.PARLEY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.PARLEY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The URL without its password, for test names and messages. */
export function shown(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparsable URL>';
  }
}

/** Null when PostgreSQL answers, else why not. */
export async function probePostgres(url = PG_URL): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (e) {
    return e instanceof Error ? e.message || e.name : String(e);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Null when Redis answers, else why not. */
export async function probeRedis(url = REDIS_URL): Promise<string | null> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  probe.on('error', () => {});
  try {
    await probe.connect();
    await probe.ping();
    return null;
  } catch (e) {
    return e instanceof Error ? e.message || e.name : String(e);
  } finally {
    probe.disconnect();
  }
}

export interface Need {
  name: string;
  /** Null: available; else why not. */
  missing: string | null;
  /** Fail instead of skipping when missing (PARLEY_REQUIRE_POSTGRES=1 / PARLEY_REQUIRE_REDIS=1). */
  required: boolean;
}

/**
 * `describe(title, body)` when every service is there. Otherwise a skipped suite whose name
 * says what is missing, or, when a missing service is required, one failing test saying so.
 */
export function describeWith(title: string, needs: Need[], body: () => void): void {
  const missing = needs.filter((n) => n.missing !== null);
  if (missing.length === 0) {
    describe(title, body);
    return;
  }
  const why = missing.map((n) => `${n.name}: ${n.missing}`).join('; ');
  if (missing.some((n) => n.required)) {
    describe(title, () => {
      it(`needs ${missing.map((n) => n.name).join(' and ')} (required by PARLEY_REQUIRE_*)`, () => {
        throw new Error(`not reachable — ${why}`);
      });
    });
  } else {
    console.warn(`[skipped] ${title} — not reachable: ${why}`);
    describe.skip(`${title} — skipped, not reachable: ${why}`, () => {
      it('skipped', () => {});
    });
  }
}

export const postgresNeed = async (): Promise<Need> => ({
  name: `PostgreSQL at ${shown(PG_URL)}`,
  missing: await probePostgres(),
  required: process.env.PARLEY_REQUIRE_POSTGRES === '1',
});

export const redisNeed = async (): Promise<Need> => ({
  name: `Redis at ${shown(REDIS_URL)}`,
  missing: await probeRedis(),
  required: process.env.PARLEY_REQUIRE_REDIS === '1',
});

export const randomName = (prefix: string): string => `${prefix}${randomBytes(6).toString('hex')}`;

/** Private schemas, dropped by `dropAll()` (call it in afterAll). */
export class Schemas {
  private readonly made: string[] = [];

  /** A fresh schema name; `migrate()` creates it. */
  fresh(): string {
    const schema = randomName('t_');
    this.made.push(schema);
    return schema;
  }

  async dropAll(): Promise<void> {
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      for (const schema of this.made.splice(0)) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await admin.end();
    }
  }
}

/** `PG_URL` with Parley's `schema=` (and `application_name=`) query parameters. */
export function databaseUrl(schema: string, applicationName?: string): string {
  const u = new URL(PG_URL);
  u.searchParams.set('schema', schema);
  if (applicationName) u.searchParams.set('application_name', applicationName);
  return u.toString();
}

/** Deletes the keys under a Redis prefix (presence sets left by the test's processes). */
export async function dropRedisPrefix(url: string, prefix: string): Promise<void> {
  const r = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A private `redis-server` on a given port, for tests that kill and restart it. */
export class PrivateRedis {
  private child: ChildProcess | null = null;

  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts it and waits until it answers PING. */
  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    this.child = child;
    const failed = new Promise<never>((_, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const missing = await Promise.race([probeRedis(this.url), failed]);
      if (missing === null) return;
      if (Date.now() > deadline) throw new Error(`redis-server on ${this.port} did not answer: ${missing}`);
      await sleep(50);
    }
  }

  /** Kills it at once (SIGKILL: no goodbye to the clients) and waits until it is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
  }
}

/** Whether `redis-server` can be run here. */
export async function redisServerAvailable(): Promise<string | null> {
  return new Promise((resolve) => {
    const child = spawn('redis-server', ['--version'], { stdio: 'ignore' });
    child.once('error', (e) => resolve(e.message));
    child.once('exit', (code) => resolve(code === 0 ? null : `redis-server --version exited with ${code}`));
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a value other than undefined, bounded. */
export async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 20_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(everyMs);
  }
}

// ── `parley serve` child processes ─────────────────────────────────────────

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** SIGTERM, then waits for the exit; SIGKILL if it takes longer than 15 s. */
  stop(): Promise<number | null>;
}

const CLI = ['--import', 'tsx', 'src/cli/main.ts'];

/**
 * Starts `parley serve --port 0 [args]` with `env` added to this process's environment and
 * resolves once it printed "Parley listening on URL".
 */
export function spawnServe(env: Record<string, string>, args: string[] = []): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...CLI, 'serve', '--port', '0', ...args], {
    env: { ...process.env, PARLEY_CONFIG: '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(force);
      return code;
    }
    return exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start within 90 s: ${out.slice(-4000)}`));
    }, 90_000);
    const onData = (b: Buffer) => {
      out += b.toString();
      const m = /Parley listening on (http:\/\/[^"\s]+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve({ url: m[1], child, output: () => out, exited, stop });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${out.slice(-4000)}`));
    });
  });
}

/** Something with a base URL, enough for `messaging-client.ts` (`connect`) and `live-fixtures.ts`. */
export const remote = (url: string): TestServer => ({ url }) as TestServer;

/** Registers a user over HTTP on `base`; its token works on every process of the deployment. */
export async function register(base: string, username: string): Promise<TestUser> {
  const anon = new Client(base);
  const r = await anon.post('/auth/register', { username, password: `pw-${username}-secret` });
  if (r.status !== 201) throw new Error(`register ${username}: ${r.status} ${r.text}`);
  return { id: r.body.user.id, username, token: r.body.token, client: new Client(base, r.body.token) };
}

/** The same user, talking to another process. */
export const on = (user: TestUser, base: string): TestUser => ({ ...user, client: new Client(base, user.token) });

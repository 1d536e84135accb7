import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import pg from 'pg';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ParleyApp, buildApp } from '../../src/app.js';
import { type ConfigFile, type ConfigHooks, loadConfig } from '../../src/config/index.js';
import type { Policy } from '../../src/core/index.js';
import type { MessagingHandlers } from '../../src/faces/messaging/face.js';
import { type Parley, type ParleyOptions, createParley } from '../../src/index.js';

/** A response as a test sees it. `body` is parsed JSON when the server sent JSON. */
export interface Res<B = any> {
  status: number;
  body: B;
  headers: Headers;
  text: string;
}

/** A tiny HTTP client bound to one server and, optionally, one token. */
export class Client {
  constructor(
    readonly base: string,
    readonly token: string | null = null,
  ) {}

  async request<B = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res<B>> {
    const h: Record<string, string> = { ...headers };
    if (this.token && !('authorization' in h)) h.authorization = `Token ${this.token}`;
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      h['content-type'] ??= 'application/json';
    }
    const r = await fetch(this.base + path, { method, headers: h, body: payload, redirect: 'manual' });
    const text = await r.text();
    let parsed: unknown = text;
    if ((r.headers.get('content-type') ?? '').includes('json') && text !== '') parsed = JSON.parse(text);
    return { status: r.status, body: parsed as B, headers: r.headers, text };
  }

  get = <B = any>(path: string, headers?: Record<string, string>) => this.request<B>('GET', path, undefined, headers);
  post = <B = any>(path: string, body?: unknown, headers?: Record<string, string>) => this.request<B>('POST', path, body, headers);
  put = <B = any>(path: string, body?: unknown) => this.request<B>('PUT', path, body);
  patch = <B = any>(path: string, body?: unknown) => this.request<B>('PATCH', path, body);
  delete = <B = any>(path: string) => this.request<B>('DELETE', path);
}

export interface TestUser {
  id: number;
  username: string;
  token: string;
  client: Client;
}

export interface TestServer {
  url: string;
  app: ParleyApp;
  /** An unauthenticated client. */
  anon: Client;
  /** Registers a user through the API and returns it with a client that sends its token. */
  user(username: string, extra?: { display_name?: string; email?: string }): Promise<TestUser>;
  close(): Promise<void>;
}

/** Tests register hundreds of users: a cheap hash keeps them fast (the default, 17, is tested on its own). */
const TEST_HASH_COST = 12;

/**
 * Starts a real Parley server on a random port with a fresh SQLite database in a temp dir.
 * Always pair with `afterAll(() => server.close())`.
 */
export async function startServer(
  config: ConfigFile = {},
  extra: { hooks?: ConfigHooks; policy?: Partial<Policy>; now?: () => Date; messagingHandlers?: MessagingHandlers } = {},
): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-test-'));
  const backend = await testBackend(config);
  const cfg = loadConfig({
    cwd: dir,
    env: {},
    overrides: { port: 0, host: '127.0.0.1', dataDir: dir, logLevel: 'silent', passwordHashCost: TEST_HASH_COST, ...backend.config, ...config },
    ...(extra.hooks ? { hooks: extra.hooks } : {}),
  });
  const app = await buildApp({
    config: cfg,
    ...(extra.policy ? { policy: extra.policy } : {}),
    ...(extra.now ? { now: extra.now } : {}),
    ...(extra.messagingHandlers ? { messagingHandlers: extra.messagingHandlers } : {}),
  });
  const url = await app.listen();
  const anon = new Client(url);
  return {
    url,
    app,
    anon,
    user: (username, more = {}) => register(anon, username, more),
    async close() {
      await app.close();
      await backend.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Registers a user through `/auth/register`; returns it with a client that sends its token. */
async function register(anon: Client, username: string, more: { display_name?: string; email?: string }): Promise<TestUser> {
  const r = await anon.post('/auth/register', { username, password: `pw-${username}-secret`, ...more });
  if (r.status !== 201) throw new Error(`register ${username}: ${r.status} ${r.text}`);
  return { id: r.body.user.id, username, token: r.body.token, client: new Client(anon.base, r.body.token) };
}

/** A Parley built through the public API (`createParley`), listening on a random port. */
export interface PublicServer {
  url: string;
  parley: Parley;
  anon: Client;
  /** Registers a user through `/auth/register` (built-in accounts must be on). */
  user(username: string, extra?: { display_name?: string; email?: string }): Promise<TestUser>;
  close(): Promise<void>;
}

/**
 * Starts Parley exactly as a host application would, with `createParley(options)` and
 * `listen()`, on a fresh SQLite file (or the PostgreSQL/Redis backend, as `startServer`).
 * Extension points are tested through this, the public API only.
 */
export async function startParley(options: ParleyOptions = {}): Promise<PublicServer> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-test-'));
  const backend = await testBackend(options);
  const parley = await createParley({ port: 0, host: '127.0.0.1', dataDir: dir, logLevel: 'silent', cwd: dir, passwordHashCost: TEST_HASH_COST, ...backend.config, ...options });
  const url = await parley.listen();
  const anon = new Client(url);
  return {
    url,
    parley,
    anon,
    user: (username, more = {}) => register(anon, username, more),
    async close() {
      await parley.close();
      await backend.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Where a test server keeps its data. By default a fresh SQLite file and the in-process
 * broker; with `PARLEY_TEST_BACKEND=postgres` the same black-box suite runs on a private
 * PostgreSQL schema and a private Redis key prefix (CI runs it both ways). A test that sets
 * its own `databaseUrl` or `redisUrl` keeps it.
 */
async function testBackend(config: ConfigFile): Promise<{ config: ConfigFile; drop: () => Promise<void> }> {
  if (process.env.PARLEY_TEST_BACKEND !== 'postgres' || config.databaseUrl !== undefined) return { config: {}, drop: async () => {} };
  const pgUrl = process.env.PARLEY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const redisUrl = process.env.PARLEY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const schema = `e2e_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.end();
  return {
    config: {
      databaseUrl: `${pgUrl}${pgUrl.includes('?') ? '&' : '?'}schema=${schema}`,
      ...(config.redisUrl === undefined ? { redisUrl: `${redisUrl}?prefix=${schema}:` } : {}),
    },
    async drop() {
      const c = new pg.Client({ connectionString: pgUrl });
      await c.connect();
      try {
        await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await c.end();
      }
    },
  };
}

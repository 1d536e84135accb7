import Fastify, { type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { mkdtempSync, rmSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { ConfigError, type Parley, type ParleyOptions, createParley } from '../../src/index.js';
import { Client } from './harness.js';
import { Peer } from './messaging-client.js';

/** Black-box tests of `createParley`: standalone, as a Fastify plugin, and attached to a plain Node server. */

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A Parley on an in-memory database that writes nothing outside a temp dir. */
function parleyWith(options: ParleyOptions = {}): Promise<Parley> {
  const cwd = mkdtempSync(join(tmpdir(), 'parley-embed-'));
  dirs.push(cwd);
  // A cheap password hash: these tests register users, not measure hashing.
  return createParley({ cwd, databaseUrl: ':memory:', logLevel: 'silent', passwordHashCost: 12, ...options });
}

async function register(base: string, username: string): Promise<{ id: number; token: string; client: Client }> {
  const r = await new Client(base).post('/auth/register', { username, password: `pw-${username}-secret` });
  if (r.status !== 201) throw new Error(`register ${username}: ${r.status} ${r.text}`);
  return { id: r.body.user.id, token: r.body.token, client: new Client(base, r.body.token) };
}

/** Opens a WebSocket and collects its JSON frames; rejects with the status of a refused upgrade. */
function openPeer(url: string): Promise<Peer> {
  const ws = new WebSocket(url);
  const peer = new Peer(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(peer));
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode })));
    ws.once('error', reject);
  });
}

const wsBase = (base: string) => base.replace(/^http/, 'ws');

/** Two users, a DM between them, a message sent over REST that both sockets see. */
async function chatWorks(base: string): Promise<void> {
  const ann = await register(base, `ann${Math.random().toString(36).slice(2, 8)}`);
  const ben = await register(base, `ben${Math.random().toString(36).slice(2, 8)}`);
  const messaging = await openPeer(`${wsBase(base)}/messaging/?token=${ben.token}`);
  await messaging.event('session.ready');
  const live = await openPeer(`${wsBase(base)}/messages/ws/?token=${ben.token}`);
  await live.next((f) => f.type === 'ready', 'ready');

  const chat = await ann.client.post('/messages/api/chats/', { chat_type: 'dm', member_ids: [ben.id] });
  expect(chat.status).toBe(201);
  const sent = await ann.client.post(`/messages/api/chats/${chat.body.id}/messages/`, { content: 'hello from the host' });
  expect(sent.status).toBe(201);
  const over = await live.next((f) => f.type === 'new_message', 'new_message');
  expect(over.message.content).toBe('hello from the host');
  const frame = await messaging.next((f) => JSON.stringify(f).includes('hello from the host'), 'the message on /messaging/');
  expect(frame.eventType).toBeTypeOf('string');
  messaging.close();
  live.close();
}

describe('createParley: standalone', () => {
  it('listens, serves everything including the sign-up page, and closes (twice is fine)', async () => {
    const parley = await parleyWith();
    const base = await parley.listen({ port: 0, host: '127.0.0.1' });
    const anon = new Client(base);
    expect((await anon.get('/healthz')).body).toEqual({ status: 'ok' });
    const home = await anon.get('/');
    expect(home.status).toBe(200);
    expect(home.headers.get('content-type')).toMatch(/text\/html/);
    await chatWorks(base);

    const peer = await openPeer(`${wsBase(base)}/messaging/?token=${(await register(base, 'carol')).token}`);
    await parley.close();
    expect((await peer.closed).code).toBe(1012);
    await parley.close();
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });

  it('validates options like the config file: a ConfigError naming each bad value', async () => {
    const bad = parleyWith({ port: 99_999, chatsPerPage: 0, ...({ typo: true } as object) });
    await expect(bad).rejects.toBeInstanceOf(ConfigError);
    await expect(bad).rejects.toThrow(/port[\s\S]*chatsPerPage|chatsPerPage[\s\S]*port/);
    await expect(bad).rejects.toThrow(/typo/);
  });

  it('takes hooks, policy and settings from code, and reads no environment unless asked', async () => {
    const parley = await parleyWith({
      hooks: { displayName: (u) => u.username.toUpperCase(), avatarUrl: (u) => `https://cdn.example.com/a/${u.username}.png` },
      policy: { canPost: async () => false },
      signupPage: false,
    });
    const base = await parley.listen({ port: 0, host: '127.0.0.1' });
    try {
      expect((await new Client(base).get('/')).status).toBe(404);
      const dan = await register(base, 'dan');
      expect((await dan.client.get('/auth/me')).body.display_name).toBe('DAN');
      const eve = await register(base, 'eve');
      const found = await dan.client.get('/messages/api/users/search/?q=eve');
      expect(found.status).toBe(200);
      expect(JSON.stringify(found.body)).toContain('"avatar_url":"https://cdn.example.com/a/eve.png"');
      expect(JSON.stringify(found.body)).toContain('"display_name":"EVE"');
      const chat = await dan.client.post('/messages/api/chats/', { chat_type: 'dm', member_ids: [eve.id] });
      expect((await dan.client.post(`/messages/api/chats/${chat.body.id}/messages/`, { content: 'hi' })).status).toBe(403);
    } finally {
      await parley.close();
    }
    const fromEnv = await parleyWith({ env: { PARLEY_REGISTRATION: 'false' } });
    expect(fromEnv.config.registrationEnabled).toBe(false);
    await fromEnv.close();
    const noEnv = await parleyWith();
    expect(noEnv.config.port).toBe(3000);
    await noEnv.close();
  });
});

describe('createParley: fastifyPlugin', () => {
  let host: FastifyInstance;
  let parley: Parley;
  afterEach(async () => {
    await host.close();
  });

  it('mounts Parley next to the host routes, on the host server, and closes with the host', async () => {
    parley = await parleyWith();
    host = Fastify();
    host.get('/', async () => ({ page: 'host home' }));
    host.get('/healthz', async () => ({ host: 'healthy' }));
    host.post<{ Body: { n: number } }>('/host/echo', async (request) => ({ got: request.body }));
    await host.register(parley.fastifyPlugin);
    const base = await host.listen({ port: 0, host: '127.0.0.1' });
    const anon = new Client(base);

    expect((await anon.get('/')).body).toEqual({ page: 'host home' });
    expect((await anon.get('/healthz')).body).toEqual({ host: 'healthy' });
    expect((await anon.post('/host/echo', { n: 1 })).body).toEqual({ got: { n: 1 } });
    const unknown = await anon.get('/not-parley');
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toMatch(/Route GET:\/not-parley not found/); // the host's 404

    await chatWorks(base);
    expect((await anon.get('/api/schema/')).body.openapi).toBe('3.0.3');
    expect((await anon.get('/auth/me')).status).toBe(401);
    // inject() goes through the plugin too.
    const injected = await host.inject({ method: 'GET', url: '/auth/me' });
    expect(injected.statusCode).toBe(401);
    expect(injected.json()).toEqual({ detail: 'Authentication credentials were not provided.' });

    const peer = await openPeer(`${wsBase(base)}/messaging/?token=${(await register(base, 'fred')).token}`);
    await peer.event('session.ready');
    await host.close();
    expect((await peer.closed).code).toBe(1012);
    await parley.close(); // already closed with the host: fine
  });

  it('registers into a host with a type provider', async () => {
    parley = await parleyWith();
    host = Fastify().withTypeProvider<TypeBoxTypeProvider>();
    await host.register(parley.fastifyPlugin);
    await host.ready();
    expect((await host.inject({ method: 'GET', url: '/api/schema/' })).statusCode).toBe(200);
  });
});

describe('createParley: attach and middleware on a plain node:http server', () => {
  const servers: Server[] = [];
  const parleys: Parley[] = [];
  afterEach(async () => {
    for (const p of parleys.splice(0)) await p.close();
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  });

  async function listen(server: Server): Promise<string> {
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** The host: `/host` is its page, anything else its own plain-text 404. */
  const hostHandler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    if (req.url === '/host') res.end('host page');
    else res.writeHead(404, { 'content-type': 'text/plain' }).end('host 404');
  };

  it('serves Parley paths and upgrades; everything else stays with the host, also its own WebSocket', async () => {
    const parley = await parleyWith();
    parleys.push(parley);
    const server = createServer(hostHandler);
    parley.attach(server);
    // Added after attach, and without a path filter it would take every upgrade: Parley's still work.
    const hostWs = new WebSocketServer({ server, path: '/host-ws' });
    hostWs.on('connection', (ws) => ws.on('message', (d) => ws.send(`echo ${d.toString()}`)));
    const base = await listen(server);
    const anon = new Client(base);

    expect((await anon.get('/host')).text).toBe('host page');
    for (const path of ['/', '/healthz', '/nothing', '/messages/api/not-a-route/', '/messaging/', '/static/site.css', '/static/parley-other.js']) {
      const r = await anon.get(path);
      expect([path, r.status, r.text]).toEqual([path, 404, 'host 404']);
    }
    await chatWorks(base);
    // Parley's own bundles, and only those, come from Parley.
    const bundle = await anon.get('/static/parley-widgets.js');
    expect([bundle.status, bundle.headers.get('content-type')]).toEqual([200, 'application/javascript; charset=utf-8']);
    // A Parley path under another method is Parley's answer, not the host's.
    expect((await anon.request('DELETE', '/auth/me')).body).toEqual({ detail: 'Not found.' });

    const echo = new WebSocket(`${wsBase(base)}/host-ws`);
    const reply = await new Promise<string>((resolve, reject) => {
      echo.once('open', () => echo.send('ping'));
      echo.once('message', (d) => resolve(d.toString()));
      echo.once('error', reject);
    });
    expect(reply).toBe('echo ping');
    echo.close();
    hostWs.close();
  });

  it('refuses an upgrade no one takes with 404 instead of leaving it hanging', async () => {
    const parley = await parleyWith();
    parleys.push(parley);
    const server = createServer(hostHandler);
    parley.attach(server);
    const base = await listen(server);
    await expect(openPeer(`${wsBase(base)}/elsewhere/`)).rejects.toMatchObject({ status: 404 });
    const ok = await openPeer(`${wsBase(base)}/messages/ws/?token=${(await register(base, 'gina')).token}`);
    await ok.next((f) => f.type === 'ready', 'ready');
    ok.close();
  });

  it('close() ends open streams and sockets, detaches, and leaves the host running', async () => {
    const parley = await parleyWith();
    const server = createServer(hostHandler);
    parley.attach(server);
    const base = await listen(server);
    const hal = await register(base, 'hal');
    const peer = await openPeer(`${wsBase(base)}/messaging/?token=${hal.token}`);
    await peer.event('session.ready');
    const poll = hal.client.get('/messages/api/events/?timeout=25');
    // The poll is waiting inside Parley before close starts.
    await new Promise((resolve) => setTimeout(resolve, 200));

    const started = Date.now();
    await parley.close();
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await poll).status).toBeLessThan(500);
    expect((await peer.closed).code).toBe(1012);
    await parley.close();

    expect((await new Client(base).get('/host')).text).toBe('host page');
    expect((await new Client(base).get('/auth/me')).text).toBe('host 404');
    await expect(openPeer(`${wsBase(base)}/messaging/`)).rejects.toBeDefined();
  });

  it('middleware: Parley answers its paths, next() gets the rest', async () => {
    const parley = await parleyWith();
    parleys.push(parley);
    const server = createServer((req, res) => parley.middleware(req, res, () => hostHandler(req, res)));
    server.on('upgrade', (req, socket, head) => {
      if (!parley.handleUpgrade(req, socket, head)) socket.destroy();
    });
    const base = await listen(server);
    expect((await new Client(base).get('/host')).text).toBe('host page');
    expect((await new Client(base).get('/nothing')).text).toBe('host 404');
    await chatWorks(base);
  });
});

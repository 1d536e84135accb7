import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as expressHost from '../../examples/express-host/server.js';
import * as fastifyPlugin from '../../examples/fastify-plugin/server.js';
import { Client } from './harness.js';
import { Peer } from './messaging-client.js';

/** Each example in examples/ runs here on a random port, as its README says it works. */

function openPeer(url: string, headers: Record<string, string> = {}): Promise<Peer> {
  const ws = new WebSocket(url, { headers });
  const peer = new Peer(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(peer));
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode })));
    ws.once('error', reject);
  });
}

/** The `name=value` pairs of a response's Set-Cookie headers, as a Cookie header. */
const cookieHeader = (headers: Headers): string =>
  headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');

describe('examples/express-host', () => {
  afterEach(() => expressHost.stop());

  it('logs in with its own session, signs the same user into Parley, and serves chat on its server', async () => {
    const { url } = await expressHost.start(0, { logLevel: 'silent' });
    const anon = new Client(url);

    // The host's own pages and login.
    const home = await anon.get('/');
    expect(home.text).toContain('action="/login"');
    expect((await anon.get('/account')).status).toBe(401);
    expect((await anon.get('/no-such-page')).status).toBe(404);
    expect((await anon.get('/no-such-page')).text).not.toContain('detail'); // Express's 404, not Parley's
    const wrong = await anon.request('POST', '/login', 'username=alice&password=nope', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(wrong.status).toBe(401);

    const login = async (username: string, password: string) => {
      const r = await anon.request('POST', '/login', new URLSearchParams({ username, password }).toString(), {
        'content-type': 'application/x-www-form-urlencoded',
      });
      expect(r.status).toBe(303);
      return cookieHeader(r.headers);
    };
    const alice = await login('alice', 'wonderland');
    const bob = await login('bob', 'builder');
    const page = await anon.get('/', { cookie: alice });
    expect(page.text).toContain('Hello, Alice Liddell');
    expect(page.text).toContain('<script type="module" src="/static/parley-widgets.js"></script>');
    expect((await anon.get('/account', { cookie: alice })).body).toEqual({ username: 'alice', name: 'Alice Liddell' });

    // Parley, on the same server, knows them by the host's login; its own sign-up is off.
    expect((await anon.post('/auth/register', { username: 'mallory', password: 'long enough pw' })).status).toBe(403);
    const meA = await anon.get('/auth/me', { cookie: alice });
    expect(meA.body).toMatchObject({ username: 'alice', display_name: 'Alice Liddell' });
    const meB = await anon.get('/auth/me', { cookie: bob });
    // Logging in again is the same Parley user.
    expect((await anon.get('/auth/me', { cookie: await login('alice', 'wonderland') })).body.id).toBe(meA.body.id);

    const socket = await openPeer(`${url.replace(/^http/, 'ws')}/messaging/`, { cookie: bob });
    await socket.event('session.ready');
    const chat = await anon.request('POST', '/messages/api/chats/', JSON.stringify({ chat_type: 'dm', member_ids: [meB.body.id] }), {
      cookie: alice,
      'content-type': 'application/json',
    });
    expect(chat.status).toBe(201);
    const sent = await anon.request('POST', `/messages/api/chats/${chat.body.id}/messages/`, JSON.stringify({ content: 'hi Bob' }), {
      cookie: alice,
      'content-type': 'application/json',
    });
    expect(sent.status).toBe(201);
    await socket.next((f) => JSON.stringify(f).includes('hi Bob'), 'the message');

    // Logging out of the host signs out of Parley too.
    await anon.post('/logout', undefined, { cookie: alice });
    expect((await anon.get('/auth/me', { cookie: alice })).status).toBe(401);

    await expressHost.stop();
    expect((await socket.closed).code).toBe(1001);
    await expect(fetch(`${url}/`)).rejects.toThrow();
  });
});

describe('examples/fastify-plugin', () => {
  afterEach(() => fastifyPlugin.stop());

  it('serves its own routes and Parley, WebSockets included, on one Fastify server', async () => {
    const { url, parley } = await fastifyPlugin.start(0, { logLevel: 'silent' });
    const anon = new Client(url);

    expect((await anon.get('/')).text).toContain('<h1>Shop</h1>');
    expect((await anon.get('/api/products')).body).toHaveLength(2);
    expect((await anon.post('/api/echo', { name: 'tea' })).body).toEqual({ youSent: { name: 'tea' } });
    expect((await anon.get('/no-such-page')).body.message).toMatch(/not found/); // the host's 404

    const reg = async (username: string) => {
      const r = await anon.post('/auth/register', { username, password: `${username}-password` });
      expect(r.status).toBe(201);
      return { id: r.body.user.id as number, client: new Client(url, r.body.token as string), token: r.body.token as string };
    };
    const buyer = await reg('buyer');
    const seller = await reg('seller');
    const relogin = await anon.post('/auth/login', { username: 'buyer', password: 'buyer-password' });
    expect(relogin.status).toBe(200);

    const socket = await openPeer(`${url.replace(/^http/, 'ws')}/messaging/?token=${seller.token}`);
    await socket.event('session.ready');
    const room = await buyer.client.get('/messages/api/rooms/?object=product:1');
    expect(room.status).toBe(200);
    const chat = await buyer.client.post('/messages/api/chats/', { chat_type: 'dm', member_ids: [seller.id] });
    expect(chat.status).toBe(201);
    expect((await buyer.client.post(`/messages/api/chats/${chat.body.id}/messages/`, { content: 'Is the teapot in stock?' })).status).toBe(201);
    await socket.next((f) => JSON.stringify(f).includes('Is the teapot in stock?'), 'the message');

    await fastifyPlugin.stop();
    expect((await socket.closed).code).toBe(1001);
    await parley.close(); // closed with the host already
    await expect(fetch(`${url}/`)).rejects.toThrow();
  });
});

import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as customPolicy from '../../examples/custom-policy/server.js';
import * as expressHost from '../../examples/express-host/server.js';
import * as fastifyPlugin from '../../examples/fastify-plugin/server.js';
import * as webhookReceiver from '../../examples/webhook-receiver/server.js';
import { Client, startParley } from './harness.js';
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
    expect((await socket.closed).code).toBe(1012);
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
    expect((await socket.closed).code).toBe(1012);
    await parley.close(); // closed with the host already
    await expect(fetch(`${url}/`)).rejects.toThrow();
  });
});

describe('examples/webhook-receiver', () => {
  const secret = 'example-webhook-secret-0123';
  afterEach(() => webhookReceiver.stop());

  it('accepts the webhooks of a real Parley, verified, and refuses forged or replayed ones', async () => {
    const receiver = await webhookReceiver.start(0, secret);
    const server = await startParley({ webhooks: [{ url: receiver.url, events: ['message_sent'], secret }] });
    try {
      const alice = await server.user('alice');
      const bob = await server.user('bob');
      const chat = await alice.client.post('/messages/api/chats/', { chat_type: 'dm', member_ids: [bob.id] });
      await alice.client.post(`/messages/api/chats/${chat.body.id}/messages/`, { content: 'ping the bot' });
      for (let i = 0; receiver.events.length === 0; i++) {
        if (i > 400) throw new Error('the receiver got no webhook');
        await new Promise((r) => setTimeout(r, 25));
      }
      expect(receiver.events).toEqual([
        expect.objectContaining({ type: 'message_sent', data: expect.objectContaining({ to: expect.objectContaining({ id: bob.id }) }) }),
      ]);
      expect(receiver.rejected).toBe(0);
    } finally {
      await server.close();
    }

    // Forged: signed with another secret; replayed: a valid signature from an hour ago.
    const body = JSON.stringify({ id: 'evt_forged', type: 'message_sent', created_at: new Date().toISOString(), data: {} });
    const post = (timestamp: number, key: string) =>
      fetch(receiver.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-parley-timestamp': String(timestamp),
          'x-parley-signature': `v1=${createHmac('sha256', key).update(`${timestamp}.${body}`).digest('hex')}`,
        },
        body,
      });
    const now = Math.floor(Date.now() / 1000);
    expect((await post(now, 'a-different-secret-entirely')).status).toBe(400);
    expect((await post(now - 3600, secret)).status).toBe(400);
    expect((await fetch(receiver.url, { method: 'POST', body })).status).toBe(400);
    expect(receiver.rejected).toBe(3);
    // The five-line check in the example's comment agrees with the helper: this one passes.
    expect((await post(now, secret)).status).toBe(204);
    expect(receiver.events.map((e) => e.id)).toContain('evt_forged');
  });
});

describe('examples/custom-policy', () => {
  afterEach(() => customPolicy.stop());

  const register = async (anon: Client, username: string) => {
    const r = await anon.post('/auth/register', { username, password: `pw-${username}-secret` });
    expect(r.status).toBe(201);
    return { id: r.body.user.id as number, token: r.body.token as string, client: new Client(anon.base, r.body.token) };
  };

  it('read-only groups take posts from admins only; the profanity filter masks every face', async () => {
    const { url } = await customPolicy.start(0, { logLevel: 'silent' });
    const anon = new Client(url);
    const admin = await register(anon, 'admin');
    const member = await register(anon, 'member');

    const news = await admin.client.post('/messages/api/chats/', { chat_type: 'group', title: 'News', member_ids: [member.id], metadata: { readOnly: true } });
    expect(news.status).toBe(201);
    expect(news.body.metadata).toEqual({ readOnly: true });
    // The host's metadata schema knows only `readOnly`.
    expect((await admin.client.post('/messages/api/chats/', { chat_type: 'group', title: 'X', metadata: { pinned: true } })).status).toBe(400);

    expect((await member.client.post(`/messages/api/chats/${news.body.id}/messages/`, { content: 'can I post?' })).status).toBe(403);
    const posted = await admin.client.post(`/messages/api/chats/${news.body.id}/messages/`, { content: 'Release day, heck yes' });
    expect(posted.status).toBe(201);
    expect(posted.body.content).toBe('Release day, **** yes');

    // An ordinary group: members post, and the filter applies over /messaging/ and /api/dm/ too.
    const team = await admin.client.post('/messages/api/chats/', { chat_type: 'group', title: 'Team', member_ids: [member.id] });
    const socket = await openPeer(`${url.replace(/^http/, 'ws')}/messaging/?token=${member.token}`);
    try {
      await socket.event('session.ready');
      socket.send('message.send', { room_id: team.body.id, content: 'darn this works' });
      expect((await socket.event('message.dispatch')).data.content).toBe('**** this works');
      expect((await socket.fail('message.send', { room_id: news.body.id, content: 'still read-only' })).code).toBe(4002);
    } finally {
      socket.close();
    }
    const dm = await member.client.post(`/api/dm/send/${admin.id}/`, { content: 'FRAK, sorry' });
    expect(dm.body.content).toBe('****, sorry');

    // Edits are filtered too, and allowed within the window.
    const edited = await admin.client.patch(`/messages/api/messages/${posted.body.id}/`, { content: 'Release day, darn right' });
    expect(edited.status).toBe(200);
    expect(edited.body.content).toBe('Release day, **** right');
  });

  it('refuses edits once the edit window has passed', async () => {
    const { url } = await customPolicy.start(0, { logLevel: 'silent', editWindowMs: 0 });
    const anon = new Client(url);
    const alice = await register(anon, 'alice');
    const chat = await alice.client.post('/messages/api/chats/', { chat_type: 'group', title: 'Notes' });
    const sent = await alice.client.post(`/messages/api/chats/${chat.body.id}/messages/`, { content: 'first draft' });
    // A window of 0 ms: closed as soon as the clock has moved past the send.
    while (Date.now() <= Date.parse(sent.body.created_at)) await new Promise((resolve) => setImmediate(resolve));
    const r = await alice.client.patch(`/messages/api/messages/${sent.body.id}/`, { content: 'second draft' });
    expect(r.status).toBe(403);
  });
});

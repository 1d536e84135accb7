import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  type FetchLike,
  type MessagesEvent,
  ParleyClient,
  type ParleyClientOptions,
  ParleyHttpError,
  type StateEvent,
  type WebSocketConstructor,
} from '../../client/src/index.js';
import { type TestServer, type TestUser, startServer } from './harness.js';

/**
 * The client SDK (`client/`) against a real server: `ws` as its WebSocket, the global fetch
 * (or a wrapper that injects failures) for REST.
 */

const API = '/messages/api';
let s: TestServer;
beforeAll(async () => {
  s = await startServer();
});
afterAll(() => s.close());

/** Clients made by a test; closed after it so no socket or poll outlives it. */
const clients: ParleyClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

let counter = 0;
const newUser = (prefix: string): Promise<TestUser> => s.user(`${prefix}${++counter}`);

async function group(owner: TestUser, members: TestUser[]): Promise<{ id: number }> {
  const r = await owner.client.post(`${API}/chats/`, { chat_type: 'group', title: 'sdk', member_ids: members.map((m) => m.id) });
  if (r.status !== 201) throw new Error(`create chat: ${r.status} ${r.text}`);
  return r.body;
}

async function restSend(user: TestUser, chatId: number, content: string): Promise<{ id: number }> {
  const r = await user.client.post(`${API}/chats/${chatId}/messages/`, { content });
  if (r.status !== 201) throw new Error(`send: ${r.status} ${r.text}`);
  return r.body;
}

/** A client for `user`, with `ws` and short reconnect delays; closed after the test. */
function sdk(user: TestUser, options: Partial<ParleyClientOptions> = {}): ParleyClient {
  const c = new ParleyClient({ baseUrl: s.url, token: user.token, WebSocket, backoff: { initialMs: 50, maxMs: 200 }, ...options });
  clients.push(c);
  return c;
}

/** Everything a client emits, in order. */
function record(c: ParleyClient): { events: MessagesEvent[]; states: StateEvent[]; contents: () => string[] } {
  const events: MessagesEvent[] = [];
  const states: StateEvent[] = [];
  c.on('event', (e) => events.push(e));
  c.on('state', (st) => states.push(st));
  const contents = () => events.flatMap((e) => (e.type === 'new_message' ? [e.message.content] : []));
  return { events, states, contents };
}

/** Waits, bounded, until `check` returns something other than undefined/false. */
async function waitFor<T>(check: () => T | undefined | false, what: string | (() => string), timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * A `ws` WebSocket whose instances the test can reach, and which can be "cut off": while
 * `blocked`, new sockets go to a path the server refuses (404 on upgrade), as a proxy would.
 */
function controllableWebSocket(): { Ctor: WebSocketConstructor; sockets: WebSocket[]; urls: URL[]; blocked: boolean } {
  const ctl = { Ctor: null as unknown as WebSocketConstructor, sockets: [] as WebSocket[], urls: [] as URL[], blocked: false };
  ctl.Ctor = class Controlled extends WebSocket {
    constructor(url: string) {
      const u = new URL(url);
      if (ctl.blocked) u.pathname = '/blocked/';
      ctl.urls.push(u);
      super(u.href);
      ctl.sockets.push(this);
    }
  };
  return ctl;
}

describe('WebSocket transport', () => {
  it('connects, and a message sent by another user over REST arrives exactly once', async () => {
    const [a, b] = [await newUser('wa'), await newUser('wb')];
    const chat = await group(a, [b]);
    const c = sdk(b, { transport: 'websocket' });
    const rec = record(c);
    const ready = await c.connect();
    expect(ready).toMatchObject({ transport: 'websocket', user_id: b.id, reconnected: false });
    expect(c.state).toBe('open');
    expect(c.cursor).toBe(ready.cursor);

    const sent = await restSend(a, chat.id, 'hello once');
    // A second message as a fence: once it is here, a duplicate of the first would be too.
    await restSend(a, chat.id, 'fence');
    await waitFor(() => rec.contents().includes('fence'), 'the fence message');
    const hello = rec.events.filter((e) => e.type === 'new_message' && e.message.content === 'hello once');
    expect(hello).toHaveLength(1);
    expect(hello[0]).toMatchObject({ type: 'new_message', chat_id: chat.id, message: { id: sent.id, sender: { id: a.id } } });
    expect(rec.contents()).toEqual(['hello once', 'fence']);
    // The cursor follows the events.
    const last = rec.events.at(-1);
    expect(last && 'cursor' in last ? last.cursor : null).toBe(c.cursor);
  });

  it('typed handlers get only their type, and on() returns an unsubscribe function', async () => {
    const [a, b] = [await newUser('ta'), await newUser('tb')];
    const chat = await group(a, [b]);
    const c = sdk(b, { transport: 'websocket' });
    const got: string[] = [];
    const off = c.on('new_message', (e) => got.push(e.message.content));
    const all = record(c);
    await c.connect();
    await restSend(a, chat.id, 'first');
    await waitFor(() => got.length === 1, 'first');
    off();
    await restSend(a, chat.id, 'second');
    await waitFor(() => all.contents().includes('second'), 'second (on the "event" listener)');
    expect(got).toEqual(['first']);
  });

  it('after the socket drops, it reconnects with the cursor and gets the 20 messages sent meanwhile exactly once, in order', async () => {
    const [a, b] = [await newUser('ra'), await newUser('rb')];
    const chat = await group(a, [b]);
    const net = controllableWebSocket();
    const c = sdk(b, { transport: 'websocket', WebSocket: net.Ctor });
    const rec = record(c);
    const readies: boolean[] = [];
    c.on('ready', (r) => readies.push(r.reconnected));
    await c.connect();
    await restSend(a, chat.id, 'before');
    await waitFor(() => rec.contents().includes('before'), 'the message before the drop');

    // The network goes away: the socket dies without a close handshake, and reconnects fail.
    net.blocked = true;
    net.sockets.at(-1)?.terminate();
    await waitFor(() => c.state === 'connecting', 'the client noticing the drop');
    const expected: string[] = [];
    for (let i = 1; i <= 20; i++) {
      expected.push(`missed ${i}`);
      await restSend(a, chat.id, `missed ${i}`);
    }
    await waitFor(
      () => net.urls.filter((u) => u.pathname === '/blocked/').length >= 2,
      () => `two refused reconnect attempts; tried ${net.urls.map(String).join(' ')}; states ${JSON.stringify(rec.states)}`,
    );
    expect(rec.contents()).toEqual(['before']);

    // The network comes back: the next attempt resumes from the cursor.
    net.blocked = false;
    await waitFor(() => rec.contents().length === 21, 'the 20 missed messages');
    await restSend(a, chat.id, 'after');
    await waitFor(() => rec.contents().includes('after'), 'a live message after the resume');
    expect(rec.contents()).toEqual(['before', ...expected, 'after']);
    expect(readies).toEqual([false, true]);
    expect(net.urls.at(-1)?.searchParams.get('cursor')).toBeTruthy();
    expect(rec.states.map((st) => st.state)).toEqual(['connecting', 'open', 'connecting', 'open']);
  });

  it('a server-side drop (the server terminates the socket) is resumed the same way', async () => {
    const [a, b] = [await newUser('sa'), await newUser('sb')];
    const chat = await group(a, [b]);
    const c = sdk(b, { transport: 'websocket' });
    const rec = record(c);
    await c.connect();
    const reconnected = new Promise<void>((resolve) => c.once('ready', () => resolve()));
    for (const conn of s.app.hub.connectionsOf(b.id)) {
      (conn as unknown as { ws?: { terminate(): void } }).ws?.terminate();
    }
    const sends = [];
    for (let i = 1; i <= 5; i++) sends.push(await restSend(a, chat.id, `m${i}`));
    await reconnected;
    await waitFor(() => rec.contents().length === 5, 'five messages');
    await restSend(a, chat.id, 'fence');
    await waitFor(() => rec.contents().length === 6, 'the fence');
    expect(rec.contents()).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'fence']);
  });

  it('a cursor the server cannot resume from gives `resync` with a fresh cursor, then live events', async () => {
    const [a, b] = [await newUser('xa'), await newUser('xb')];
    const chat = await group(a, [b]);
    const future = Buffer.from('c1:999999999').toString('base64url');
    const c = sdk(b, { transport: 'websocket', cursor: future });
    const resyncs: string[] = [];
    c.on('resync', (r) => resyncs.push(r.reason));
    const rec = record(c);
    await c.connect();
    expect(resyncs).toEqual(['invalid']);
    expect(c.cursor).not.toBe(future);
    await restSend(a, chat.id, 'after resync');
    await waitFor(() => rec.contents().includes('after resync'), 'a live message');
  });

  it('chat events are typed by their type: a new chat shows up as chat_created', async () => {
    const [a, b] = [await newUser('ca'), await newUser('cb')];
    const c = sdk(b, { transport: 'websocket' });
    const created: { id: number; chat_type: string; title: string | null }[] = [];
    c.on('chat_created', (e) => created.push({ id: e.chat.id, chat_type: e.chat.chat_type, title: e.chat.title }));
    await c.connect();
    const chat = await group(a, [b]);
    await waitFor(() => created.length === 1, 'chat_created');
    expect(created).toEqual([{ id: chat.id, chat_type: 'group', title: 'sdk' }]);
  });

  it('refused credentials are fatal: connect() rejects, the state is closed and it does not retry', async () => {
    const c = new ParleyClient({ baseUrl: s.url, token: 'not-a-token', WebSocket, transport: 'websocket', backoff: { initialMs: 10, maxMs: 20 } });
    clients.push(c);
    const errors: { detail: string; fatal: boolean }[] = [];
    c.on('error', (e) => errors.push(e));
    const rec = record(c);
    await expect(c.connect()).rejects.toThrow(/4001/);
    expect(c.state).toBe('closed');
    expect(errors).toEqual([{ detail: expect.stringContaining('4001'), fatal: true }]);
    await new Promise((r) => setTimeout(r, 100));
    expect(rec.states.map((st) => st.state)).toEqual(['connecting', 'closed']);
  });
});

describe('send()', () => {
  let a: TestUser;
  let b: TestUser;
  let chat: { id: number };
  beforeAll(async () => {
    [a, b] = [await newUser('na'), await newUser('nb')];
    chat = await group(a, [b]);
  });

  const history = async () => (await b.client.get(`${API}/chats/${chat.id}/messages/`)).body.results as { id: number; content: string; client_id: string | null }[];

  it('resolves with the message as the server stored it, with a generated client_id', async () => {
    const c = sdk(a);
    const m = await c.send(chat.id, 'stored?');
    expect(m).toMatchObject({ chat: chat.id, content: 'stored?', sender: { id: a.id }, parent_id: null });
    expect(m.client_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const detail = await a.client.get(`${API}/messages/${m.id}/`);
    expect(detail.body).toEqual(m);
    const reply = await c.send(chat.id, 'a reply', { parentId: m.id, clientId: 'my-own-id' });
    expect(reply).toMatchObject({ parent_id: m.id, client_id: 'my-own-id' });
  });

  it('a try that reached the server but lost its answer is retried with the same client_id: one message is stored', async () => {
    const bodies: string[] = [];
    let posts = 0;
    // The first POST reaches the server and is stored, then the "network" fails before the answer.
    const flaky: FetchLike = async (url, init) => {
      const response = await fetch(url, init);
      if (init?.method === 'POST') {
        bodies.push(init.body ?? '');
        if (++posts === 1) {
          await response.text();
          throw new TypeError('fetch failed: connection reset');
        }
      }
      return response;
    };
    const c = sdk(a, { fetch: flaky, sendRetry: { backoff: { initialMs: 10, maxMs: 20 } } });
    const m = await c.send(chat.id, 'exactly one please');
    expect(posts).toBe(2);
    expect(JSON.parse(bodies[0] ?? '{}').client_id).toBe(JSON.parse(bodies[1] ?? '{}').client_id);
    const stored = (await history()).filter((h) => h.content === 'exactly one please');
    expect(stored).toHaveLength(1);
    expect(stored[0]?.id).toBe(m.id);
    expect(m.client_id).toBe(JSON.parse(bodies[0] ?? '{}').client_id);
  });

  it('a 5xx is retried; a 4xx is not', async () => {
    let posts = 0;
    const unavailableOnce: FetchLike = async (url, init) => {
      if (init?.method === 'POST' && ++posts === 1) {
        return new Response(JSON.stringify({ detail: 'Service temporarily unavailable, try again.' }), {
          status: 503,
          headers: { 'content-type': 'application/json' },
        });
      }
      return fetch(url, init);
    };
    const c = sdk(a, { fetch: unavailableOnce, sendRetry: { backoff: { initialMs: 10, maxMs: 20 } } });
    const m = await c.send(chat.id, 'after a 503');
    expect(posts).toBe(2);
    expect(m.content).toBe('after a 503');

    posts = 0;
    const counting: FetchLike = async (url, init) => {
      if (init?.method === 'POST') posts++;
      return fetch(url, init);
    };
    const outsider = await newUser('no');
    const o = sdk(outsider, { fetch: counting, sendRetry: { backoff: { initialMs: 10, maxMs: 20 } } });
    const err = await o.send(chat.id, 'not a member').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ParleyHttpError);
    expect((err as ParleyHttpError).status).toBeGreaterThanOrEqual(400);
    expect((err as ParleyHttpError).status).toBeLessThan(500);
    expect(posts).toBe(1);
  });

  it('gives up after the configured number of attempts', async () => {
    let posts = 0;
    const down: FetchLike = async (url, init) => {
      if (init?.method === 'POST') {
        posts++;
        throw new TypeError('fetch failed: connection refused');
      }
      return fetch(url, init);
    };
    const c = sdk(a, { fetch: down, sendRetry: { attempts: 3, backoff: { initialMs: 5, maxMs: 10 } } });
    await expect(c.send(chat.id, 'never')).rejects.toThrow(/network error/);
    expect(posts).toBe(3);
  });
});

describe('long-polling transport', () => {
  it('receives events, exactly once and in order, with the cursor moving on', async () => {
    const [a, b] = [await newUser('pa'), await newUser('pb')];
    const chat = await group(a, [b]);
    const c = sdk(b, { transport: 'polling', pollTimeoutSeconds: 5 });
    const rec = record(c);
    const ready = await c.connect();
    expect(ready).toMatchObject({ transport: 'polling', user_id: null });
    for (let i = 1; i <= 5; i++) await restSend(a, chat.id, `p${i}`);
    await waitFor(() => rec.contents().length === 5, 'five messages');
    await restSend(a, chat.id, 'fence');
    await waitFor(() => rec.contents().includes('fence'), 'the fence');
    expect(rec.contents()).toEqual(['p1', 'p2', 'p3', 'p4', 'p5', 'fence']);
    expect(c.transport).toBe('polling');
  });

  it('resumes after a failed poll without losing or repeating events', async () => {
    const [a, b] = [await newUser('qa'), await newUser('qb')];
    const chat = await group(a, [b]);
    const net = { down: false, failures: 0 };
    const flaky: FetchLike = async (url, init) => {
      if (net.down && url.includes('/events/')) {
        net.failures++;
        throw new TypeError('fetch failed: network down');
      }
      return fetch(url, init);
    };
    const c = sdk(b, { transport: 'polling', pollTimeoutSeconds: 1, fetch: flaky });
    const rec = record(c);
    await c.connect();
    await restSend(a, chat.id, 'one');
    await waitFor(() => rec.contents().includes('one'), 'one');
    net.down = true;
    await waitFor(() => net.failures >= 1 && c.state === 'connecting', 'a failed poll');
    for (let i = 2; i <= 4; i++) await restSend(a, chat.id, `n${i}`);
    net.down = false;
    await waitFor(() => rec.contents().length === 4, 'the missed messages');
    await restSend(a, chat.id, 'fence');
    await waitFor(() => rec.contents().includes('fence'), 'the fence');
    expect(rec.contents()).toEqual(['one', 'n2', 'n3', 'n4', 'fence']);
  });

  it('a cursor the server cannot parse is dropped for "now", reported as resync, and polling goes on', async () => {
    const [a, b] = [await newUser('ga'), await newUser('gb')];
    const chat = await group(a, [b]);
    const c = sdk(b, { transport: 'polling', pollTimeoutSeconds: 5, cursor: 'not-a-cursor' });
    const resyncs: string[] = [];
    c.on('resync', (r) => resyncs.push(r.reason));
    const rec = record(c);
    await c.connect();
    expect(resyncs).toEqual(['invalid']);
    expect(c.cursor).not.toBe('not-a-cursor');
    await restSend(a, chat.id, 'after a bad cursor');
    await waitFor(() => rec.contents().includes('after a bad cursor'), 'a message');
  });

  it('`auto` falls back to polling when the WebSocket cannot open', async () => {
    const [a, b] = [await newUser('fa'), await newUser('fb')];
    const chat = await group(a, [b]);
    const net = controllableWebSocket();
    net.blocked = true;
    const c = sdk(b, { WebSocket: net.Ctor, pollTimeoutSeconds: 5 });
    const rec = record(c);
    const ready = await c.connect();
    expect(ready.transport).toBe('polling');
    expect(net.urls).toHaveLength(1);
    await restSend(a, chat.id, 'via polling');
    await waitFor(() => rec.contents().includes('via polling'), 'the message');
    expect(rec.states.map((st) => `${st.state}:${st.transport}`)).toEqual(['connecting:websocket', 'connecting:polling', 'open:polling']);
  });

  it('`auto` without any WebSocket implementation polls', async () => {
    const b = await newUser('nw');
    // Node 20 has no global WebSocket (a browser would): with none given, the client polls.
    const hasGlobal = (globalThis as { WebSocket?: unknown }).WebSocket !== undefined;
    const c = sdk(b, { WebSocket: undefined, pollTimeoutSeconds: 5 });
    const ready = await c.connect();
    expect(ready.transport).toBe(hasGlobal ? 'websocket' : 'polling');
  });
});

describe('presence and typing', () => {
  it('a presence event arrives when the other user connects and when they leave; presence() keeps it', async () => {
    const [a, b] = [await newUser('ya'), await newUser('yb')];
    await group(a, [b]);
    const ca = sdk(a, { transport: 'websocket' });
    const rec = record(ca);
    await ca.connect();
    expect(ca.presence(b.id)).toBeUndefined();

    const cb = sdk(b, { transport: 'websocket' });
    await cb.connect();
    const online = await waitFor(() => rec.events.find((e) => e.type === 'presence' && e.user_id === b.id && e.online), 'b online');
    expect(online).toEqual({ type: 'presence', user_id: b.id, online: true, last_seen: null });
    expect(ca.presence(b.id)).toEqual({ online: true, last_seen: null });
    expect(ca.onlineUsers()).toEqual([b.id]);

    cb.close();
    await waitFor(() => ca.presence(b.id)?.online === false, 'b offline');
    expect(ca.presence(b.id)?.last_seen).toEqual(expect.any(String));
    expect(ca.onlineUsers()).toEqual([]);
  });

  it.each(['websocket', 'polling'] as const)(
    'over %s, a contact online before I connect is online from the start; a stranger is not reported',
    async (transport) => {
      const [a, b, stranger] = [await newUser('sa'), await newUser('sb'), await newUser('ss')];
      await group(a, [b]);
      await group(b, [stranger]);
      const [cb, cs] = [sdk(b, { transport: 'websocket' }), sdk(stranger, { transport: 'websocket' })];
      await Promise.all([cb.connect(), cs.connect()]);
      const ca = sdk(a, { transport });
      await ca.connect();
      await waitFor(() => ca.presence(b.id)?.online, 'b online without a change of state');
      expect(ca.presence(b.id)).toEqual({ online: true, last_seen: null });
      expect(ca.presence(stranger.id)).toBeUndefined();
      expect(ca.onlineUsers()).toEqual([b.id]);
    },
  );

  it('typingController sends "typing" once for a burst of keystrokes and "stopped" on stop(), over the socket and over REST', async () => {
    const [a, b] = [await newUser('ka'), await newUser('kb')];
    const chat = await group(a, [b]);
    const watcher = sdk(b, { transport: 'websocket' });
    const rec = record(watcher);
    await watcher.connect();
    const typingEvents = () => rec.events.filter((e) => e.type === 'typing');

    for (const transport of ['websocket', 'polling'] as const) {
      const typist = sdk(a, { transport, pollTimeoutSeconds: 5 });
      await typist.connect();
      const before = typingEvents().length;
      const t = typist.typingController(chat.id, { refreshMs: 10_000, idleMs: 10_000 });
      t.keystroke();
      t.keystroke();
      t.keystroke();
      expect(t.active).toBe(true);
      await waitFor(() => typingEvents().length === before + 1, `typing (${transport})`);
      t.stop();
      expect(t.active).toBe(false);
      await waitFor(() => typingEvents().length === before + 2, `stopped typing (${transport})`);
      expect(typingEvents().slice(before)).toEqual([
        { type: 'typing', chat_id: chat.id, user_id: a.id, username: a.username, is_typing: true },
        { type: 'typing', chat_id: chat.id, user_id: a.id, username: a.username, is_typing: false },
      ]);
      typist.close();
    }
  });

  it('typingController says "stopped" by itself after idleMs without keystrokes', async () => {
    const [a, b] = [await newUser('ia'), await newUser('ib')];
    const chat = await group(a, [b]);
    const watcher = sdk(b, { transport: 'websocket' });
    const rec = record(watcher);
    await watcher.connect();
    const typist = sdk(a);
    const t = typist.typingController(chat.id, { idleMs: 100 });
    t.keystroke();
    await waitFor(() => rec.events.some((e) => e.type === 'typing' && !e.is_typing), 'stopped typing');
    expect(t.active).toBe(false);
  });
});

describe('without a server: duplicate frames', () => {
  /** A fake socket that plays a script of frames once opened. */
  function scripted(frames: unknown[]): WebSocketConstructor {
    return class Scripted {
      readyState = 0;
      onopen: ((e: object) => void) | null = null;
      onmessage: ((e: { data: string }) => void) | null = null;
      onclose: ((e: { code: number }) => void) | null = null;
      onerror: ((e: object) => void) | null = null;
      constructor(_url: string) {
        setTimeout(() => {
          this.readyState = 1;
          this.onopen?.({});
          for (const f of frames) this.onmessage?.({ data: JSON.stringify(f) });
        }, 0);
      }
      send(): void {}
      close(): void {
        this.readyState = 3;
      }
    };
  }

  it('an event whose cursor (or new message id) was already seen is dropped', async () => {
    const message = { id: 7, chat: 1, content: 'x', created_at: '', updated_at: '', is_edited: false, is_deleted: false, sender: { id: 2, username: 'u', display_name: 'U', avatar_url: '' }, reactions: [], read_by: [], parent_id: null, client_id: null };
    const c = new ParleyClient({
      baseUrl: 'http://127.0.0.1:9',
      transport: 'websocket',
      fetch: async () => {
        throw new Error('no HTTP in this test');
      },
      WebSocket: scripted([
        { type: 'ready', user_id: 1, cursor: 'c0' },
        { type: 'new_message', chat_id: 1, message, cursor: 'c1' },
        { type: 'new_message', chat_id: 1, message, cursor: 'c1' },
        { type: 'new_message', chat_id: 1, message, cursor: 'c1-again' },
        { type: 'message_deleted', chat_id: 1, message_id: 7, cursor: 'c2' },
        { type: 'message_deleted', chat_id: 1, message_id: 7, cursor: 'c2' },
      ]),
    });
    clients.push(c);
    const rec = record(c);
    await c.connect();
    await waitFor(() => rec.events.length >= 2, 'two events');
    await new Promise((r) => setTimeout(r, 20));
    expect(rec.events.map((e) => e.type)).toEqual(['new_message', 'message_deleted']);
    expect(c.cursor).toBe('c2');
  });
});

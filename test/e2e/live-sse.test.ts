import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../src/realtime/cursor.js';
import type { TestServer, TestUser } from './harness.js';
import { EVENTS, type SseClient, eventually, headCursor, openSse } from './live-fixtures.js';
import { API, createGroup, expectInvalid, expectStatus, newUser, send, startRestServer } from './rest-fixtures.js';

let s: TestServer;
beforeAll(async () => {
  s = await startRestServer();
});
afterAll(() => s.close());

const CURSOR = expect.stringMatching(/^[A-Za-z0-9_-]+$/);

describe('GET /messages/api/events/ as Server-Sent Events', () => {
  let a: TestUser;
  let b: TestUser;
  let outsider: TestUser;
  let chat: any;
  let side: any;
  let sb: SseClient;
  let so: SseClient;
  beforeAll(async () => {
    a = await newUser(s, 'ssa');
    b = await newUser(s, 'ssb');
    outsider = await newUser(s, 'sso');
    chat = await createGroup(a, [b], 'Streamed');
    side = await createGroup(a, [outsider], 'Streamed side');
    [sb, so] = await Promise.all([openSse(s, b), openSse(s, outsider)]);
    await Promise.all([sb.next('ready'), so.next('ready')]);
  });
  afterAll(async () => {
    await Promise.all([sb, so].map((c) => c?.close()));
  });

  it('is an event stream that starts with ready (its id is the cursor)', () => {
    expect(sb.status).toBe(200);
    expect(sb.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(sb.headers.get('cache-control')).toMatch(/no-cache/);
    const [ready] = sb.events.items;
    expect(ready).toEqual({ id: CURSOR, event: 'ready', data: { type: 'ready', user_id: b.id, cursor: ready?.id } });
  });

  it('new_message: id is the cursor, event the type, data the same frame as the WebSocket', async () => {
    const from = sb.events.items.length;
    const m = await send(a, chat.id, 'streamed hello');
    const e = await sb.next('new_message', (x) => x.data.message.id === m.id, from);
    expect(e.id).toBe(e.data.cursor);
    expect(e.data).toEqual({ type: 'new_message', chat_id: chat.id, message: expect.any(Object), cursor: CURSOR });
    expect(e.data.message).toEqual((await b.client.get(`${API}/messages/${m.id}/`)).body);
  });

  it('edits, reactions, reads, deletes and typing (typing has no id)', async () => {
    const from = sb.events.items.length;
    const m = await send(a, chat.id, 'stream edit');
    await a.client.patch(`${API}/messages/${m.id}/`, { content: 'stream edited' });
    await a.client.post(`${API}/messages/${m.id}/reactions/`, { emoji: '✨' });
    await a.client.post(`${API}/chats/${chat.id}/typing/`, { is_typing: true });
    await b.client.post(`${API}/chats/${chat.id}/mark-as-read/`);
    await a.client.delete(`${API}/messages/${m.id}/`);
    await sb.next('message_deleted', (x) => x.data.message_id === m.id, from);
    const got = sb.events.items.slice(from);
    expect(got.map((e) => e.event)).toEqual(['new_message', 'message_updated', 'reaction_updated', 'typing', 'read', 'message_deleted']);
    const typing = got[3]!;
    expect(typing).toEqual({ id: null, event: 'typing', data: { type: 'typing', chat_id: chat.id, user_id: a.id, username: a.username, is_typing: true } });
    for (const e of got) if (e.event !== 'typing') expect(e.id).toBe(e.data.cursor);
    await a.client.post(`${API}/chats/${chat.id}/typing/`, { is_typing: false });
  });

  it('a non-member never receives another chat’s events', async () => {
    const from = so.events.items.length;
    await send(a, chat.id, 'group only');
    const sentinel = await send(a, side.id, 'side only');
    await so.next('new_message', (x) => x.data.message.id === sentinel.id, from);
    expect(so.events.items.slice(from).filter((e) => e.data.chat_id === chat.id)).toEqual([]);
  });

  it('resumes from Last-Event-ID: 100 missed messages once, in order, then ready, then live', async () => {
    const c = await openSse(s, b);
    await c.next('ready');
    const m0 = await send(a, chat.id, 'before the break');
    const lastId = (await c.next('new_message', (x) => x.data.message.id === m0.id)).id as string;
    await c.close();

    const sent: number[] = [];
    for (let i = 1; i <= 100; i++) sent.push((await send(a, chat.id, `sse missed ${i}`)).id);
    // The API answers before the hub has logged the event; replay covers what is logged.
    await s.app.hub.flush();
    // EventSource sends Last-Event-ID and keeps its original URL: the header wins over ?cursor=.
    const r = await openSse(s, b, { lastEventId: lastId, cursor: await headCursor(b) });
    const ready = await r.next('ready');
    const before = r.events.items.slice(0, r.events.items.indexOf(ready));
    expect(before.map((e) => e.event).every((t) => t === 'new_message')).toBe(true);
    const ids = before.map((e) => e.data.message.id);
    expect(ids).toEqual(sent);
    expect(new Set(ids).size).toBe(100);
    expect(ready.id).toBe(before[99]!.id);
    const live = await send(a, chat.id, 'sse live');
    const sentinel = await send(a, chat.id, 'sse sentinel');
    await r.next('new_message', (x) => x.data.message.id === sentinel.id);
    expect(r.events.items.filter((e) => e.data.message?.id === live.id)).toHaveLength(1);
    await r.close();
  });

  it('resumes from ?cursor= too', async () => {
    const cursor = await headCursor(b);
    const m = await send(a, chat.id, 'by query cursor');
    await s.app.hub.flush(); // logged, so it is replayed (not delivered live after ready)
    const r = await openSse(s, b, { cursor });
    await r.next('ready');
    const e = await r.next('new_message');
    expect(e.data.message.id).toBe(m.id);
    expect(r.events.items.slice(0, 2).map((x) => x.event)).toEqual(['new_message', 'ready']);
    await r.close();
  });

  it('a cursor of ours it cannot resume from → event resync (id: the current cursor), then ready', async () => {
    const r = await openSse(s, b, { lastEventId: encodeCursor(10 ** 12) });
    const ready = await r.next('ready');
    const [resync] = r.events.items;
    expect(resync).toEqual({ id: CURSOR, event: 'resync', data: { type: 'resync', reason: 'invalid', cursor: resync?.id } });
    expect(ready.id).toBe(resync?.id);
    await r.close();
  });

  it('a garbage Last-Event-ID → resync "invalid" too (EventSource would give up on a 400)', async () => {
    const r = await openSse(s, b, { lastEventId: '%%%garbage' });
    await r.next('ready');
    expect(r.events.items[0]).toMatchObject({ event: 'resync', data: { type: 'resync', reason: 'invalid' } });
    await r.close();
  });

  it('an oversized Last-Event-ID → 400 JSON, no stream', async () => {
    const r = await b.client.get(EVENTS, { accept: 'text/event-stream', 'last-event-id': 'A'.repeat(500) });
    expectInvalid(r, 'last-event-id');
  });

  it('requires authentication (401 JSON, no stream)', async () => {
    const r = await s.anon.get(EVENTS, { accept: 'text/event-stream' });
    expectStatus(r, 401);
  });

  it('a client that disconnects leaves the hub', async () => {
    const c = await newUser(s, 'ssgone');
    const stream = await openSse(s, c);
    await stream.next('ready');
    expect(s.app.hub.connectionsOf(c.id).size).toBe(1);
    await stream.close();
    await eventually(() => s.app.hub.connectionsOf(c.id).size === 0, 'the SSE connection to be removed');
  });
});

describe('OpenAPI', () => {
  it('documents GET /messages/api/events/ under the "live" tag', async () => {
    const r = await s.anon.get('/api/schema/');
    expectStatus(r, 200);
    const op = r.body.paths['/messages/api/events/']?.get;
    expect(op).toBeDefined();
    expect(op.tags).toEqual(['live']);
    expect(op.description).toMatch(/Server-Sent Events/);
    expect(Object.keys(op.responses['200'].content)).toEqual(expect.arrayContaining(['application/json', 'text/event-stream']));
    expect(op.parameters.map((p: any) => p.name)).toEqual(expect.arrayContaining(['cursor', 'timeout', 'last-event-id']));
  });
});

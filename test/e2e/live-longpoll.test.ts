import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../src/realtime/cursor.js';
import type { TestServer, TestUser } from './harness.js';
import { EVENTS, bulkSend, connectWs, eventually, headCursor, longPoll, pollUntil, pollUrl, startPoll } from './live-fixtures.js';
import { API, NO_CREDENTIALS, createGroup, expectInvalid, expectStatus, newUser, send, startRestServer } from './rest-fixtures.js';

let s: TestServer;
beforeAll(async () => {
  s = await startRestServer();
});
afterAll(() => s.close());

const CURSOR = expect.stringMatching(/^[A-Za-z0-9_-]+$/);

describe('GET /messages/api/events/ (long-poll): requests', () => {
  let a: TestUser;
  beforeAll(async () => {
    a = await newUser(s, 'lpq');
  });

  it('requires authentication', async () => {
    const r = await s.anon.get(EVENTS);
    expectStatus(r, 401);
    expect(r.body).toEqual(NO_CREDENTIALS);
  });

  it('without a cursor: no events and the current cursor, at once', async () => {
    const started = Date.now();
    const r = await longPoll(a, { timeout: 30 });
    expectStatus(r, 200);
    expect(r.body).toEqual({ events: [], cursor: CURSOR });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it.each([
    ['timeout above 60', pollUrl({ timeout: 61 }), 'timeout'],
    ['negative timeout', pollUrl({ timeout: -1 }), 'timeout'],
    ['non-numeric timeout', `${EVENTS}?timeout=soon`, 'timeout'],
    ['empty cursor', `${EVENTS}?cursor=`, 'cursor'],
    ['a huge cursor', pollUrl({ cursor: 'A'.repeat(500) }), 'cursor'],
  ])('%s → 400 with details', async (_name, url, field) => {
    expectInvalid(await a.client.get(url), field);
  });

  // Not a 400: a client holding a cursor it cannot use (another server's, an older format,
  // a corrupted one) recovers the way it does on the WebSocket: refetch, continue from `cursor`.
  it.each([
    ['garbage', 'garbage!'],
    ['not in our format', Buffer.from('x1:5').toString('base64url')],
    ['ours, but from the future (another server)', encodeCursor(10 ** 12)],
  ])('a cursor that is %s → 200 with resync "invalid" and the current cursor, at once', async (_name, cursor) => {
    const head = await headCursor(a);
    const r = await longPoll(a, { cursor, timeout: 30 });
    expectStatus(r, 200);
    expect(r.body).toEqual({ events: [], cursor: head, resync: { reason: 'invalid' } });
    // The cursor it gives works.
    expect((await longPoll(a, { cursor: r.body.cursor, timeout: 0 })).body).toEqual({ events: [], cursor: head });
  });
});

describe('long-poll events', () => {
  let a: TestUser;
  let b: TestUser;
  let outsider: TestUser;
  let chat: any;
  let side: any;
  beforeAll(async () => {
    a = await newUser(s, 'lpa');
    b = await newUser(s, 'lpb');
    outsider = await newUser(s, 'lpo');
    chat = await createGroup(a, [b], 'Polling');
    side = await createGroup(a, [outsider], 'Polling side');
  });

  it('a pending poll returns when a message is sent', async () => {
    const cursor = await headCursor(b);
    // The poll is waiting on the hub before the message is sent.
    const { response } = await startPoll(s, b, cursor);
    const sent = await send(a, chat.id, 'poll me');
    const r = await response;
    expectStatus(r, 200);
    expect(r.body.events).toHaveLength(1);
    const [ev] = r.body.events;
    expect(ev).toEqual({ type: 'new_message', chat_id: chat.id, message: expect.any(Object), cursor: CURSOR });
    const rest = await b.client.get(`${API}/messages/${sent.id}/`);
    expect(ev.message).toEqual(rest.body);
    expect(r.body.cursor).toBe(ev.cursor);
    expect(r.body).not.toHaveProperty('resync');
  });

  it('nothing happens → no events and the same cursor after the timeout', async () => {
    const cursor = await headCursor(b);
    const started = Date.now();
    const r = await longPoll(b, { cursor, timeout: 0.3 });
    expectStatus(r, 200);
    expect(r.body).toEqual({ events: [], cursor });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('timeout=0 answers at once', async () => {
    const cursor = await headCursor(b);
    const r = await longPoll(b, { cursor, timeout: 0 });
    expect(r.body).toEqual({ events: [], cursor });
  });

  it('every event type, in order, from a cursor (replayed at once)', async () => {
    const cursor = await headCursor(b);
    const d = await newUser(s, 'lpd');
    const m = await send(a, chat.id, 'original');
    expectStatus(await a.client.patch(`${API}/messages/${m.id}/`, { content: 'changed' }), 200);
    expectStatus(await a.client.post(`${API}/messages/${m.id}/reactions/`, { emoji: '🔥' }), 200);
    expectStatus(await b.client.post(`${API}/chats/${chat.id}/mark-as-read/`), 200);
    expectStatus(await a.client.post(`${API}/chats/${chat.id}/members/add/`, { user_ids: [d.id] }), 200);
    expectStatus(await a.client.delete(`${API}/chats/${chat.id}/members/${d.id}/remove/`), 204);
    expectStatus(await a.client.delete(`${API}/messages/${m.id}/`), 204);

    // The log is written just after each REST answer: on a networked store the last events
    // may land after the first poll, so poll on from the cursor it returns.
    const { events, cursor: last } = await pollUntil(b, cursor, (got) => got.length >= 7);
    expect(events.map((e: any) => e.type)).toEqual([
      'new_message',
      'message_updated',
      'reaction_updated',
      'read',
      'member_added',
      'member_removed',
      'message_deleted',
    ]);
    expect(events[0].message).toMatchObject({ id: m.id, content: 'original', read_by: [a.id] });
    expect(events[1].message).toMatchObject({ id: m.id, content: 'changed', is_edited: true });
    expect(events[2]).toMatchObject({ message_id: m.id, user_id: a.id, emoji: '🔥', action: 'added', reactions: [{ emoji: '🔥', count: 1, users: [a.id] }] });
    expect(events[3]).toMatchObject({ user_id: b.id, message_id: m.id, chat_id: chat.id });
    expect(events[4]).toMatchObject({ user_ids: [d.id] });
    expect(events[5]).toMatchObject({ user_id: d.id });
    expect(events[6]).toEqual({ type: 'message_deleted', chat_id: chat.id, message_id: m.id, cursor: CURSOR });
    for (const e of events) expect(e.cursor).toEqual(CURSOR);
    expect(last).toBe(events[6].cursor);
    // Nothing after it: the next poll waits and times out with the same cursor.
    expect((await longPoll(b, { cursor: last, timeout: 0 })).body).toEqual({ events: [], cursor: last });
  });

  it('typing reaches a waiting poll (no cursor on it; the cursor stays)', async () => {
    const cursor = await headCursor(b);
    const { response } = await startPoll(s, b, cursor);
    expectStatus(await a.client.post(`${API}/chats/${chat.id}/typing/`, { is_typing: true }), 200);
    const r = await response;
    expect(r.body).toEqual({ events: [{ type: 'typing', chat_id: chat.id, user_id: a.id, username: a.username, is_typing: true }], cursor });
    await a.client.post(`${API}/chats/${chat.id}/typing/`, { is_typing: false });
  });

  it('a non-member never receives another chat’s events', async () => {
    const cursor = await headCursor(outsider);
    await send(a, chat.id, 'not for the outsider');
    const sentinel = await send(a, side.id, 'for the outsider');
    const { events } = await pollUntil(outsider, cursor, (es) => es.some((e) => e.message?.id === sentinel.id));
    expect(events.filter((e) => e.chat_id === chat.id)).toEqual([]);
  });

  it('a retried send with the same client_id → one message, ONE new_message', async () => {
    const cursor = await headCursor(b);
    const body = { content: 'idempotent', client_id: 'lp-retry-1' };
    const r1 = await a.client.post(`${API}/chats/${chat.id}/messages/`, body);
    const r2 = await a.client.post(`${API}/chats/${chat.id}/messages/`, body);
    expectStatus(r1, 201);
    expectStatus(r2, 200);
    expect(r2.body.id).toBe(r1.body.id);
    const sentinel = await send(a, chat.id, 'after retry');
    const { events } = await pollUntil(b, cursor, (es) => es.some((e) => e.message?.id === sentinel.id));
    expect(events.filter((e) => e.type === 'new_message' && e.message.client_id === 'lp-retry-1')).toHaveLength(1);
    const list = await b.client.get(`${API}/chats/${chat.id}/messages/`);
    expect(list.body.results.filter((x: any) => x.client_id === 'lp-retry-1')).toHaveLength(1);
  });

  it('THE resume test: 100 missed messages, looped with the returned cursor, exactly once, in order', async () => {
    const cursor = await headCursor(b);
    const sent: number[] = [];
    for (let i = 1; i <= 100; i++) sent.push((await send(a, chat.id, `missed ${i}`)).id);
    const { events, cursor: end } = await pollUntil(b, cursor, (es) => es.filter((e) => e.type === 'new_message').length >= 100);
    const ids = events.filter((e) => e.type === 'new_message').map((e) => e.message.id);
    expect(ids).toHaveLength(100);
    expect(new Set(ids).size).toBe(100);
    for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1]);
    expect(ids).toEqual(sent);
    // Then a live message arrives once, and nothing is repeated.
    const { response } = await startPoll(s, b, end);
    const live = await send(a, chat.id, 'live');
    const r = await response;
    expect(r.body.events.map((e: any) => e.message.id)).toEqual([live.id]);
  });

  it('a poll returns at most one log page (1,000 events) at once; the next poll the rest', async () => {
    const cursor = await headCursor(b);
    const sent = await bulkSend(s, a, chat.id, 1100, 'paged');
    const first = await longPoll(b, { cursor, timeout: 5 });
    expect(first.body.events).toHaveLength(1000);
    const second = await longPoll(b, { cursor: first.body.cursor, timeout: 5 });
    expect(second.body.events).toHaveLength(100);
    expect([...first.body.events, ...second.body.events].map((e: any) => e.message.id)).toEqual(sent);
  });

  it('a client that goes away stops waiting: its connection leaves the hub', async () => {
    const c = await newUser(s, 'lpgone');
    await createGroup(a, [c], 'Gone');
    const cursor = await headCursor(c);
    const abort = new AbortController();
    const pending = fetch(s.url + pollUrl({ cursor, timeout: 30 }), { headers: { authorization: `Token ${c.token}` }, signal: abort.signal }).catch(
      (e: unknown) => e,
    );
    await eventually(() => s.app.hub.connectionsOf(c.id).size === 1, 'the poll to be waiting');
    const [waiting] = [...s.app.hub.connectionsOf(c.id)];
    abort.abort();
    await pending;
    // The poll's own connection is gone; what may remain is the short presence lease.
    await eventually(() => !s.app.hub.connectionsOf(c.id).has(waiting!), 'the poll to be unregistered');
    expect(s.app.hub.connectionsOf(c.id).size).toBeLessThanOrEqual(1);
  });
});

describe('long-poll presence', () => {
  it('a user who polls again right away does not flip offline and online between polls', async () => {
    const a = await newUser(s, 'lppa');
    const b = await newUser(s, 'lppb');
    const g = await createGroup(a, [b], 'Presence poll');
    const wa = await connectWs(s, a);
    try {
      let cursor = await headCursor(b);
      for (let i = 0; i < 3; i++) cursor = (await longPoll(b, { cursor, timeout: 0 })).body.cursor;
      const sentinel = await send(b, g.id, 'sentinel');
      await wa.next('new_message', (x) => x.message.id === sentinel.id);
      const presence = wa.frames.items.filter((f) => f.type === 'presence' && f.user_id === b.id);
      expect(presence.map((p) => p.online)).toEqual([true]);
      expect((await s.app.hub.onlineUsers([b.id])).has(b.id)).toBe(true);
    } finally {
      await wa.close();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../src/realtime/cursor.js';
import type { TestServer, TestUser } from './harness.js';
import { type WsClient, bulkSend, connectWs, headCursor, openWs, within } from './live-fixtures.js';
import { API, createGroup, expectStatus, newUser, send, startRestServer } from './rest-fixtures.js';

let s: TestServer;
beforeAll(async () => {
  s = await startRestServer();
});
afterAll(() => s.close());

const CURSOR = expect.stringMatching(/^[A-Za-z0-9_-]+$/);

/** Sends a message and returns it as REST shows it to `viewer`. */
async function restMessage(viewer: TestUser, id: number): Promise<any> {
  const r = await viewer.client.get(`${API}/messages/${id}/`);
  expectStatus(r, 200);
  return r.body;
}

describe('/messages/ws/ events (seed 003 shapes)', () => {
  let a: TestUser;
  let b: TestUser;
  let outsider: TestUser;
  let chat: any;
  let side: any;
  let wa: WsClient;
  let wb: WsClient;
  let wo: WsClient;
  beforeAll(async () => {
    a = await newUser(s, 'wsa', { display_name: 'Alice Ws' });
    b = await newUser(s, 'wsb');
    outsider = await newUser(s, 'wso');
    chat = await createGroup(a, [b], 'Live');
    side = await createGroup(a, [outsider], 'Side');
    [wa, wb, wo] = await Promise.all([connectWs(s, a), connectWs(s, b), connectWs(s, outsider)]);
  });
  afterAll(async () => {
    await Promise.all([wa, wb, wo].map((c) => c?.close()));
  });

  it('ready says who I am and where the live events start', async () => {
    const ready = wb.frames.items.find((f) => f.type === 'ready');
    expect(ready).toEqual({ type: 'ready', user_id: b.id, cursor: CURSOR });
  });

  it('a REST send arrives as new_message with the REST message shape and a cursor', async () => {
    const from = wb.frames.items.length;
    const sent = await send(a, chat.id, 'hello live');
    const f = await wb.next('new_message', (x) => x.message.id === sent.id, from);
    expect(Object.keys(f).sort()).toEqual(['chat_id', 'cursor', 'message', 'type']);
    expect(f.chat_id).toBe(chat.id);
    expect(f.cursor).toEqual(CURSOR);
    expect(f.message).toEqual(await restMessage(b, sent.id));
    expect(f.message).toMatchObject({ content: 'hello live', reactions: [], read_by: [a.id], sender: { id: a.id, display_name: 'Alice Ws' } });
    // The sender's own sockets get it too.
    await wa.next('new_message', (x) => x.message.id === sent.id);
  });

  it('edit → message_updated, reaction → reaction_updated, delete → message_deleted', async () => {
    const m = await send(a, chat.id, 'to edit');
    const from = wb.frames.items.length;
    expectStatus(await a.client.patch(`${API}/messages/${m.id}/`, { content: 'edited' }), 200);
    const upd = await wb.next('message_updated', (x) => x.message.id === m.id, from);
    expect(upd).toMatchObject({ chat_id: chat.id, cursor: CURSOR, message: { id: m.id, chat: chat.id, content: 'edited', is_edited: true, is_deleted: false } });
    const rest = await restMessage(b, m.id);
    // Reactions and read receipts are not carried by message_updated (documented in encode.ts).
    expect({ ...upd.message, reactions: rest.reactions, read_by: rest.read_by }).toEqual(rest);

    expectStatus(await b.client.post(`${API}/messages/${m.id}/reactions/`, { emoji: '👍' }), 200);
    const re = await wa.next('reaction_updated', (x) => x.message_id === m.id);
    expect(re).toEqual({
      type: 'reaction_updated',
      chat_id: chat.id,
      message_id: m.id,
      reactions: [{ emoji: '👍', count: 1, users: [b.id] }],
      user_id: b.id,
      emoji: '👍',
      action: 'added',
      cursor: CURSOR,
    });
    expectStatus(await b.client.post(`${API}/messages/${m.id}/reactions/`, { emoji: '👍' }), 200);
    const removed = await wa.next('reaction_updated', (x) => x.message_id === m.id && x.action === 'removed');
    expect(removed.reactions).toEqual([]);

    expectStatus(await a.client.delete(`${API}/messages/${m.id}/`), 204);
    const del = await wb.next('message_deleted', (x) => x.message_id === m.id);
    expect(del).toEqual({ type: 'message_deleted', chat_id: chat.id, message_id: m.id, cursor: CURSOR });
  });

  it('REST typing → typing (no cursor), to the other members only', async () => {
    const from = wb.frames.items.length;
    const fromA = wa.frames.items.length;
    expectStatus(await a.client.post(`${API}/chats/${chat.id}/typing/`, { is_typing: true }), 200);
    const t = await wb.next('typing', (x) => x.is_typing === true, from);
    expect(t).toEqual({ type: 'typing', chat_id: chat.id, user_id: a.id, username: a.username, is_typing: true });
    expectStatus(await a.client.post(`${API}/chats/${chat.id}/typing/`, { is_typing: false }), 200);
    await wb.next('typing', (x) => x.is_typing === false, from);
    // Sentinel: a message after the typing events; a's socket saw no typing of its own.
    const m = await send(b, chat.id, 'sentinel typing');
    await wa.next('new_message', (x) => x.message.id === m.id, fromA);
    expect(wa.frames.items.slice(fromA).filter((f) => f.type === 'typing')).toEqual([]);
  });

  it('mark-as-read → read', async () => {
    const m = await send(a, chat.id, 'read me');
    expectStatus(await b.client.post(`${API}/chats/${chat.id}/mark-as-read/`), 200);
    const r = await wa.next('read', (x) => x.user_id === b.id && x.message_id === m.id);
    expect(r).toEqual({ type: 'read', chat_id: chat.id, user_id: b.id, message_id: m.id, upto_seq: expect.any(Number), read_at: expect.any(String), cursor: CURSOR });
    expect(new Date(r.read_at).toISOString()).toBe(r.read_at);
  });

  it('members add/remove → member_added / member_removed (the removed user is told too)', async () => {
    const d = await newUser(s, 'wsd');
    const wd = await connectWs(s, d);
    try {
      expectStatus(await a.client.post(`${API}/chats/${chat.id}/members/add/`, { user_ids: [d.id] }), 200);
      const added = await wb.next('member_added', (x) => x.user_ids.includes(d.id));
      expect(added).toEqual({ type: 'member_added', chat_id: chat.id, user_ids: [d.id], cursor: CURSOR });
      await wd.next('member_added', (x) => x.chat_id === chat.id);
      expectStatus(await a.client.delete(`${API}/chats/${chat.id}/members/${d.id}/remove/`), 204);
      const removed = await wb.next('member_removed', (x) => x.user_id === d.id);
      expect(removed).toEqual({ type: 'member_removed', chat_id: chat.id, user_id: d.id, cursor: CURSOR });
      await wd.next('member_removed', (x) => x.user_id === d.id);
      // No longer a member: d gets nothing more from this chat (sentinel: a DM-like side chat).
      const from = wd.frames.items.length;
      await send(a, chat.id, 'after d left');
      const own = await createGroup(a, [d], 'D side');
      const m = await send(a, own.id, 'sentinel d');
      await wd.next('new_message', (x) => x.message.id === m.id, from);
      expect(wd.frames.items.slice(from).filter((f) => f.chat_id === chat.id)).toEqual([]);
    } finally {
      await wd.close();
    }
  });

  it('chat_created / chat_updated / chat_deleted carry the chat', async () => {
    const g = await createGroup(a, [b], 'Temp');
    const created = await wb.next('chat_created', (x) => x.chat_id === g.id);
    expect(created).toEqual({ type: 'chat_created', chat_id: g.id, chat: { id: g.id, title: 'Temp', chat_type: 'group', object: null, is_public: false, metadata: {} }, cursor: CURSOR });
    expectStatus(await a.client.patch(`${API}/chats/${g.id}/`, { title: 'Renamed' }), 200);
    const upd = await wb.next('chat_updated', (x) => x.chat_id === g.id);
    expect(upd.chat.title).toBe('Renamed');
    expectStatus(await a.client.delete(`${API}/chats/${g.id}/`), 204);
    await wb.next('chat_deleted', (x) => x.chat_id === g.id);
  });

  it('a non-member never receives another chat’s events', async () => {
    const from = wo.frames.items.length;
    const m = await send(a, chat.id, 'private to the group');
    await a.client.post(`${API}/messages/${m.id}/reactions/`, { emoji: '🎉' });
    await a.client.post(`${API}/chats/${chat.id}/typing/`, { is_typing: true });
    // Events reach each user in order: once the side-chat message is there, the others would be.
    const sentinel = await send(a, side.id, 'sentinel');
    await wo.next('new_message', (x) => x.message.id === sentinel.id, from);
    const leaked = wo.frames.items.slice(from).filter((f) => f.chat_id === chat.id || f.message?.chat === chat.id);
    expect(leaked).toEqual([]);
    await a.client.post(`${API}/chats/${chat.id}/typing/`, { is_typing: false });
  });

  it('presence: a contact coming online is announced', async () => {
    const e = await newUser(s, 'wse');
    await createGroup(a, [e], 'Presence');
    const from = wa.frames.items.length;
    const we = await connectWs(s, e);
    const p = await wa.next('presence', (x) => x.user_id === e.id && x.online === true, from);
    expect(p).toEqual({ type: 'presence', user_id: e.id, online: true, last_seen: null });
    await we.close();
    const off = await wa.next('presence', (x) => x.user_id === e.id && x.online === false, from);
    expect(typeof off.last_seen).toBe('string');
  });
});

describe('/messages/ws/ client frames', () => {
  let a: TestUser;
  let b: TestUser;
  let chat: any;
  let wa: WsClient;
  let wb: WsClient;
  beforeAll(async () => {
    a = await newUser(s, 'cfa');
    b = await newUser(s, 'cfb');
    chat = await createGroup(a, [b], 'Frames');
    [wa, wb] = await Promise.all([connectWs(s, a), connectWs(s, b)]);
  });
  afterAll(async () => {
    await Promise.all([wa, wb].map((c) => c?.close()));
  });

  it('ping → pong', async () => {
    const from = wa.frames.items.length;
    wa.send({ type: 'ping' });
    expect(await wa.next('pong', undefined, from)).toEqual({ type: 'pong' });
  });

  it('typing frames reach the other members', async () => {
    const from = wb.frames.items.length;
    wa.send({ type: 'typing', chat_id: chat.id, is_typing: true });
    expect(await wb.next('typing', (x) => x.is_typing, from)).toEqual({ type: 'typing', chat_id: chat.id, user_id: a.id, username: a.username, is_typing: true });
    wa.send({ type: 'typing', chat_id: chat.id, is_typing: false });
    await wb.next('typing', (x) => !x.is_typing, from);
  });

  it.each([
    ['not JSON', '{nope', /JSON/],
    ['an array', '[1]', /object/],
    ['no type', '{"chat_id": 1}', /type/],
    ['an unknown type', '{"type": "send_message", "content": "x"}', /Unknown frame type/],
    ['typing without chat_id', '{"type": "typing", "is_typing": true}', /chat_id/],
    ['typing with a string is_typing', '{"type": "typing", "chat_id": 1, "is_typing": "yes"}', /is_typing/],
  ])('%s → error frame, and the socket stays open', async (_name, raw, detail) => {
    const from = wa.frames.items.length;
    wa.send(raw);
    const err = await wa.next('error', undefined, from);
    expect(Object.keys(err).sort()).toEqual(['detail', 'type']);
    expect(err.detail).toMatch(detail);
    wa.send({ type: 'ping' });
    await wa.next('pong', undefined, from);
    expect(wa.ws.readyState).toBe(wa.ws.OPEN);
  });

  it('typing in a chat I cannot see → error "Not found." (nothing internal)', async () => {
    const c = await newUser(s, 'cfc');
    const theirs = await createGroup(c, [b], 'Not yours');
    const from = wa.frames.items.length;
    wa.send({ type: 'typing', chat_id: theirs.id, is_typing: true });
    expect(await wa.next('error', undefined, from)).toEqual({ type: 'error', detail: 'Not found.' });
    wa.send({ type: 'typing', chat_id: 999_999_999, is_typing: true });
    expect(await wa.next('error', undefined, from + 1)).toEqual({ type: 'error', detail: 'Not found.' });
  });

  it('binary frames → error', async () => {
    const from = wa.frames.items.length;
    wa.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect((await wa.next('error', undefined, from)).detail).toMatch(/Binary/);
  });

  it('without credentials the socket is closed with 4001', async () => {
    const c = openWs(s, null);
    expect(await within(c.closed, 'the close')).toBe(4001);
    expect(c.frames.items).toEqual([]);
  });
});

describe('/messages/ws/ resume by cursor', () => {
  let a: TestUser;
  let b: TestUser;
  let chat: any;
  beforeAll(async () => {
    a = await newUser(s, 'rsa');
    b = await newUser(s, 'rsb');
    chat = await createGroup(a, [b], 'Resume');
  });

  it('after 100 missed messages: all of them exactly once, in order, then ready, then live', async () => {
    const first = await connectWs(s, b);
    const m0 = await send(a, chat.id, 'before');
    const last = (await first.next('new_message', (x) => x.message.id === m0.id)).cursor as string;
    await first.close();

    const sent: number[] = [];
    for (let i = 1; i <= 100; i++) sent.push((await send(a, chat.id, `missed ${i}`)).id);
    // The API answers before the hub has logged the event; replay covers what is logged.
    await s.app.hub.flush();

    const again = openWs(s, b, { cursor: last });
    await again.next('ready');
    const frames = again.frames.items;
    const readyAt = frames.findIndex((f) => f.type === 'ready');
    const replayed = frames.slice(0, readyAt);
    expect(replayed.every((f) => f.type === 'new_message')).toBe(true);
    const ids = replayed.map((f) => f.message.id);
    expect(ids).toHaveLength(100);
    expect(new Set(ids).size).toBe(100);
    for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1]);
    expect(ids).toEqual(sent);
    expect(replayed.map((f) => f.message.content)).toEqual(sent.map((_, i) => `missed ${i + 1}`));
    // Cursors increase too, and ready continues from the last one.
    expect(frames[readyAt]).toEqual({ type: 'ready', user_id: b.id, cursor: replayed[99].cursor });

    const live = await send(a, chat.id, 'live after ready');
    await again.next('new_message', (x) => x.message.id === live.id);
    const sentinel = await send(a, chat.id, 'sentinel');
    await again.next('new_message', (x) => x.message.id === sentinel.id);
    expect(again.frames.items.filter((f) => f.type === 'new_message' && f.message.id === live.id)).toHaveLength(1);
    expect(again.frames.items.filter((f) => f.type === 'ready')).toHaveLength(1);
    await again.close();
  });

  it('reconnecting while messages keep coming: every message once, in log order', async () => {
    // Repeated, because the race it guards (an event both replayed and delivered live) needs
    // the resume to overlap with writes the hub is still publishing.
    for (let round = 0; round < 5; round++) {
      const first = await connectWs(s, b);
      const m0 = await send(a, chat.id, `burst ${round} start`);
      const last = (await first.next('new_message', (x) => x.message.id === m0.id)).cursor as string;
      await first.close();

      const before: Promise<any>[] = [];
      for (let i = 0; i < 20; i++) before.push(send(a, chat.id, `burst ${round} a${i}`));
      // The client resumes while those are being written and published, and more come after.
      const c = openWs(s, b, { cursor: last });
      const after: Promise<any>[] = [];
      for (let i = 0; i < 20; i++) after.push(send(a, chat.id, `burst ${round} b${i}`));
      const sent = (await Promise.all([...before, ...after])).map((m) => m.id as number);
      const want = new Set(sent);
      await c.frames.until((fs) => fs.filter((f) => f.type === 'new_message' && want.has(f.message.id)).length >= sent.length, 'all burst messages');
      const sentinel = await send(a, chat.id, `burst ${round} sentinel`);
      await c.next('new_message', (x) => x.message.id === sentinel.id);

      const got = c.frames.items.filter((f) => f.type === 'new_message' && want.has(f.message.id)).map((f) => f.message.id);
      expect(got).toHaveLength(sent.length);
      expect(new Set(got)).toEqual(want);
      expect(c.frames.items.filter((f) => f.type === 'ready')).toHaveLength(1);
      // Log order: every cursor is past the one before (ready repeats the last replayed one).
      const nums = c.frames.items.filter((f) => 'cursor' in f).map((f) => Number(Buffer.from(f.cursor, 'base64url').toString().split(':')[1]));
      for (let i = 1; i < nums.length; i++) expect(nums[i]).toBeGreaterThanOrEqual(nums[i - 1] as number);
      await c.close();
    }
  });

  it('a replay longer than one log page (1,100 missed) arrives whole and in order before ready', async () => {
    const cursor = await headCursor(b); // the same cursors serve every transport
    const sent = await bulkSend(s, a, chat.id, 1100, 'paged');
    const c = openWs(s, b, { cursor });
    await c.next('ready');
    const ids = c.frames.items.filter((f) => f.type === 'new_message').map((f) => f.message.id);
    expect(ids).toEqual(sent);
    expect(c.frames.items[c.frames.items.length - 1].type).toBe('ready');
    await c.close();
  });

  it('a retried send with the same client_id is one message and ONE new_message', async () => {
    const wb = await connectWs(s, b);
    const body = { content: 'once only', client_id: 'retry-ws-1' };
    const r1 = await a.client.post(`${API}/chats/${chat.id}/messages/`, body);
    const r2 = await a.client.post(`${API}/chats/${chat.id}/messages/`, body);
    expectStatus(r1, 201);
    expectStatus(r2, 200);
    expect(r2.body.id).toBe(r1.body.id);
    const sentinel = await send(a, chat.id, 'after retry');
    await wb.next('new_message', (x) => x.message.id === sentinel.id);
    const got = wb.frames.items.filter((f) => f.type === 'new_message' && f.message.client_id === 'retry-ws-1');
    expect(got).toHaveLength(1);
    expect(got[0].message.id).toBe(r1.body.id);
    await wb.close();
  });

  it('a garbage cursor → resync "invalid" with the current cursor, then ready', async () => {
    const c = openWs(s, b, { cursor: 'not-a-cursor!' });
    const ready = await c.next('ready');
    const resync = c.frames.items[0];
    expect(resync).toEqual({ type: 'resync', reason: 'invalid', cursor: CURSOR });
    expect(ready.cursor).toBe(resync.cursor);
    // Still a working live socket.
    const m = await send(a, chat.id, 'after resync');
    await c.next('new_message', (x) => x.message.id === m.id);
    await c.close();
  });

  it('a cursor from the future (another server) → resync "invalid"', async () => {
    const c = openWs(s, b, { cursor: encodeCursor(10 ** 12) });
    await c.next('ready');
    expect(c.frames.items[0]).toMatchObject({ type: 'resync', reason: 'invalid' });
    await c.close();
  });
});

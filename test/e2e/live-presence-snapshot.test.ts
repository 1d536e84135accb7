import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCursor } from '../../src/realtime/cursor.js';
import type { TestServer, TestUser } from './harness.js';
import { type WsClient, connectWs, headCursor, longPoll, openSse } from './live-fixtures.js';
import { createGroup, expectStatus, newUser, send, startRestServer } from './rest-fixtures.js';

/**
 * A live connection learns, right after `ready`, who among the people it shares a chat with is
 * online already: presence is right from the first second, not only from the next change.
 */
let s: TestServer;
beforeAll(async () => {
  s = await startRestServer();
});
afterAll(() => s.close());

/** Waits until the broker's presence of `user` is `online` (it changes after the hub's queue). */
async function presenceIs(user: TestUser, online: boolean): Promise<void> {
  const end = Date.now() + 10_000;
  while ((await s.app.hub.onlineUsers([user.id])).has(user.id) !== online) {
    if (Date.now() > end) throw new Error(`user ${user.id} never became ${online ? 'online' : 'offline'}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const online = (u: TestUser) => ({ type: 'presence', user_id: u.id, online: true, last_seen: null });

describe('presence snapshot on connect', () => {
  // a and b share a chat; d shares one with b but is offline; c is a stranger to b, online.
  let a: TestUser;
  let b: TestUser;
  let c: TestUser;
  let d: TestUser;
  let chat: any;
  let wa: WsClient;
  let wc: WsClient;
  beforeAll(async () => {
    [a, b, c, d] = await Promise.all([newUser(s, 'psa'), newUser(s, 'psb'), newUser(s, 'psc'), newUser(s, 'psd')]);
    chat = await createGroup(a, [b], 'Snapshot');
    await createGroup(b, [d], 'Snapshot offline');
    await createGroup(a, [c], 'Snapshot stranger');
    [wa, wc] = await Promise.all([connectWs(s, a), connectWs(s, c)]);
    await Promise.all([presenceIs(a, true), presenceIs(c, true)]);
  });
  afterAll(async () => {
    await Promise.all([wa, wc].map((w) => w?.close()));
  });

  it('/messages/ws/: ready, then the online contacts — not strangers, not offline contacts — then live events', async () => {
    const head = await headCursor(b);
    const wb = await connectWs(s, b);
    try {
      await wb.next('presence');
      const m = await send(a, chat.id, 'after the snapshot');
      await wb.next('new_message', (f) => f.message.id === m.id);
      const frames = wb.frames.items;
      // The snapshot is not in the log: ready's cursor is the head, and the next event follows it.
      expect(frames.slice(0, 2)).toEqual([{ type: 'ready', user_id: b.id, cursor: head }, online(a)]);
      expect(frames.filter((f) => f.type === 'presence')).toEqual([online(a)]);
      expect(frames[2]).toMatchObject({ type: 'new_message', message: { id: m.id } });
      expect(decodeCursor(frames[2].cursor)).toBeGreaterThan(decodeCursor(head) ?? Infinity);
    } finally {
      await wb.close();
    }
  });

  it('SSE: ready, then a presence event without an id for each online contact', async () => {
    const sb = await openSse(s, b);
    try {
      await sb.next('presence');
      const m = await send(a, chat.id, 'sse after the snapshot');
      await sb.next('new_message', (e) => e.data.message.id === m.id);
      const [ready, presence, next] = sb.events.items;
      expect(ready?.event).toBe('ready');
      expect(presence).toEqual({ id: null, event: 'presence', data: online(a) });
      expect(next).toMatchObject({ event: 'new_message', data: { message: { id: m.id } } });
      expect(sb.events.items.filter((e) => e.event === 'presence')).toHaveLength(1);
    } finally {
      await sb.close();
    }
  });

  it('long-poll: the first poll of a session carries the snapshot, the next ones do not', async () => {
    const first = await longPoll(b);
    expectStatus(first, 200);
    expect(first.body.events).toEqual([online(a)]);
    const again = await longPoll(b, { cursor: first.body.cursor, timeout: 0 });
    expect(again.body).toEqual({ events: [], cursor: first.body.cursor });
  });

  it('a contact who went offline is not in the snapshot', async () => {
    const e = await newUser(s, 'pse');
    await createGroup(e, [b], 'Snapshot gone');
    const we = await connectWs(s, e);
    await presenceIs(e, true);
    await we.close();
    await presenceIs(e, false);
    const wb = await connectWs(s, b);
    try {
      const m = await send(a, chat.id, 'sentinel');
      await wb.next('new_message', (f) => f.message.id === m.id);
      // (With Redis, e's own `online: false` event may still be on its way: it is live news.)
      expect(wb.frames.items.filter((f) => f.type === 'presence' && f.online)).toEqual([online(a)]);
      expect(wb.frames.items[1]).toEqual(online(a));
    } finally {
      await wb.close();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, type TestUser, startServer } from './harness.js';
import { connectWs, headCursor, longPoll, openSse, openWs } from './live-fixtures.js';
import { createGroup, newUser, send } from './rest-fixtures.js';

const HOUR = 3_600_000;
let clock = Date.parse('2025-03-01T12:00:00Z');
let s: TestServer;
beforeAll(async () => {
  s = await startServer({ eventRetentionHours: 1 }, { now: () => new Date(clock) });
});
afterAll(() => s.close());

/**
 * The log keeps `eventRetentionHours`: a client whose cursor points before what was pruned
 * is told to resync ("expired") with the current cursor, on every transport.
 */
describe('resuming from a cursor older than the event log', () => {
  let a: TestUser;
  let b: TestUser;
  let chat: any;
  let old: string;
  let head: string;
  beforeAll(async () => {
    a = await newUser(s, 'exa');
    b = await newUser(s, 'exb');
    chat = await createGroup(a, [b], 'Expiring');
    old = await headCursor(b);
    await send(a, chat.id, 'will be pruned');
    // The API answers before the hub logs the event: log it before the clock moves.
    await s.app.hub.flush();
    clock += 2 * HOUR;
    // Something newer than the retention window stays in the log.
    await send(a, chat.id, 'still in the log');
    await s.app.hub.flush();
    expect(await s.app.hub.prune()).toBeGreaterThan(0);
    head = await headCursor(b);
  });

  it('long-poll → 200, resync "expired", the current cursor', async () => {
    const r = await longPoll(b, { cursor: old, timeout: 5 });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ events: [], cursor: head, resync: { reason: 'expired' } });
  });

  it('/messages/ws/ → resync "expired", then ready at the current cursor, then live events', async () => {
    const c = openWs(s, b, { cursor: old });
    const ready = await c.next('ready');
    expect(c.frames.items[0]).toEqual({ type: 'resync', reason: 'expired', cursor: head });
    expect(ready.cursor).toBe(head);
    const m = await send(a, chat.id, 'after resync');
    await c.next('new_message', (f) => f.message.id === m.id);
    await c.close();
    await s.app.hub.flush();
    head = await headCursor(b);
  });

  it('SSE → event resync "expired" (id: the current cursor), then ready', async () => {
    const r = await openSse(s, b, { lastEventId: old });
    await r.next('ready');
    expect(r.events.items[0]).toEqual({ id: head, event: 'resync', data: { type: 'resync', reason: 'expired', cursor: head } });
    await r.close();
  });

  it('a cursor inside the window still resumes normally', async () => {
    const cursor = await headCursor(b);
    const m = await send(a, chat.id, 'recent');
    const r = await longPoll(b, { cursor, timeout: 5 });
    expect(r.body.resync).toBeUndefined();
    expect(r.body.events.map((e: any) => e.message?.id)).toEqual([m.id]);
  });

  it('when pruning empties the whole log, an old cursor is still "expired"', async () => {
    const c = await newUser(s, 'exc');
    const g = await createGroup(a, [c], 'Emptied');
    const before = await headCursor(c);
    await send(a, g.id, 'gone');
    await s.app.hub.flush(); // logged before the clock moves, so the prune removes it
    clock += 2 * HOUR;
    await s.app.hub.prune();
    const r = await longPoll(c, { cursor: before, timeout: 0 });
    expect(r.body.resync).toEqual({ reason: 'expired' });
  });
});

describe('a fresh connection is unaffected by retention', () => {
  it('connects at the head', async () => {
    const u = await newUser(s, 'exf');
    const c = await connectWs(s, u);
    expect(c.frames.items).toEqual([{ type: 'ready', user_id: u.id, cursor: expect.any(String) }]);
    await c.close();
  });
});

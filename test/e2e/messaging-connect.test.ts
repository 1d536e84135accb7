import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../src/realtime/cursor.js';
import { type TestServer, type TestUser, startServer } from './harness.js';
import { type Peer, connect, ev, manualClock, openSocket, wsUrl } from './messaging-client.js';

const INACTIVITY = 60;
const clock = manualClock();
let s: TestServer;
let alice: TestUser;
let bob: TestUser;
const peers: Peer[] = [];
const open = async (u: TestUser, query?: Record<string, string>) => {
  const p = await connect(s, u.token, query ? { query } : {});
  peers.push(p);
  return p;
};

beforeAll(async () => {
  s = await startServer({ inactivityThreshold: INACTIVITY }, { now: clock.now });
  alice = await s.user('alice', { display_name: 'Alice A' });
  bob = await s.user('bob');
});
afterAll(async () => {
  for (const p of peers) p.close();
  await s.close();
});

/** Creates a group over the REST API and returns its id. */
async function group(owner: TestUser, members: TestUser[], title = 'G'): Promise<number> {
  const r = await owner.client.post('/messages/api/chats/', { chat_type: 'group', title, member_ids: members.map((m) => m.id) });
  expect(r.status).toBe(201);
  return r.body.id;
}

async function restSend(u: TestUser, room: number, content: string): Promise<any> {
  const r = await u.client.post(`/messages/api/chats/${room}/messages/`, { content });
  expect(r.status).toBe(201);
  return r.body;
}

describe('connecting', () => {
  it('closes with 4001 without a token, and with a bad one', async () => {
    for (const token of [null, 'not-a-token']) {
      const ws = new WebSocket(wsUrl(s, { token }));
      const closed = await new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
      expect(closed.code).toBe(4001);
    }
  });

  it('accepts the token in the Authorization header too', async () => {
    const ws = new WebSocket(wsUrl(s), { headers: { authorization: `Token ${alice.token}` } });
    const first = await new Promise<any>((resolve) => ws.once('message', (d) => resolve(JSON.parse(d.toString()))));
    expect(first.eventType).toBe('chat.notifications');
    ws.close();
  });

  it('refuses a foreign Origin (403) and allows the server’s own', async () => {
    await expect(openSocket(s, { token: alice.token, origin: 'http://evil.example' })).rejects.toMatchObject({ status: 403 });
    const ws = await openSocket(s, { token: alice.token, origin: s.url });
    ws.close();
  });

  it('sends chat.notifications then session.ready with the user id and the head cursor', async () => {
    const p = await open(bob);
    expect(p.notifications).toEqual({ eventType: 'chat.notifications', data: [] });
    await s.app.hub.flush();
    expect(p.ready).toEqual({ eventType: 'session.ready', data: { user_id: bob.id, cursor: await s.app.hub.headCursor() } });
  });

  it('answers session.heartbeat with {"status": "success"}', async () => {
    const p = await open(alice);
    p.send('session.heartbeat', {});
    expect(await p.next((f) => 'status' in f)).toEqual({ status: 'success' });
  });
});

describe('sessions expire without heartbeats', () => {
  it('closes a session after inactivityThreshold seconds without a heartbeat (4000, "session expired")', async () => {
    const quiet = await open(alice);
    const beating = await open(alice);
    clock.advance((INACTIVITY - 10) * 1000);
    await beating.heartbeat();
    s.app.sweep();
    expect(quiet.ws.readyState).toBe(WebSocket.OPEN);
    clock.advance(11 * 1000);
    s.app.sweep();
    expect(await quiet.closed).toEqual({ code: 4000, reason: 'session expired' });
    // The other one sent a heartbeat 11 s ago: still open and working.
    await beating.heartbeat();
    expect(beating.ws.readyState).toBe(WebSocket.OPEN);
    clock.advance((INACTIVITY + 1) * 1000);
    s.app.sweep();
    expect((await beating.closed).code).toBe(4000);
  });
});

describe('pending notifications', () => {
  it('sends unacknowledged messages grouped by room on connect; acknowledging clears them', async () => {
    const carol = await s.user('carol');
    const dave = await s.user('dave', { display_name: 'Dave D' });
    const g1 = await group(dave, [carol], 'N1');
    const g2 = await group(dave, [carol], 'N2');
    await restSend(carol, g2, 'mine'); // one's own messages are never pending
    const m1 = await restSend(dave, g1, 'one');
    const m2 = await restSend(dave, g1, 'two');
    const m3 = await restSend(dave, g2, 'three');

    const p = await open(carol);
    const sender = { id: dave.id, username: 'dave', display_name: 'Dave D', avatar_url: `/avatars/${dave.id}.svg` };
    const msg = (m: any, room: number) => ({
      id: m.id,
      room_id: room,
      sender,
      content: m.content,
      created_at: clock.now().toISOString(),
      updated_at: clock.now().toISOString(),
      is_edited: false,
      is_deleted: false,
      parent_message_id: null,
      forwarded_from_id: null,
      parent: null,
      attachments: [],
      reactions: [],
      client_id: null,
      metadata: {},
    });
    expect(p.notifications?.data).toEqual([
      { room_id: g1, count: 2, messages: [msg(m1, g1), msg(m2, g1)] },
      { room_id: g2, count: 1, messages: [msg(m3, g2)] },
    ]);

    // Acknowledge the newest of g1 (covers both) and m3; the sender hears about it.
    const daveWs = await open(dave);
    p.send('message.acknowledged', { message_id: [String(m2.id), m3.id] });
    const d1 = await daveWs.event('messagedelivered.dispatch', (d) => d.room_id === g1);
    expect(d1.data).toEqual({ message_id: m2.id, message_ids: [m1.id, m2.id], room_id: g1, delivered_to: expect.arrayContaining([dave.id, carol.id]), delivered_at: clock.now().toISOString() });
    expect(typeof d1.cursor).toBe('string');
    await daveWs.event('messagedelivered.dispatch', (d) => d.room_id === g2 && d.message_id === m3.id);
    // The acknowledging user is told nothing.
    expect((await p.leftovers(s)).filter(ev('messagedelivered.dispatch'))).toEqual([]);

    const again = await open(carol);
    expect(again.notifications?.data).toEqual([]);

    const m4 = await restSend(dave, g1, 'four');
    const third = await open(carol);
    expect(third.notifications?.data).toEqual([{ room_id: g1, count: 1, messages: [msg(m4, g1)] }]);
  });

  it('acknowledging a message of someone else’s room is a 4004 and changes nothing', async () => {
    const erin = await s.user('erin');
    const g = await group(alice, [bob], 'Private');
    const m = await restSend(alice, g, 'secret');
    const p = await open(erin);
    expect(await p.fail('message.acknowledged', { message_id: m.id })).toEqual({ code: 4004, detail: 'Not found.' });
  });
});

describe('resume with ?cursor=', () => {
  it('replays what was missed, in order, then session.ready; live events follow', async () => {
    const g = await group(alice, [bob], 'Resume');
    const first = await open(bob);
    await restSend(alice, g, 'seen');
    const seen = await first.event('message.dispatch', (d) => d.content === 'seen');
    first.close();
    await first.closed;

    await restSend(alice, g, 'missed 1');
    await restSend(alice, g, 'missed 2');
    await s.app.hub.flush();

    const p = await open(bob, { cursor: seen.cursor });
    const r1 = await p.event('message.dispatch');
    const r2 = await p.event('message.dispatch');
    expect([r1.data.content, r2.data.content]).toEqual(['missed 1', 'missed 2']);
    expect(p.ready.data.cursor).toBe(r2.cursor);
    await restSend(alice, g, 'live');
    const live = await p.event('message.dispatch');
    expect(live.data.content).toBe('live');
    expect(await p.leftovers(s)).toEqual([]);
  });

  it('a cursor that is not ours gives resync with the current cursor', async () => {
    const p = await open(bob, { cursor: 'garbage' });
    await s.app.hub.flush();
    const head = await s.app.hub.headCursor();
    expect(await p.event('resync')).toEqual({ eventType: 'resync', data: { reason: 'invalid', cursor: head } });
    expect(p.ready.data.cursor).toBe(head);
    const future = await open(bob, { cursor: encodeCursor(10_000_000) });
    expect((await future.event('resync')).data.reason).toBe('invalid');
  });
});

describe('bad frames', () => {
  let p: Peer;
  let other: Peer;
  beforeAll(async () => {
    p = await open(alice);
    other = await open(bob);
  });

  const raw = async (text: string | Buffer) => {
    p.ws.send(text);
    return (await p.error()).error;
  };

  it('non-JSON, non-object, missing event_type or data: 4003, socket stays open', async () => {
    expect(await raw('not json')).toEqual({ code: 4003, detail: 'Invalid JSON.' });
    expect((await raw('[1,2]')).code).toBe(4003);
    expect((await raw('"text"')).code).toBe(4003);
    expect((await raw('null')).code).toBe(4003);
    expect(await raw('{"data": {}}')).toEqual({ code: 4003, detail: 'event_type: This field is required and must be a string.' });
    expect(await raw('{"event_type": "room.list"}')).toEqual({ code: 4003, detail: 'data: This field is required and must be an object.' });
    expect((await raw('{"event_type": "room.list", "data": [1]}')).code).toBe(4003);
    expect((await raw('{"event_type": 7, "data": {}}')).code).toBe(4003);
    await p.heartbeat();
    expect(p.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('an unknown event_type: {"code": 4003, "detail": "invalid event type"}', async () => {
    for (const type of ['no.such', '__proto__', 'toString', 'constructor']) {
      expect(await p.fail(type, {})).toEqual({ code: 4003, detail: 'invalid event type' });
    }
  });

  it('data that does not match the event’s schema: 4003 naming the field', async () => {
    expect(await p.fail('message.send', { content: 'hi' })).toEqual({ code: 4003, detail: 'room_id: This field is required.' });
    expect(await p.fail('message.send', { room_id: 'abc', content: 'hi' })).toEqual({
      code: 4003,
      detail: 'room_id: Expected an id (a positive integer or a numeric string).',
    });
    expect(await p.fail('message.react', { message_id: 1, type: 'toggle', reaction_content: 'x' })).toEqual({
      code: 4003,
      detail: 'type: Expected "add" or "remove".',
    });
    expect(await p.fail('room.messages', { room_id: 1, paginate: { page: 0 } })).toEqual({
      code: 4003,
      detail: 'paginate.page: Expected a page number (1 or more).',
    });
  });

  it('a frame over the 64 KiB soft limit is a 4003; over the 1 MiB hard limit closes with 1009', async () => {
    const big = JSON.stringify({ event_type: 'session.heartbeat', data: { pad: 'x'.repeat(70 * 1024) } });
    expect(await raw(big)).toEqual({ code: 4003, detail: 'Frame too large: at most 65536 bytes.' });
    await p.heartbeat();

    const victim = await open(alice);
    victim.ws.send(Buffer.alloc(1024 * 1024 + 10, 0x20));
    expect((await victim.closed).code).toBe(1009);
  });

  it('none of this disturbed the other sockets', async () => {
    await other.heartbeat();
    expect(other.pending.filter((f) => f.error)).toEqual([]);
    await p.heartbeat();
  });
});

describe('with enableNotification: false', () => {
  it('sends no chat.notifications: session.ready is the first frame', async () => {
    const off = await startServer({ enableNotification: false });
    try {
      const u = await off.user('quiet');
      let first!: Promise<any>;
      const ws = await openSocket(off, { token: u.token }, (w) => {
        first = new Promise((resolve) => w.once('message', (d) => resolve(JSON.parse(d.toString()))));
      });
      expect((await first).eventType).toBe('session.ready');
      ws.close();
    } finally {
      await off.close();
    }
  });
});

describe('resume past the retention window', () => {
  it('a cursor older than the event log gives resync "expired"', async () => {
    const c = manualClock('2030-06-01T00:00:00.000Z');
    const short = await startServer({ eventRetentionHours: 1 }, { now: c.now });
    try {
      const u = await short.user('olduser');
      const v = await short.user('other');
      const g = await v.client.post('/messages/api/chats/', { chat_type: 'group', title: 'Old', member_ids: [u.id] });
      const p = await connect(short, u.token);
      await v.client.post(`/messages/api/chats/${g.body.id}/messages/`, { content: 'old 1' });
      const old = await p.event('message.dispatch');
      await v.client.post(`/messages/api/chats/${g.body.id}/messages/`, { content: 'old 2' });
      await p.event('message.dispatch');
      p.close();
      c.advance(2 * 3_600_000);
      await v.client.post(`/messages/api/chats/${g.body.id}/messages/`, { content: 'new' });
      await short.app.hub.flush();
      expect(await short.app.hub.prune()).toBeGreaterThan(0);
      const again = await connect(short, u.token, { query: { cursor: old.cursor } });
      const head = await short.app.hub.headCursor();
      expect(await again.event('resync')).toEqual({ eventType: 'resync', data: { reason: 'expired', cursor: head } });
      expect(again.ready.data.cursor).toBe(head);
      again.close();
    } finally {
      await short.close();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer, TestUser } from './harness.js';
import { type Frame, type Peer, connect } from './messaging-client.js';
import { API, createGroup, expectStatus, newUser, send, startRestServer } from './rest-fixtures.js';

/**
 * Read receipts count only the members who were members when a message was sent: someone
 * added later starts with the history "read" as far as unread counts go, but never shows up
 * as having read (or received) a message sent before they joined.
 */
let s: TestServer;
beforeAll(async () => {
  s = await startRestServer();
});
afterAll(() => s.close());

const sorted = (xs: number[]): number[] => [...xs].sort((x, y) => x - y);

async function readBy(viewer: TestUser, messageId: number): Promise<number[]> {
  const r = await viewer.client.get(`${API}/messages/${messageId}/`);
  expectStatus(r, 200);
  return sorted(r.body.read_by as number[]);
}

async function unreadCount(user: TestUser, chatId: number): Promise<number> {
  const r = await user.client.get(`${API}/chats/`);
  expectStatus(r, 200);
  return (r.body.results as { id: number; unread_count: number }[]).find((c) => c.id === chatId)?.unread_count ?? -1;
}

async function addMember(admin: TestUser, chatId: number, user: TestUser): Promise<void> {
  const r = await admin.client.post(`${API}/chats/${chatId}/members/add/`, { user_ids: [user.id] });
  expectStatus(r, 200);
  expect(r.body.added_count).toBe(1);
}

describe('/messages/api/: read_by of a member added later', () => {
  it('never lists them for messages sent before they joined; lists them once they read a later one', async () => {
    const a = await newUser(s, 'rra');
    const b = await newUser(s, 'rrb');
    const c = await newUser(s, 'rrc');
    const g = await createGroup(a, [b], 'Receipts');
    const m1 = await send(a, g.id, 'before c');
    expect((await b.client.post(`${API}/chats/${g.id}/mark-as-read/`)).body).toEqual({ status: 'success', marked_count: 1 });
    expect(await readBy(a, m1.id)).toEqual(sorted([a.id, b.id]));

    await addMember(a, g.id, c);
    // The history is not unread for the newcomer, and reading "everything" marks nothing.
    expect(await unreadCount(c, g.id)).toBe(0);
    expect((await c.client.post(`${API}/chats/${g.id}/mark-as-read/`)).body).toEqual({ status: 'success', marked_count: 0 });
    expect(await readBy(a, m1.id)).toEqual(sorted([a.id, b.id]));
    expect(await readBy(c, m1.id)).toEqual(sorted([a.id, b.id]));
    // The same in the history page.
    const page = await c.client.get(`${API}/chats/${g.id}/messages/`);
    expect(page.body.results.find((m: { id: number }) => m.id === m1.id).read_by.sort()).toEqual(sorted([a.id, b.id]));

    const m2 = await send(a, g.id, 'after c');
    expect(await unreadCount(c, g.id)).toBe(1);
    expect(await readBy(a, m2.id)).toEqual([a.id]);
    expect((await c.client.post(`${API}/chats/${g.id}/mark-as-read/`)).body).toEqual({ status: 'success', marked_count: 1 });
    expect(await readBy(a, m2.id)).toEqual(sorted([a.id, c.id]));
    // Reading (and posting) after the join still says nothing about m1.
    await send(c, g.id, 'hello all');
    expect(await readBy(b, m1.id)).toEqual(sorted([a.id, b.id]));
  });

  it('reading up to an old message by id moves nothing for a newcomer', async () => {
    const a = await newUser(s, 'rua');
    const c = await newUser(s, 'ruc');
    const g = await createGroup(a, [], 'Old news');
    const old = await send(a, g.id, 'old');
    await addMember(a, g.id, c);
    const r = await c.client.post(`${API}/chats/${g.id}/mark-as-read/`, { message_id: old.id });
    expect(r.body).toEqual({ status: 'success', marked_count: 0 });
    expect(await readBy(a, old.id)).toEqual([a.id]);
  });
});

describe('/messaging/: read receipts and delivery of a member added later', () => {
  const peers: Peer[] = [];
  afterAll(() => {
    for (const p of peers) p.close();
  });
  const open = async (u: TestUser): Promise<Peer> => {
    const p = await connect(s, u.token);
    peers.push(p);
    return p;
  };
  const roomEvent = (room: number) => (d: { room_id?: number; id?: number }) => (d.room_id ?? d.id) === room;

  it('no readreceipt or delivery for history; the newcomer counts from the next message on', async () => {
    const a = await newUser(s, 'rma');
    const b = await newUser(s, 'rmb');
    const c = await newUser(s, 'rmc');
    const [pa, pb] = await Promise.all([open(a), open(b)]);
    pa.send('room.create', { room_type: 'group_chat', name: 'WS receipts', member_ids: [b.id] });
    const room = (await pa.event('roomcreate.dispatch')).data.id as number;
    await pb.event('roomcreate.dispatch', roomEvent(room));

    pa.send('message.send', { room_id: room, content: 'm1' });
    const m1 = (await pa.event('message.dispatch', roomEvent(room))).data.id as number;
    await pb.event('message.dispatch', roomEvent(room));
    pb.send('message.read', { message_id: m1 });
    expect((await pa.event('readreceipt.dispatch', roomEvent(room))).data).toMatchObject({ message_id: m1, user_id: b.id });

    pa.send('room.add_members', { room_id: room, member_ids: [c.id] });
    await pa.event('roomaddmembers.dispatch', roomEvent(room));
    const pc = await open(c);
    // The newcomer reads and acknowledges the old message: no receipt reaches the sender.
    pc.send('message.read', { message_id: m1 });
    pc.send('message.acknowledged', { message_id: [m1] });
    await pc.settle(s);
    const early: Frame[] = await pa.leftovers(s);
    expect(early.filter((f) => f.eventType === 'readreceipt.dispatch' || f.eventType === 'messagedelivered.dispatch')).toEqual([]);
    expect(await readBy(a, m1)).toEqual(sorted([a.id, b.id]));

    // b acknowledges m1 only now: the sender learns who has it, and the newcomer is not among them.
    pb.send('message.acknowledged', { message_id: [m1] });
    const delivered = await pa.event('messagedelivered.dispatch', roomEvent(room));
    expect(delivered.data).toMatchObject({ message_id: m1, message_ids: [m1] });
    expect(sorted(delivered.data.delivered_to)).toEqual(sorted([a.id, b.id]));

    pa.send('message.send', { room_id: room, content: 'm2' });
    const m2 = (await pa.event('message.dispatch', (d) => d.room_id === room && d.content === 'm2')).data.id as number;
    await pc.event('message.dispatch', (d) => d.id === m2);
    pc.send('message.read', { message_id: m2 });
    expect((await pa.event('readreceipt.dispatch', (d) => d.room_id === room && d.user_id === c.id)).data).toMatchObject({ message_id: m2, user_id: c.id });
    pc.send('message.acknowledged', { message_id: [m2] });
    const d2 = await pa.event('messagedelivered.dispatch', (d) => d.room_id === room && d.message_id === m2);
    expect(d2.data.delivered_to).toContain(c.id);
    expect(await readBy(a, m2)).toEqual(sorted([a.id, c.id]));
    expect(await readBy(c, m1)).toEqual(sorted([a.id, b.id]));
  });
});

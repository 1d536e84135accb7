import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, type TestUser, startServer } from './harness.js';
import { type Frame, type Peer, connect, manualClock } from './messaging-client.js';

const clock = manualClock('2032-02-02T08:00:00.000Z');
const at = () => clock.now().toISOString();
let s: TestServer;
let alice: TestUser;
let bob: TestUser;
let carol: TestUser;
let dave: TestUser;
let a1: Peer;
let a2: Peer;
let b1: Peer;
let b2: Peer;
let c1: Peer;
let d1: Peer;
/** bob's one_to_one with dave. */
let dm: number;
const everyone = () => [a1, a2, b1, b2, c1, d1];

const user = (u: TestUser, display = u.username) => ({ id: u.id, username: u.username, display_name: display, avatar_url: `/avatars/${u.id}.svg` });

async function onAll(peers: Peer[], eventType: string, where?: (d: any) => boolean): Promise<Frame> {
  const frames = await Promise.all(peers.map((p) => p.event(eventType, where)));
  for (const f of frames) expect(f).toEqual(frames[0]);
  return frames[0] as Frame;
}

async function nothingMore(...peers: Peer[]): Promise<void> {
  for (const p of peers) expect(await p.leftovers(s)).toEqual([]);
}

/** alice creates a group with bob over the socket; everyone involved takes the roomcreate. */
async function teamRoom(name: string): Promise<number> {
  a1.send('room.create', { room_type: 'group_chat', name, member_ids: [bob.id] });
  return (await onAll([a1, a2, b1, b2], 'roomcreate.dispatch', (d) => d.name === name)).data.id;
}

beforeAll(async () => {
  s = await startServer({}, { now: clock.now });
  alice = await s.user('alice', { display_name: 'Alice A' });
  bob = await s.user('bob');
  carol = await s.user('carol');
  dave = await s.user('dave');
  [a1, a2, b1, b2, c1, d1] = await Promise.all([
    connect(s, alice.token),
    connect(s, alice.token),
    connect(s, bob.token),
    connect(s, bob.token),
    connect(s, carol.token),
    connect(s, dave.token),
  ]);
});
afterAll(async () => {
  for (const p of everyone()) p?.close();
  await s.close();
});

describe('room.create', () => {
  it('group_chat: roomcreate.dispatch to every session of the members, nobody else', async () => {
    a1.send('room.create', { room_type: 'group_chat', name: 'Team', member_ids: [bob.id, String(carol.id)] });
    const f = await onAll([a1, a2, b1, b2, c1], 'roomcreate.dispatch');
    expect(f).toEqual({
      eventType: 'roomcreate.dispatch',
      data: { id: expect.any(Number), room_type: 'group_chat', name: 'Team', object: null, is_public: false, created_at: at(), updated_at: at(), metadata: {} },
      cursor: expect.any(String),
    });
    await nothingMore(...everyone());
  });

  it('one_to_one: created once; asking again answers the asking socket with the same room', async () => {
    b1.send('room.create', { room_type: 'one_to_one', user_id: dave.id });
    const f = await onAll([b1, b2, d1], 'roomcreate.dispatch');
    expect(f.data).toMatchObject({ room_type: 'one_to_one', name: null, is_public: false });
    dm = f.data.id;
    b2.send('room.create', { room_type: 'one_to_one', participants: [dave.id] });
    expect(await b2.event('roomcreate.dispatch')).toEqual({ eventType: 'roomcreate.dispatch', data: f.data });
    await nothingMore(...everyone());
  });

  it('channel and object room; validation (4003) and integrity (4005) errors', async () => {
    a1.send('room.create', { room_type: 'channel', name: 'News', is_public: true, subscribers: [bob.id] });
    expect((await onAll([a1, a2, b1, b2], 'roomcreate.dispatch')).data).toMatchObject({ room_type: 'channel', name: 'News', is_public: true });
    a1.send('room.create', { room_type: 'room', object: 'product:42' });
    expect((await onAll([a1, a2], 'roomcreate.dispatch')).data).toMatchObject({ room_type: 'room', name: null, object: 'product:42', is_public: true });

    expect(await a1.fail('room.create', { room_type: 'room', object: 'product:42' })).toEqual({ code: 4005, detail: 'object: That conversation already exists.' });
    expect(await a1.fail('room.create', { room_type: 'one_to_one', member_ids: [bob.id, carol.id] })).toEqual({
      code: 4003,
      detail: 'member_ids: A direct message needs exactly one other member.',
    });
    expect(await a1.fail('room.create', { room_type: 'group_chat', member_ids: [424242] })).toEqual({ code: 4003, detail: 'member_ids: Unknown user id(s): 424242.' });
    expect(await a1.fail('room.create', { room_type: 'channel' })).toEqual({ code: 4003, detail: 'title: This field is required.' });
    expect(await a1.fail('room.create', { room_type: 'GroupChat' })).toEqual({
      code: 4003,
      detail: 'room_type: Expected one of "one_to_one", "group_chat", "channel", "room".',
    });
    await nothingMore(...everyone());
  });
});

describe('room.list, room.info, room.messages (replies to the user only)', () => {
  let room: number;
  let msgs: Frame[];
  beforeAll(async () => {
    room = await teamRoom('History');
    msgs = [];
    for (let i = 1; i <= 5; i++) {
      (i % 2 ? a1 : b1).send('message.send', { room_id: room, content: `m${i}` });
      msgs.push(await onAll([a1, a2, b1, b2], 'message.dispatch'));
    }
  });

  it('room.list: roomlist.dispatch to every session of the asking user, with last message and unread count', async () => {
    b1.send('room.list', {});
    const f = await onAll([b1, b2], 'roomlist.dispatch');
    const history = f.data.find((r: any) => r.id === room);
    expect(history).toEqual({
      id: room,
      room_type: 'group_chat',
      name: 'History',
      object: null,
      is_public: false,
      created_at: at(),
      updated_at: at(),
      metadata: {},
      peer: null,
      last_message: msgs[4]?.data,
      unread_count: 1, // m5 came from alice after bob's m4
    });
    const dm = f.data.find((r: any) => r.room_type === 'one_to_one');
    expect(dm.peer).toEqual(user(dave));
    expect(f.data.map((r: any) => r.name)).toEqual(expect.arrayContaining(['Team', 'News', 'History']));
    await nothingMore(a1, a2, c1, d1);
  });

  it('room.info: roominfo.dispatch with members and admins; 4004 for a room one cannot see', async () => {
    a2.send('room.info', { room_id: String(room) });
    const f = await onAll([a1, a2], 'roominfo.dispatch');
    expect(f).toEqual({
      eventType: 'roominfo.dispatch',
      data: {
        id: room,
        room_type: 'group_chat',
        name: 'History',
        object: null,
        is_public: false,
        created_at: at(),
        updated_at: at(),
        metadata: {},
        peer: null,
        members: [
          { ...user(alice, 'Alice A'), role: 'admin' },
          { ...user(bob), role: 'member' },
        ],
        admins: [alice.id],
        member_count: 2,
        is_member: true,
      },
    });
    expect(await c1.fail('room.info', { room_id: room })).toEqual({ code: 4004, detail: 'Not found.' });
    expect(await c1.fail('room.info', { room_id: 777_777 })).toEqual({ code: 4004, detail: 'Not found.' });
    await nothingMore(b1, b2, c1);
  });

  it('room.messages: pages newest first with has_next, has_previous, total_pages, count', async () => {
    const page = async (n: number) => {
      b1.send('room.messages', { room_id: room, paginate: { page: n, size: 2 } });
      return (await onAll([b1, b2], 'roommessages.dispatch')).data;
    };
    const ids = (p: any) => p.results.map((m: any) => m.id);
    const p1 = await page(1);
    expect({ ...p1, results: undefined }).toEqual({ room_id: room, page: 1, size: 2, total_pages: 3, count: 5, has_next: true, has_previous: false, results: undefined });
    expect(p1.results).toEqual([msgs[4]?.data, msgs[3]?.data]);
    const p3 = await page(3);
    expect(p3).toMatchObject({ page: 3, has_next: false, has_previous: true });
    expect(ids(p3)).toEqual([msgs[0]?.data.id]);
    expect(await b1.fail('room.messages', { room_id: room, paginate: { page: 4, size: 2 } })).toEqual({ code: 4004, detail: 'Invalid page.' });
    expect(await c1.fail('room.messages', { room_id: room })).toEqual({ code: 4004, detail: 'Not found.' });

    // Without paginate: page 1 of messagesPerPage (50).
    b2.send('room.messages', { room_id: room });
    const all = (await onAll([b1, b2], 'roommessages.dispatch')).data;
    expect(all).toMatchObject({ page: 1, size: 50, total_pages: 1, count: 5, has_next: false, has_previous: false });
    expect(all.results.map((m: any) => m.content)).toEqual(['m5', 'm4', 'm3', 'm2', 'm1']);
    await nothingMore(a1, a2, b1, b2, c1);
  });
});

describe('membership', () => {
  let room: number;
  beforeAll(async () => {
    room = await teamRoom('Members');
  });

  it('room.add_members: roomaddmembers.dispatch to all members, the new ones included; 4002 for a non-admin', async () => {
    expect(await b1.fail('room.add_members', { room_id: room, member_ids: [dave.id] })).toEqual({
      code: 4002,
      detail: 'You do not have permission to perform this action.',
    });
    a1.send('room.add_members', { room_id: room, members: [carol.id] });
    const f = await onAll([a1, a2, b1, b2, c1], 'roomaddmembers.dispatch');
    expect(f).toEqual({ eventType: 'roomaddmembers.dispatch', data: { room_id: room, new_members: [carol.id], added_by: alice.id }, cursor: expect.any(String) });
    // Nobody new: nothing is broadcast, the asking socket is answered.
    a2.send('room.add_members', { room_id: room, user_ids: [carol.id] });
    expect(await a2.event('roomaddmembers.dispatch')).toEqual({ eventType: 'roomaddmembers.dispatch', data: { room_id: room, new_members: [], added_by: alice.id } });
    expect(await a1.fail('room.add_members', { room_id: room })).toEqual({ code: 4003, detail: 'member_ids: This field is required.' });
    await nothingMore(...everyone());
  });

  it('room.remove_members: roomexit.dispatch to the removed, roomremovemembers.dispatch to the rest', async () => {
    expect((await b1.fail('room.remove_members', { room_id: room, member_ids: [carol.id] })).code).toBe(4002);
    a1.send('room.remove_members', { room_id: room, member_ids: [carol.id] });
    const exit = await c1.event('roomexit.dispatch');
    expect(exit).toEqual({
      eventType: 'roomexit.dispatch',
      data: { room_id: room, removed_by: alice.id, message: 'You have been removed from the room.' },
      cursor: expect.any(String),
    });
    const rest = await onAll([a1, a2, b1, b2], 'roomremovemembers.dispatch');
    expect(rest).toEqual({ eventType: 'roomremovemembers.dispatch', data: { room_id: room, removed_members: [carol.id], removed_by: alice.id }, cursor: exit.cursor });
    // Carol no longer hears from the room.
    a1.send('message.send', { room_id: room, content: 'after carol' });
    await onAll([a1, a2, b1, b2], 'message.dispatch');
    await nothingMore(...everyone());
  });

  it('room.leave: the leaver gets roomexit.dispatch (removed_by "self"); a one_to_one cannot be left', async () => {
    b2.send('room.leave', { room_id: room });
    expect(await onAll([b1, b2], 'roomexit.dispatch')).toMatchObject({ data: { room_id: room, removed_by: 'self', message: 'You left the room.' } });
    expect((await onAll([a1, a2], 'roomremovemembers.dispatch')).data).toEqual({ room_id: room, removed_members: [bob.id], removed_by: 'self' });
    expect(await b1.fail('room.leave', { room_id: room })).toEqual({ code: 4004, detail: 'Not found.' });
    expect(await b1.fail('room.leave', { room_id: dm })).toEqual({ code: 4003, detail: 'chat: You cannot leave a direct message.' });
    await nothingMore(...everyone());
  });

  it('room.join: public channels only; roomaddmembers.dispatch with added_by "self"', async () => {
    a1.send('room.create', { room_type: 'channel', name: 'Open', is_public: true });
    const channel = (await onAll([a1, a2], 'roomcreate.dispatch')).data.id;
    d1.send('room.join', { room_id: channel });
    const f = await onAll([a1, a2, d1], 'roomaddmembers.dispatch');
    expect(f.data).toEqual({ room_id: channel, new_members: [dave.id], added_by: 'self' });
    // Joining twice is answered to the asker, nothing broadcast.
    d1.send('room.join', { room_id: channel });
    expect((await d1.event('roomaddmembers.dispatch')).data).toEqual({ room_id: channel, new_members: [], added_by: 'self' });
    // A private group is invisible to outsiders.
    expect(await d1.fail('room.join', { room_id: room })).toEqual({ code: 4004, detail: 'Not found.' });
    await nothingMore(...everyone());
  });
});

describe('room.modify', () => {
  let room: number;
  beforeAll(async () => {
    room = await teamRoom('Before');
  });

  it('update (admin): roomupdate.dispatch to all members; non-admin 4002', async () => {
    expect(await b1.fail('room.modify', { room_id: room, action: 'update', data: { name: 'Mine' } })).toEqual({
      code: 4002,
      detail: 'You do not have permission to perform this action.',
    });
    clock.advance(60_000);
    a1.send('room.modify', { room_id: room, action: 'update', data: { name: 'After' } });
    const f = await onAll([a1, a2, b1, b2], 'roomupdate.dispatch');
    expect(f).toEqual({
      eventType: 'roomupdate.dispatch',
      data: { id: room, room_type: 'group_chat', name: 'After', object: null, is_public: false, created_at: new Date(clock.time - 60_000).toISOString(), updated_at: at(), metadata: {} },
      cursor: expect.any(String),
    });
    expect(await a1.fail('room.modify', { room_id: room, action: 'update', is_public: true })).toEqual({
      code: 4003,
      detail: 'is_public: Only rooms and channels can be public.',
    });
    await nothingMore(...everyone());
  });

  it('delete (admin): roomdelete.dispatch to all members; the room is gone', async () => {
    expect((await b1.fail('room.modify', { room_id: room, action: 'delete' })).code).toBe(4002);
    a2.send('room.modify', { room_id: room, action: 'delete' });
    expect(await onAll([a1, a2, b1, b2], 'roomdelete.dispatch')).toEqual({ eventType: 'roomdelete.dispatch', data: { room_id: room }, cursor: expect.any(String) });
    expect(await a1.fail('room.info', { room_id: room })).toEqual({ code: 4004, detail: 'Not found.' });
    expect(await a1.fail('room.modify', { room_id: room, action: 'archive' })).toEqual({ code: 4003, detail: 'action: Expected "update" or "delete".' });
    await nothingMore(...everyone());
  });

  it('a room renamed over REST reaches the sockets as roomupdate.dispatch', async () => {
    const other = await teamRoom('Rest');
    const r = await alice.client.patch(`/messages/api/chats/${other}/`, { title: 'Renamed' });
    expect(r.status).toBe(200);
    expect((await onAll([a1, a2, b1, b2], 'roomupdate.dispatch')).data).toMatchObject({ id: other, name: 'Renamed' });
    await nothingMore(...everyone());
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCursor } from '../../src/realtime/cursor.js';
import { type TestServer, type TestUser, startServer } from './harness.js';
import { type Frame, type Peer, connect, ev, manualClock } from './messaging-client.js';

const TYPING_TIMEOUT = 5;
const clock = manualClock('2031-05-01T10:00:00.000Z');
const at = () => clock.now().toISOString();
let s: TestServer;
let alice: TestUser;
let bob: TestUser;
let carol: TestUser;
/** Two devices each. */
let a1: Peer;
let a2: Peer;
let b1: Peer;
let b2: Peer;
let c1: Peer;
let room: number;

const user = (u: TestUser, display = u.username) => ({ id: u.id, username: u.username, display_name: display, avatar_url: `/avatars/${u.id}.svg` });

/** Takes one matching frame from each peer; they must all be the same frame. */
async function onAll(peers: Peer[], eventType: string, where?: (d: any) => boolean): Promise<Frame> {
  const frames = await Promise.all(peers.map((p) => p.event(eventType, where)));
  for (const f of frames) expect(f).toEqual(frames[0]);
  return frames[0] as Frame;
}

/** Asserts that none of these peers has a frame left over. */
async function nothingMore(...peers: Peer[]): Promise<void> {
  for (const p of peers) expect(await p.leftovers(s)).toEqual([]);
}

beforeAll(async () => {
  s = await startServer({ typingTimeoutSeconds: TYPING_TIMEOUT }, { now: clock.now });
  alice = await s.user('alice', { display_name: 'Alice A' });
  bob = await s.user('bob');
  carol = await s.user('carol');
  [a1, a2, b1, b2, c1] = await Promise.all([connect(s, alice.token), connect(s, alice.token), connect(s, bob.token), connect(s, bob.token), connect(s, carol.token)]);
  a1.send('room.create', { room_type: 'group_chat', name: 'Team', member_ids: [bob.id] });
  room = (await onAll([a1, a2, b1, b2], 'roomcreate.dispatch')).data.id;
  await nothingMore(a1, a2, b1, b2, c1);
});
afterAll(async () => {
  for (const p of [a1, a2, b1, b2, c1]) p?.close();
  await s.close();
});

describe('message.send', () => {
  it('broadcasts message.dispatch to every session of every member, the sender’s included', async () => {
    a1.send('message.send', { room_id: String(room), content: 'hello', client_id: 'c-1' });
    const f = await onAll([a1, a2, b1, b2], 'message.dispatch');
    expect(f).toEqual({
      eventType: 'message.dispatch',
      data: {
        id: expect.any(Number),
        room_id: room,
        sender: user(alice, 'Alice A'),
        content: 'hello',
        created_at: at(),
        updated_at: at(),
        is_edited: false,
        is_deleted: false,
        parent_message_id: null,
        forwarded_from_id: null,
        attachments: [],
        parent: null,
        reactions: [],
        client_id: 'c-1',
        metadata: {},
      },
      cursor: expect.any(String),
    });
    expect(decodeCursor(f.cursor)).toBeGreaterThan(0);
    await nothingMore(a1, a2, b1, b2, c1);
  });

  it('a retry with the same client_id stores nothing and answers the retrying socket alone', async () => {
    b2.send('message.send', { room_id: room, content: 'once', client_id: 'retry-me' });
    const original = await onAll([a1, a2, b1, b2], 'message.dispatch');
    b2.send('message.send', { room_id: room, content: 'once', client_id: 'retry-me' });
    const again = await b2.event('message.dispatch');
    // Same message, no cursor: nothing new was logged.
    expect(again).toEqual({ eventType: 'message.dispatch', data: original.data });
    await nothingMore(a1, a2, b1, b2);
    const history = await bob.client.get(`/messages/api/chats/${room}/messages/`);
    expect(history.body.results.filter((m: any) => m.client_id === 'retry-me')).toHaveLength(1);
  });

  it('replies carry parent_message_id (also accepted in extra_fields)', async () => {
    a1.send('message.send', { room_id: room, content: 'parent' });
    const parent = await onAll([a1, a2, b1, b2], 'message.dispatch');
    b1.send('message.send', { room_id: room, content: 'child', extra_fields: { parent_message_id: parent.data.id } });
    const child = await onAll([a1, a2, b1, b2], 'message.dispatch');
    expect(child.data.parent_message_id).toBe(parent.data.id);
    await nothingMore(a1, a2, b1, b2);
  });

  it('a message sent over REST arrives as message.dispatch', async () => {
    const r = await bob.client.post(`/messages/api/chats/${room}/messages/`, { content: 'via rest' });
    expect(r.status).toBe(201);
    const f = await onAll([a1, a2, b1, b2], 'message.dispatch');
    expect(f.data).toMatchObject({ id: r.body.id, room_id: room, content: 'via rest', sender: user(bob), client_id: null });
    await nothingMore(a1, a2, b1, b2, c1);
  });

  it('errors: blank content 4003, reply + forward 4005, someone else’s room 4004, channel non-admin 4002', async () => {
    expect(await a1.fail('message.send', { room_id: room, content: '   ' })).toEqual({ code: 4003, detail: 'content: This field may not be blank.' });
    expect((await a1.fail('message.send', { room_id: room, content: 'fwd', parent_message_id: 1, forwarded_from_id: 1 })).code).toBe(4005);
    expect(await c1.fail('message.send', { room_id: room, content: 'let me in' })).toEqual({ code: 4004, detail: 'Not found.' });
    expect(await c1.fail('message.send', { room_id: 999_999, content: 'nobody' })).toEqual({ code: 4004, detail: 'Not found.' });
    a1.send('room.create', { room_type: 'channel', name: 'News', member_ids: [bob.id] });
    const channel = (await onAll([a1, b1], 'roomcreate.dispatch')).data.id;
    expect(await b1.fail('message.send', { room_id: channel, content: 'me too' })).toEqual({ code: 4002, detail: 'Only admins can post in this channel.' });
    await Promise.all([a2.event('roomcreate.dispatch'), b2.event('roomcreate.dispatch')]);
    await nothingMore(a1, a2, b1, b2, c1);
  });
});

describe('message.acknowledged and message.read', () => {
  it('acknowledging tells the sender’s sessions (messagedelivered.dispatch) and nobody else', async () => {
    a1.send('message.send', { room_id: room, content: 'ack me' });
    const m = await onAll([a1, a2, b1, b2], 'message.dispatch');
    b1.send('message.acknowledged', { message_id: m.data.id });
    const f = await onAll([a1, a2], 'messagedelivered.dispatch');
    expect(f).toEqual({
      eventType: 'messagedelivered.dispatch',
      data: { message_id: m.data.id, message_ids: [m.data.id], room_id: room, delivered_to: expect.arrayContaining([alice.id, bob.id]), delivered_at: at() },
      cursor: expect.any(String),
    });
    // Acknowledging again moves nothing: no new dispatch.
    b2.send('message.acknowledged', { message_id: [m.data.id] });
    await nothingMore(a1, a2, b1, b2);
  });

  it('message.read broadcasts readreceipt.dispatch to the room', async () => {
    a2.send('message.send', { room_id: room, content: 'read me' });
    const m = await onAll([a1, a2, b1, b2], 'message.dispatch');
    b2.send('message.read', { message_id: String(m.data.id) });
    const f = await onAll([a1, a2, b1, b2], 'readreceipt.dispatch');
    expect(f).toEqual({
      eventType: 'readreceipt.dispatch',
      data: { room_id: room, message_id: m.data.id, user_id: bob.id, read_at: at() },
      cursor: expect.any(String),
    });
    const chat = await bob.client.get(`/messages/api/chats/`);
    expect(chat.body.results.find((c: any) => c.id === room).unread_count).toBe(0);
    await nothingMore(a1, a2, b1, b2);
  });

  it('unknown or foreign messages are 4004', async () => {
    expect(await b1.fail('message.read', { message_id: 987_654 })).toEqual({ code: 4004, detail: 'Not found.' });
    a1.send('message.send', { room_id: room, content: 'not for carol' });
    const m = await onAll([a1, a2, b1, b2], 'message.dispatch');
    expect((await c1.fail('message.read', { message_id: m.data.id })).code).toBe(4004);
    expect((await c1.fail('message.acknowledged', { message_id: [m.data.id] })).code).toBe(4004);
    await nothingMore(a1, a2, b1, b2, c1);
  });
});

describe('message.react', () => {
  let id: number;
  beforeAll(async () => {
    a1.send('message.send', { room_id: room, content: 'react to me' });
    id = (await onAll([a1, a2, b1, b2], 'message.dispatch')).data.id;
  });

  it('add broadcasts reaction.dispatch with the message’s reactions', async () => {
    b1.send('message.react', { message_id: id, type: 'add', reaction_content: '👍' });
    const f = await onAll([a1, a2, b1, b2], 'reaction.dispatch');
    expect(f).toEqual({
      eventType: 'reaction.dispatch',
      data: {
        status: 'successful',
        type: 'add',
        user_id: bob.id,
        reaction_content: '👍',
        message: { id, room_id: room, reactions: [{ reaction_content: '👍', count: 1, users: [bob.id] }] },
      },
      cursor: expect.any(String),
    });
  });

  it('adding again changes nothing: only the asking socket gets the current state', async () => {
    b2.send('message.react', { message_id: String(id), type: 'add', reaction_content: '👍' });
    expect(await b2.event('reaction.dispatch')).toEqual({
      eventType: 'reaction.dispatch',
      data: {
        status: 'successful',
        type: 'add',
        user_id: bob.id,
        reaction_content: '👍',
        message: { id, room_id: room, reactions: [{ reaction_content: '👍', count: 1, users: [bob.id] }] },
      },
    });
    await nothingMore(a1, a2, b1, b2);
  });

  it('remove broadcasts; removing again is a no-op answered to the asker', async () => {
    a1.send('message.react', { message_id: id, type: 'add', reaction_content: '👍' });
    const both = await onAll([a1, a2, b1, b2], 'reaction.dispatch');
    expect(both.data.message.reactions).toEqual([{ reaction_content: '👍', count: 2, users: expect.arrayContaining([bob.id, alice.id]) }]);
    b1.send('message.react', { message_id: id, type: 'remove', reaction_content: '👍' });
    const removed = await onAll([a1, a2, b1, b2], 'reaction.dispatch');
    expect(removed.data).toEqual({
      status: 'successful',
      type: 'remove',
      user_id: bob.id,
      reaction_content: '👍',
      message: { id, room_id: room, reactions: [{ reaction_content: '👍', count: 1, users: [alice.id] }] },
    });
    b1.send('message.react', { message_id: id, type: 'remove', reaction_content: '👍' });
    expect((await b1.event('reaction.dispatch')).data.type).toBe('remove');
    await nothingMore(a1, a2, b1, b2);
  });

  it('reacting in someone else’s room is a 4004', async () => {
    expect(await c1.fail('message.react', { message_id: id, type: 'add', reaction_content: '👀' })).toEqual({ code: 4004, detail: 'Not found.' });
    await nothingMore(a1, c1);
  });
});

describe('message.typing', () => {
  it('tells the other members, and ends by itself after typingTimeoutSeconds', async () => {
    a1.send('message.typing', { room_id: room });
    const f = await onAll([b1, b2], 'messagetyping.dispatch');
    expect(f).toEqual({ eventType: 'messagetyping.dispatch', data: { room_id: room, user_id: alice.id, username: 'alice', is_typing: true } });
    // Ephemeral: no cursor. The typist's own sessions are not told.
    await nothingMore(a1, a2);

    clock.advance((TYPING_TIMEOUT - 1) * 1000);
    s.app.sweep();
    await nothingMore(b1);
    clock.advance(2000);
    s.app.sweep();
    const end = await onAll([b1, b2], 'messagetyping.dispatch');
    expect(end.data).toEqual({ room_id: room, user_id: alice.id, username: 'alice', is_typing: false });
    await nothingMore(a1, a2, b1, b2);
  });

  it('is_typing: false ends it at once; typing in someone else’s room is a 4004', async () => {
    b1.send('message.typing', { room_id: room, is_typing: true });
    await onAll([a1, a2], 'messagetyping.dispatch', (d) => d.is_typing === true);
    b1.send('message.typing', { room_id: room, is_typing: false });
    await onAll([a1, a2], 'messagetyping.dispatch', (d) => d.is_typing === false);
    expect(await c1.fail('message.typing', { room_id: room })).toEqual({ code: 4004, detail: 'Not found.' });
    await nothingMore(a1, a2, b1, b2);
  });
});

describe('message.modify', () => {
  let id: number;
  beforeAll(async () => {
    a1.send('message.send', { room_id: room, content: 'typo' });
    id = (await onAll([a1, a2, b1, b2], 'message.dispatch')).data.id;
  });

  it('update broadcasts messagemodification.dispatch with the edited message', async () => {
    clock.advance(1000);
    a2.send('message.modify', { message_id: id, action: 'update', content: 'fixed' });
    const f = await onAll([a1, a2, b1, b2], 'messagemodification.dispatch');
    expect(f).toEqual({
      eventType: 'messagemodification.dispatch',
      data: {
        status: 'successful',
        action: 'update',
        message: {
          id,
          room_id: room,
          sender: user(alice, 'Alice A'),
          content: 'fixed',
          created_at: new Date(clock.time - 1000).toISOString(),
          updated_at: at(),
          is_edited: true,
          is_deleted: false,
          parent_message_id: null,
          forwarded_from_id: null,
          attachments: [],
          parent: null,
          client_id: null,
          metadata: {},
        },
      },
      cursor: expect.any(String),
    });
  });

  it('the seed’s extra_fields.content works too; someone else’s message is a 4002', async () => {
    a1.send('message.modify', { message_id: String(id), action: 'update', extra_fields: { content: 'fixed again' } });
    expect((await onAll([a1, a2, b1, b2], 'messagemodification.dispatch')).data.message.content).toBe('fixed again');
    expect(await b1.fail('message.modify', { message_id: id, action: 'update', content: 'mine now' })).toEqual({
      code: 4002,
      detail: 'You can only edit your own messages.',
    });
    expect(await a1.fail('message.modify', { message_id: id, action: 'update' })).toEqual({ code: 4003, detail: 'content: This field is required.' });
    await nothingMore(a1, a2, b1, b2);
  });

  it('delete broadcasts the deleted ids; the message is gone (4004 afterwards)', async () => {
    a1.send('message.modify', { message_id: [id], action: 'delete' });
    const f = await onAll([a1, a2, b1, b2], 'messagemodification.dispatch');
    expect(f).toEqual({
      eventType: 'messagemodification.dispatch',
      data: { status: 'successful', action: 'delete', room_id: room, message_ids: [id], scope: 'everyone' },
      cursor: expect.any(String),
    });
    expect(await a1.fail('message.modify', { message_id: id, action: 'update', content: 'x' })).toEqual({ code: 4004, detail: 'Not found.' });
    await nothingMore(a1, a2, b1, b2);
  });
});

describe('events from other faces', () => {
  it('a message deleted for one user over /api/dm/ reaches only their sessions', async () => {
    const dm = await alice.client.post(`/api/dm/send/${bob.id}/`, { content: 'psst' });
    expect(dm.status).toBe(201);
    const created = await onAll([a1, a2, b1, b2], 'message.dispatch', (d) => d.content === 'psst');
    // Opening the DM announced it too.
    await onAll([a1, a2, b1, b2], 'roomcreate.dispatch', (d) => d.room_type === 'one_to_one');
    const del = await bob.client.delete(`/api/dm/messages/${created.data.id}/`);
    expect(del.status).toBe(204);
    const f = await onAll([b1, b2], 'messagemodification.dispatch');
    expect(f.data).toEqual({ status: 'successful', action: 'delete', room_id: created.data.room_id, message_ids: [created.data.id], scope: 'me' });
    await nothingMore(a1, a2, b1, b2);
  });
});

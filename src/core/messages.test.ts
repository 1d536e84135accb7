import { afterEach, describe, expect, it } from 'vitest';
import { T0, closeFixtures, coreFixture, expectError } from './testing.js';
import {
  type Conversation,
  type CoreOptions,
  type DomainEvent,
  type ErrorCode,
  type Store,
  type User,
  ParleyError,
  createCore,
} from './index.js';

afterEach(closeFixtures);

/** The fixture plus two users, their DM and a history reader. */
async function setup(options: Omit<CoreOptions, 'store' | 'now'> = {}) {
  const f = await coreFixture(options);
  const alice = await f.user('alice');
  const bob = await f.user('bob');
  const dm = (await f.core.conversations.openDm(alice, bob.id)).conversation;
  f.events.length = 0;
  const history = async (viewer: User, c: Conversation = dm) =>
    (await f.core.messages.history(viewer, c.id, { newestFirst: false, limit: 100 })).items.map((m) => m.content);
  return { ...f, alice, bob, dm, history };
}

describe('sending', () => {
  it('stores the message, advances the conversation and emits message.created', async () => {
    const { core, events, alice, bob, dm, tick, history } = await setup();
    const at = tick(30);
    const { message, conversation, created } = await core.messages.send(alice, dm.id, { content: 'Hello Bob' });
    expect(created).toBe(true);
    expect(message).toMatchObject({ conversationId: dm.id, seq: 1, senderId: alice.id, content: 'Hello Bob', createdAt: at, editedAt: null, deletedAt: null });
    expect(conversation).toMatchObject({ id: dm.id, lastSeq: 1, lastActivityAt: at });
    expect(events).toEqual([{ type: 'message.created', conversation, message, extras: { attachments: [], parent: null } }]);
    expect(await history(bob)).toEqual(['Hello Bob']);
    // The sender has read their own message; the partner has not.
    expect(await core.messages.unreadCounts(alice)).toEqual(new Map());
    expect(await core.messages.unreadCounts(bob)).toEqual(new Map([[dm.id, 1]]));
  });

  it('refuses blank content', async () => {
    const { core, alice, dm, events } = await setup();
    for (const content of ['', '   ', '\n\t ', '\u{E000}\u{E001}']) {
      const e = await expectError(core.messages.send(alice, dm.id, { content }), 'validation');
      expect(e.details).toHaveProperty('content');
    }
    expect(events).toEqual([]);
  });

  it('refuses content longer than messageMaxLength, counted in characters', async () => {
    const { core, alice, dm, history } = await setup({ settings: { messageMaxLength: 5 } });
    await expectError(core.messages.send(alice, dm.id, { content: 'abcdef' }), 'validation');
    // Five emoji are ten UTF-16 code units but five characters.
    await core.messages.send(alice, dm.id, { content: '😀😀😀😀😀' });
    await core.messages.send(alice, dm.id, { content: 'abcde' });
    expect(await history(alice)).toEqual(['😀😀😀😀😀', 'abcde']);
  });

  it('strips the private highlight markers so a user cannot forge search highlights', async () => {
    const { core, alice, dm } = await setup();
    const { message } = await core.messages.send(alice, dm.id, { content: 'a\u{E000}fake\u{E001}b' });
    expect(message.content).toBe('afakeb');
  });

  it('a retry with the same clientId returns the first message and emits nothing new', async () => {
    const { core, store, events, alice, bob, dm } = await setup();
    const first = await core.messages.send(alice, dm.id, { content: 'only once', clientId: 'tmp-1' });
    const retry = await core.messages.send(alice, dm.id, { content: 'only once', clientId: 'tmp-1' });
    expect(retry.created).toBe(false);
    expect(retry.message).toEqual(first.message);
    expect(events.map((e) => e.type)).toEqual(['message.created']);
    expect(await store.countMessages(dm.id, { viewerId: bob.id, includeDeleted: true })).toBe(1);
    // The partner's own clientId space is separate.
    expect((await core.messages.send(bob, dm.id, { content: 'me too', clientId: 'tmp-1' })).created).toBe(true);

    await expectError(core.messages.send(alice, dm.id, { content: 'x', clientId: '' }), 'validation');
    await expectError(core.messages.send(alice, dm.id, { content: 'x', clientId: 'k'.repeat(65) }), 'validation');
    expect((await core.messages.send(alice, dm.id, { content: 'x', clientId: 'k'.repeat(64) })).created).toBe(true);
  });

  it('a reply must point at a live message of the same conversation', async () => {
    const { core, alice, bob, dm } = await setup();
    const other = (await core.conversations.create(alice, { kind: 'group', memberIds: [bob.id] })).conversation;
    const { message: q } = await core.messages.send(alice, dm.id, { content: 'question' });
    const { message: elsewhere } = await core.messages.send(alice, other.id, { content: 'elsewhere' });
    const { message: reply } = await core.messages.send(bob, dm.id, { content: 'answer', parentId: q.id });
    expect(reply.parentId).toBe(q.id);
    for (const parentId of [elsewhere.id, 999_999]) {
      const e = await expectError(core.messages.send(bob, dm.id, { content: 'x', parentId }), 'validation');
      expect(e.details).toHaveProperty('parent_id');
    }
  });

  it('only admins and moderators post in a channel', async () => {
    const { core, store, user, alice, bob } = await setup();
    const mod = await user('mod');
    const channel = (await core.conversations.create(alice, { kind: 'channel', title: 'News', memberIds: [bob.id, mod.id], isPublic: true })).conversation;
    await store.setMemberRole(channel.id, mod.id, 'moderator');
    await core.messages.send(alice, channel.id, { content: 'from the admin' });
    await core.messages.send(mod, channel.id, { content: 'from the moderator' });
    await expectError(core.messages.send(bob, channel.id, { content: 'from a member' }), 'forbidden');
    await expectError(core.messages.typing(bob, channel.id, true), 'forbidden');
    // Members still read it.
    expect((await core.messages.history(bob, channel.id, { newestFirst: false, limit: 10 })).items.map((m) => m.content)).toEqual([
      'from the admin',
      'from the moderator',
    ]);
  });

  it('a visitor of a public room sees it but must join before posting', async () => {
    const { core, user, alice } = await setup();
    const visitor = await user('visitor');
    const room = (await core.conversations.create(alice, { kind: 'room', title: 'Lobby' })).conversation;
    await core.messages.send(alice, room.id, { content: 'welcome' });
    expect((await core.messages.history(visitor, room.id, { newestFirst: false, limit: 10 })).total).toBe(1);
    await expectError(core.messages.send(visitor, room.id, { content: 'hi' }), 'forbidden');
    await core.conversations.join(visitor, room.id);
    expect((await core.messages.send(visitor, room.id, { content: 'hi' })).message.seq).toBe(2);
  });

  it('cannot write to a DM partner who was deactivated', async () => {
    const { core, store, alice, bob, dm } = await setup();
    await core.messages.send(alice, dm.id, { content: 'still there?' });
    await store.updateUser(bob.id, { isActive: false });
    await expectError(core.messages.send(alice, dm.id, { content: 'hello?' }), 'not_found');
  });
});

describe('history', () => {
  it('pages by message id in either direction, with the total', async () => {
    const { core, alice, bob, dm } = await setup();
    const sent = [];
    for (const content of ['one', 'two', 'three', 'four', 'five']) sent.push((await core.messages.send(alice, dm.id, { content })).message);
    const newest = await core.messages.history(bob, dm.id, { newestFirst: true, limit: 2 });
    expect(newest.total).toBe(5);
    expect(newest.items.map((m) => m.content)).toEqual(['five', 'four']);
    expect(newest.members.map((m) => m.userId)).toEqual([alice.id, bob.id]);
    const older = await core.messages.history(bob, dm.id, { newestFirst: true, limit: 2, before: sent[3]?.id });
    expect(older.items.map((m) => m.content)).toEqual(['three', 'two']);
    expect(older.total).toBe(3);
    const newer = await core.messages.history(bob, dm.id, { newestFirst: false, limit: 10, after: sent[2]?.id });
    expect(newer.items.map((m) => m.content)).toEqual(['four', 'five']);
    const offset = await core.messages.history(bob, dm.id, { newestFirst: false, limit: 2, offset: 1 });
    expect(offset.items.map((m) => m.content)).toEqual(['two', 'three']);
    await expectError(core.messages.history(bob, dm.id, { newestFirst: true, limit: 2, before: 999_999 }), 'validation');
  });
});

describe('editing', () => {
  it('the sender edits their message: new content, editedAt, message.updated', async () => {
    const { core, events, alice, bob, dm, tick, history } = await setup();
    const { message } = await core.messages.send(alice, dm.id, { content: 'helo' });
    const at = tick(60);
    const { message: edited } = await core.messages.edit(alice, message.id, 'hello');
    expect(edited).toMatchObject({ id: message.id, content: 'hello', editedAt: at, seq: 1 });
    expect(events.at(-1)).toEqual({ type: 'message.updated', conversation: expect.objectContaining({ id: dm.id }), message: edited });
    expect(await history(bob)).toEqual(['hello']);
  });

  it("others cannot edit it; content rules still apply; the feature can be turned off", async () => {
    const { core, alice, bob, dm, history } = await setup();
    const { message } = await core.messages.send(alice, dm.id, { content: 'mine' });
    await expectError(core.messages.edit(bob, message.id, 'yours'), 'forbidden');
    await expectError(core.messages.edit(alice, message.id, '   '), 'validation');
    await expectError(core.messages.edit(alice, 999_999, 'x'), 'not_found');
    expect(await history(bob)).toEqual(['mine']);

    const off = await setup({ settings: { allowEditingOwnMessages: false } });
    const { message: m } = await off.core.messages.send(off.alice, off.dm.id, { content: 'fixed forever' });
    await expectError(off.core.messages.edit(off.alice, m.id, 'changed'), 'feature_disabled');
  });
});

describe('deleting', () => {
  it('by default deletes for everyone, for good, with its reactions', async () => {
    const { core, store, events, alice, bob, dm, history } = await setup();
    const { message } = await core.messages.send(alice, dm.id, { content: 'oops' });
    await core.messages.send(alice, dm.id, { content: 'kept' });
    await core.messages.toggleReaction(bob, message.id, '😮');
    await core.messages.delete(alice, message.id);
    expect(events.at(-1)).toEqual({ type: 'message.deleted', conversation: expect.objectContaining({ id: dm.id }), messageId: message.id, soft: false });
    expect(await store.getMessage(message.id)).toBeNull();
    expect(await store.listReactions([message.id])).toEqual([]);
    expect(await history(bob)).toEqual(['kept']);
    expect(await history(alice)).toEqual(['kept']);
    await expectError(core.messages.get(bob, message.id), 'not_found');
  });

  it('with messageSoftDelete keeps a deleted marker in history (when indicators are shown)', async () => {
    const { core, store, events, alice, bob, dm, tick } = await setup({ settings: { messageSoftDelete: true } });
    const { message } = await core.messages.send(alice, dm.id, { content: 'regret' });
    await core.messages.send(alice, dm.id, { content: 'kept' });
    const at = tick(5);
    await core.messages.delete(alice, message.id);
    expect(events.at(-1)).toMatchObject({ type: 'message.deleted', messageId: message.id, soft: true });
    expect(await store.getMessage(message.id)).toMatchObject({ deletedAt: at });
    const page = await core.messages.history(bob, dm.id, { newestFirst: false, limit: 10 });
    expect(page.items.map((m) => [m.id, m.deletedAt])).toEqual([
      [message.id, at],
      [expect.any(Number), null],
    ]);
    await expectError(core.messages.get(bob, message.id), 'not_found');
    await expectError(core.messages.delete(alice, message.id), 'not_found');
    // Deleted messages never count as unread.
    expect(await core.messages.unreadCounts(bob)).toEqual(new Map([[dm.id, 1]]));

    const hidden = await setup({ settings: { messageSoftDelete: true, showDeletedMessageIndicators: false } });
    const { message: m } = await hidden.core.messages.send(hidden.alice, hidden.dm.id, { content: 'gone' });
    await hidden.core.messages.delete(hidden.alice, m.id);
    expect(await hidden.history(hidden.bob)).toEqual([]);
  });

  it("only the sender deletes; the feature can be turned off", async () => {
    const { core, alice, bob, dm, history } = await setup();
    const { message } = await core.messages.send(alice, dm.id, { content: 'mine' });
    await expectError(core.messages.delete(bob, message.id), 'forbidden');
    expect(await history(bob)).toEqual(['mine']);

    const off = await setup({ settings: { allowDeletingOwnMessages: false } });
    const { message: m } = await off.core.messages.send(off.alice, off.dm.id, { content: 'permanent' });
    await expectError(off.core.messages.delete(off.alice, m.id), 'feature_disabled');
  });
});

describe('hiding', () => {
  it('hides a message for one user only; the partner still sees it', async () => {
    const { core, events, alice, bob, dm, history } = await setup();
    const { message } = await core.messages.send(bob, dm.id, { content: 'spam' });
    await core.messages.send(bob, dm.id, { content: 'real' });
    await core.messages.hide(alice, message.id);
    expect(events.at(-1)).toEqual({ type: 'message.hidden', conversationId: dm.id, messageId: message.id, userId: alice.id });
    expect(await history(alice)).toEqual(['real']);
    expect(await history(bob)).toEqual(['spam', 'real']);
    expect(await core.messages.unreadCounts(alice)).toEqual(new Map([[dm.id, 1]]));
    await expectError(core.messages.get(alice, message.id), 'not_found');
    expect((await core.messages.get(bob, message.id)).message.content).toBe('spam');
    // The conversation list shows the newest message each user still sees.
    const list = await core.conversations.list(alice, { limit: 10 });
    expect(list.items[0]?.lastMessage?.content).toBe('real');
  });

  it('a visitor of a public room cannot hide its messages', async () => {
    const { core, user, alice } = await setup();
    const visitor = await user('visitor');
    const room = (await core.conversations.create(alice, { kind: 'room', title: 'Lobby' })).conversation;
    const { message } = await core.messages.send(alice, room.id, { content: 'hello' });
    await expectError(core.messages.hide(visitor, message.id), 'not_found');
  });
});

describe('reactions', () => {
  it('toggles a reaction and reports the grouped reactions with reaction.changed', async () => {
    const { core, events, user, alice, bob, tick } = await setup();
    const carol = await user('carol');
    const group = (await core.conversations.create(alice, { kind: 'group', memberIds: [bob.id, carol.id] })).conversation;
    const { message } = await core.messages.send(alice, group.id, { content: 'ship it?' });

    tick();
    expect(await core.messages.toggleReaction(bob, message.id, '👍')).toEqual({
      action: 'added',
      reactions: [{ emoji: '👍', count: 1, users: [bob.id] }],
    });
    tick();
    await core.messages.toggleReaction(carol, message.id, ' 🎉 ');
    tick();
    const third = await core.messages.toggleReaction(carol, message.id, '👍');
    expect(third.reactions).toEqual([
      { emoji: '👍', count: 2, users: [bob.id, carol.id] },
      { emoji: '🎉', count: 1, users: [carol.id] },
    ]);
    expect(events.at(-1)).toEqual({
      type: 'reaction.changed',
      conversation: expect.objectContaining({ id: group.id }),
      messageId: message.id,
      userId: carol.id,
      emoji: '👍',
      action: 'added',
      reactions: third.reactions,
    });

    tick();
    const removed = await core.messages.toggleReaction(bob, message.id, '👍');
    expect(removed).toEqual({
      action: 'removed',
      // Of the reactions left, carol's 🎉 came before her 👍.
      reactions: [
        { emoji: '🎉', count: 1, users: [carol.id] },
        { emoji: '👍', count: 1, users: [carol.id] },
      ],
    });
    expect(events.at(-1)).toMatchObject({ type: 'reaction.changed', action: 'removed', userId: bob.id });
    expect((await core.messages.reactionsOf([message.id])).get(message.id)).toEqual(removed.reactions);
  });

  it('refuses empty emoji and can be turned off', async () => {
    const { core, alice, bob, dm } = await setup();
    const { message } = await core.messages.send(alice, dm.id, { content: 'hi' });
    await expectError(core.messages.toggleReaction(bob, message.id, '  '), 'validation');
    await expectError(core.messages.toggleReaction(bob, message.id, 'x'.repeat(33)), 'validation');

    const off = await setup({ settings: { allowAddingReactions: false } });
    const { message: m } = await off.core.messages.send(off.alice, off.dm.id, { content: 'hi' });
    await expectError(off.core.messages.toggleReaction(off.bob, m.id, '👍'), 'feature_disabled');
  });

  it('a visitor of a public room cannot react', async () => {
    const { core, user, alice } = await setup();
    const visitor = await user('visitor');
    const room = (await core.conversations.create(alice, { kind: 'room', title: 'Lobby' })).conversation;
    const { message } = await core.messages.send(alice, room.id, { content: 'hello' });
    await expectError(core.messages.toggleReaction(visitor, message.id, '👍'), 'forbidden');
  });
});

describe('read state', () => {
  it("markRead returns how many of others' messages became read and emits read.updated", async () => {
    const { core, events, alice, bob, dm, tick } = await setup();
    await core.messages.send(bob, dm.id, { content: 'b1' });
    await core.messages.send(bob, dm.id, { content: 'b2' });
    const { message: b3 } = await core.messages.send(bob, dm.id, { content: 'b3' });
    await core.messages.send(bob, dm.id, { content: 'b4' });
    expect(await core.messages.unreadCounts(alice)).toEqual(new Map([[dm.id, 4]]));

    const at = tick(10);
    expect(await core.messages.markRead(alice, dm.id, b3.id)).toBe(3);
    expect(events.at(-1)).toEqual({
      type: 'read.updated',
      conversation: expect.objectContaining({ id: dm.id }),
      userId: alice.id,
      uptoSeq: 3,
      previousSeq: 0,
      at,
      marked: { fromSeq: 0, uptoSeq: 3 },
    });
    expect(await core.messages.unreadCounts(alice)).toEqual(new Map([[dm.id, 1]]));

    expect(await core.messages.markRead(alice, dm.id)).toBe(1);
    expect(events.at(-1)).toMatchObject({ type: 'read.updated', uptoSeq: 4, previousSeq: 3 });
    expect(await core.messages.unreadCounts(alice)).toEqual(new Map());

    // Nothing new: no count, no event.
    const n = events.length;
    expect(await core.messages.markRead(alice, dm.id)).toBe(0);
    expect(await core.messages.markRead(alice, dm.id, b3.id)).toBe(0);
    expect(events).toHaveLength(n);
  });

  it("markRead does not count the reader's own messages", async () => {
    const { core, alice, bob, dm } = await setup();
    await core.messages.send(bob, dm.id, { content: 'b1' });
    await core.messages.send(alice, dm.id, { content: 'a1' }); // replying moves alice's cursor past b1
    await core.messages.send(bob, dm.id, { content: 'b2' });
    await core.messages.send(alice, dm.id, { content: 'a2' });
    await core.messages.send(bob, dm.id, { content: 'b3' });
    expect(await core.messages.markRead(alice, dm.id)).toBe(1);
  });

  it('readBy lists the members whose cursor reached a message', async () => {
    const { core, alice, bob, dm } = await setup();
    const { message: m1 } = await core.messages.send(alice, dm.id, { content: 'one' });
    const { message: m2 } = await core.messages.send(alice, dm.id, { content: 'two' });
    await core.messages.markRead(bob, dm.id, m1.id);
    const { members } = await core.messages.get(bob, m2.id);
    expect(core.messages.readBy(m1, members)).toEqual([alice.id, bob.id]);
    expect(core.messages.readBy(m2, members)).toEqual([alice.id]);
  });

  it('markRead refuses a message of another conversation and a non-member', async () => {
    const { core, user, alice, bob, dm } = await setup();
    const group = (await core.conversations.create(alice, { kind: 'group', memberIds: [bob.id] })).conversation;
    const { message } = await core.messages.send(alice, group.id, { content: 'elsewhere' });
    await expectError(core.messages.markRead(bob, dm.id, message.id), 'validation');
    const visitor = await user('visitor');
    const room = (await core.conversations.create(alice, { kind: 'room', title: 'Lobby' })).conversation;
    await expectError(core.messages.markRead(visitor, room.id), 'not_found');
  });

  it('unread counts are per conversation and filter by kind', async () => {
    const { core, alice, bob, dm } = await setup();
    const group = (await core.conversations.create(alice, { kind: 'group', memberIds: [bob.id] })).conversation;
    await core.messages.send(alice, dm.id, { content: 'dm' });
    await core.messages.send(alice, group.id, { content: 'g1' });
    await core.messages.send(alice, group.id, { content: 'g2' });
    expect(await core.messages.unreadCounts(bob)).toEqual(
      new Map([
        [dm.id, 1],
        [group.id, 2],
      ]),
    );
    expect(await core.messages.unreadCounts(bob, { kinds: ['dm'] })).toEqual(new Map([[dm.id, 1]]));
    expect(await core.messages.unreadCounts(bob, { kinds: ['group'] })).toEqual(new Map([[group.id, 2]]));
  });
});

describe('delivery', () => {
  it('acknowledge moves the delivery cursor to the newest acknowledged message of each conversation', async () => {
    const { core, store, events, alice, bob, dm, tick } = await setup();
    const group = (await core.conversations.create(alice, { kind: 'group', memberIds: [bob.id] })).conversation;
    const d1 = (await core.messages.send(alice, dm.id, { content: 'd1' })).message;
    const d2 = (await core.messages.send(alice, dm.id, { content: 'd2' })).message;
    await core.messages.send(alice, dm.id, { content: 'd3' });
    const g1 = (await core.messages.send(alice, group.id, { content: 'g1' })).message;
    events.length = 0;

    const at = tick(3);
    const result = await core.messages.acknowledge(bob, [d2.id, g1.id, d1.id, d2.id]);
    expect(result).toEqual(
      expect.arrayContaining([
        { conversationId: dm.id, uptoSeq: 2 },
        { conversationId: group.id, uptoSeq: 1 },
      ]),
    );
    expect(result).toHaveLength(2);
    expect(await store.getMember(dm.id, bob.id)).toMatchObject({ lastDeliveredSeq: 2, deliveredAt: at, lastReadSeq: 0 });
    expect(events.map((e) => e.type)).toEqual(['delivery.updated', 'delivery.updated']);
    expect(events.find((e) => e.type === 'delivery.updated' && e.conversation.id === dm.id)).toMatchObject({ userId: bob.id, uptoSeq: 2, previousSeq: 0, at });

    // Acknowledging again, or an older message, moves nothing and emits nothing.
    expect(await core.messages.acknowledge(bob, [d1.id])).toEqual([{ conversationId: dm.id, uptoSeq: 2 }]);
    expect(events).toHaveLength(2);
    const { members } = await core.messages.get(alice, d2.id);
    expect(core.messages.deliveredTo(d2, members)).toEqual([alice.id, bob.id]);
  });

  it('acknowledge refuses an empty list, unknown ids and messages the user cannot see', async () => {
    const { core, user, alice, bob, dm } = await setup();
    const eve = await user('eve');
    const { message } = await core.messages.send(alice, dm.id, { content: 'private' });
    await expectError(core.messages.acknowledge(bob, []), 'validation');
    await expectError(core.messages.acknowledge(bob, [999_999]), 'not_found');
    await expectError(core.messages.acknowledge(eve, [message.id]), 'not_found');
    const room = (await core.conversations.create(alice, { kind: 'room', title: 'Lobby' })).conversation;
    const { message: public1 } = await core.messages.send(alice, room.id, { content: 'hello' });
    await expectError(core.messages.acknowledge(eve, [public1.id]), 'not_found');
  });

  it("pending lists others' messages not yet acknowledged, per conversation, oldest first", async () => {
    const { core, alice, bob, dm } = await setup();
    const group = (await core.conversations.create(alice, { kind: 'group', memberIds: [bob.id] })).conversation;
    await core.messages.send(alice, dm.id, { content: 'd1' });
    await core.messages.send(bob, dm.id, { content: 'mine' });
    const d3 = (await core.messages.send(alice, dm.id, { content: 'd3' })).message;
    await core.messages.send(alice, dm.id, { content: 'd4' });
    await core.messages.send(alice, group.id, { content: 'g1' });

    // bob's own post moved his delivery cursor past d1.
    const pending = await core.messages.pending(bob, 1);
    expect(pending.map((p) => [p.conversation.id, p.total, p.messages.map((m) => m.content)])).toEqual(
      expect.arrayContaining([
        [dm.id, 2, ['d3']],
        [group.id, 1, ['g1']],
      ]),
    );
    expect(pending).toHaveLength(2);
    expect(await core.messages.pending(alice)).toEqual([]);

    await core.messages.acknowledge(bob, [d3.id]);
    const after = await core.messages.pending(bob);
    expect(after.map((p) => [p.conversation.id, p.messages.map((m) => m.content)])).toEqual(
      expect.arrayContaining([
        [dm.id, ['d4']],
        [group.id, ['g1']],
      ]),
    );
  });

  it('markReadUpTo marks the conversation of a message read up to it', async () => {
    const { core, alice, bob, dm } = await setup();
    await core.messages.send(alice, dm.id, { content: 'one' });
    const { message: two } = await core.messages.send(alice, dm.id, { content: 'two' });
    await core.messages.send(alice, dm.id, { content: 'three' });
    expect(await core.messages.markReadUpTo(bob, two.id)).toEqual({ conversationId: dm.id, marked: 2 });
    expect(await core.messages.unreadCounts(bob)).toEqual(new Map([[dm.id, 1]]));
  });
});

describe('typing', () => {
  it('emits a typing event for members who may post', async () => {
    const { core, events, alice, dm } = await setup();
    await core.messages.typing(alice, dm.id, true);
    expect(events).toEqual([{ type: 'typing', conversation: expect.objectContaining({ id: dm.id }), userId: alice.id, isTyping: true }]);
  });
});

describe('events', () => {
  it('every write emits its event, in order', async () => {
    const { core, events, alice, bob, dm } = await setup({ settings: { messageSoftDelete: true } });
    const { message } = await core.messages.send(alice, dm.id, { content: 'one' });
    await core.messages.edit(alice, message.id, 'one!');
    await core.messages.toggleReaction(bob, message.id, '👍');
    await core.messages.markRead(bob, dm.id);
    const { message: two } = await core.messages.send(bob, dm.id, { content: 'two' });
    await core.messages.hide(alice, two.id);
    await core.messages.delete(alice, message.id);
    const group = (await core.conversations.create(alice, { kind: 'group', title: 'G' })).conversation;
    await core.conversations.update(alice, group.id, { title: 'G2' });
    await core.conversations.addMembers(alice, group.id, [bob.id]);
    await core.conversations.leave(bob, group.id);
    await core.conversations.delete(alice, group.id);
    expect(events.map((e) => e.type)).toEqual([
      'message.created',
      'message.updated',
      'reaction.changed',
      'read.updated',
      'message.created',
      'message.hidden',
      'message.deleted',
      'conversation.created',
      'conversation.updated',
      'member.added',
      'member.removed',
      'conversation.deleted',
    ]);
  });

  it('a throwing or rejecting subscriber does not fail the write nor starve other subscribers', async () => {
    const failures: [unknown, string][] = [];
    const { core, store, alice, bob, dm } = await setup({ onSubscriberError: (error, event) => failures.push([error, event.type]) });
    const boom = new Error('subscriber exploded');
    const late = new Error('subscriber rejected');
    core.events.on(() => {
      throw boom;
    });
    core.events.on(async () => {
      throw late;
    });
    const seen: string[] = [];
    core.events.on((e) => {
      seen.push(e.type);
    });

    const { message, created } = await core.messages.send(alice, dm.id, { content: 'still delivered' });
    expect(created).toBe(true);
    expect(await store.getMessage(message.id)).toEqual(message);
    expect(await core.messages.markRead(bob, dm.id)).toBe(1);
    expect(seen).toEqual(['message.created', 'read.updated']);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(failures).toHaveLength(4);
    expect(failures).toEqual(
      expect.arrayContaining([
        [boom, 'message.created'],
        [boom, 'read.updated'],
        [late, 'message.created'],
        [late, 'read.updated'],
      ]),
    );
  });

  it('unsubscribing stops delivery', async () => {
    const { core, alice, dm } = await setup();
    const seen: string[] = [];
    const off = core.events.on((e) => {
      seen.push(e.type);
    });
    await core.messages.send(alice, dm.id, { content: 'one' });
    off();
    await core.messages.send(alice, dm.id, { content: 'two' });
    expect(seen).toEqual(['message.created']);
  });
});

describe('per-message read state (drf-directmessages read_at)', () => {
  it('only reading marks messages read; a send moves the read cursor alone', async () => {
    const { core, alice, bob, dm, tick } = await setup();
    const m1 = (await core.messages.send(bob, dm.id, { content: 'one' })).message;
    const m2 = (await core.messages.send(bob, dm.id, { content: 'two' })).message;
    tick();
    await core.messages.send(alice, dm.id, { content: 'reply' });
    expect(await core.messages.unreadCounts(alice)).toEqual(new Map());
    expect(await core.messages.unreadCountsByMessage(alice, { kinds: ['dm'] })).toEqual(new Map([[dm.id, 2]]));
    expect(await core.messages.readTimes(alice.id, dm.id, [m1, m2])).toEqual(new Map());

    // Reading up to m1 (the cursor is already past it) still marks m1, and only m1.
    const at1 = tick();
    expect(await core.messages.markRead(alice, dm.id, m1.id)).toBe(0);
    expect(await core.messages.readTimes(alice.id, dm.id, [m1, m2])).toEqual(new Map([[m1.id, at1]]));
    const at2 = tick();
    await core.messages.markRead(alice, dm.id);
    expect(await core.messages.readTimes(alice.id, dm.id, [m1, m2])).toEqual(new Map([[m1.id, at1], [m2.id, at2]]));
    expect(await core.messages.unreadCountsByMessage(alice)).toEqual(new Map());
    // Nobody "reads" their own messages.
    expect(await core.messages.readTimes(bob.id, dm.id, [m1, m2])).toEqual(new Map());
  });

  it('a read after a reply marks the earlier messages: message_read fires, read.updated hooks do not', async () => {
    const read: string[][] = [];
    const positions: number[] = [];
    const { core, events, alice, bob, dm } = await setup({
      lifecycle: {
        after: {
          message_read: (p) => {
            read.push(p.messages.map((m) => m.content));
          },
          'read.updated': (e) => {
            positions.push(e.uptoSeq);
          },
        },
      },
    });
    await core.messages.send(bob, dm.id, { content: 'one' });
    await core.messages.send(bob, dm.id, { content: 'two' });
    await core.messages.send(alice, dm.id, { content: 'reply' });
    events.length = 0;
    expect(await core.messages.markRead(alice, dm.id)).toBe(0);
    expect(events).toEqual([expect.objectContaining({ type: 'read.updated', uptoSeq: 3, previousSeq: 3, marked: { fromSeq: 0, uptoSeq: 3 } })]);
    await new Promise((r) => setTimeout(r, 10));
    expect(read).toEqual([['one', 'two']]);
    // The read position did not move: nothing for subscribers that show it.
    expect(positions).toEqual([]);
  });

  it('hiding a message again succeeds quietly; strangers still get 404', async () => {
    const { core, events, alice, bob, dm, user } = await setup();
    const m = (await core.messages.send(bob, dm.id, { content: 'hide me' })).message;
    events.length = 0;
    await core.messages.hide(alice, m.id);
    await core.messages.hide(alice, m.id);
    expect(events.map((e) => e.type)).toEqual(['message.hidden']);
    const carol = await user('carol');
    await expectError(core.messages.hide(carol, m.id), 'not_found');
    await expectError(core.messages.hide(alice, 999_999), 'not_found');
  });
});

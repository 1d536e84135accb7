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

// Users get an empty display name unless a test gives one, so names fall back to usernames.
async function setup(options: Omit<CoreOptions, 'store' | 'now'> = {}) {
  const f = await coreFixture(options);
  return { ...f, user: (username: string, displayName = '') => f.user(username, displayName) };
}

const roles = async (store: Store, c: Conversation): Promise<[number, string][]> =>
  (await store.listMembers(c.id)).map((m) => [m.userId, m.role]);

describe('direct messages', () => {
  it('opening a DM is idempotent, from either side', async () => {
    const { core, store, events, user } = await setup();
    const alice = await user('alice');
    const bob = await user('bob');

    const first = await core.conversations.openDm(alice, bob.id);
    expect(first.created).toBe(true);
    expect(first.conversation).toMatchObject({ kind: 'dm', title: null, isPublic: false, createdBy: alice.id });
    expect(await roles(store, first.conversation)).toEqual([
      [alice.id, 'member'],
      [bob.id, 'member'],
    ]);

    const again = await core.conversations.openDm(alice, bob.id);
    const reverse = await core.conversations.openDm(bob, alice.id);
    const viaCreate = await core.conversations.create(bob, { kind: 'dm', memberIds: [alice.id] });
    for (const r of [again, reverse, viaCreate]) {
      expect(r).toEqual({ conversation: first.conversation, created: false });
    }
    expect(events.filter((e) => e.type === 'conversation.created')).toHaveLength(1);
    expect((await core.conversations.list(alice, { limit: 10 })).total).toBe(1);
    expect((await core.conversations.list(bob, { limit: 10 })).total).toBe(1);
  });

  it('refuses a DM with yourself as a validation error', async () => {
    const { core, user } = await setup();
    const alice = await user('alice');
    const e = await expectError(core.conversations.openDm(alice, alice.id), 'validation');
    expect(e.details).toHaveProperty('recipient');
    await expectError(core.conversations.create(alice, { kind: 'dm', memberIds: [alice.id] }), 'validation');
    expect((await core.conversations.list(alice, { limit: 10 })).total).toBe(0);
  });

  it('a DM needs exactly one other member', async () => {
    const { core, user } = await setup();
    const alice = await user('alice');
    const bob = await user('bob');
    const carol = await user('carol');
    await expectError(core.conversations.create(alice, { kind: 'dm', memberIds: [] }), 'validation');
    await expectError(core.conversations.create(alice, { kind: 'dm', memberIds: [bob.id, carol.id] }), 'validation');
    // Repeating the same id is still one member.
    const r = await core.conversations.create(alice, { kind: 'dm', memberIds: [bob.id, bob.id, alice.id] });
    expect(r.created).toBe(true);
  });

  it('unknown and inactive users cannot be messaged (not found)', async () => {
    const { core, store, user } = await setup();
    const alice = await user('alice');
    const gone = await user('gone');
    await store.updateUser(gone.id, { isActive: false });
    await expectError(core.conversations.openDm(alice, 999_999), 'not_found');
    await expectError(core.conversations.openDm(alice, gone.id), 'not_found');
  });

  describe('allowedRecipients whitelist', () => {
    it('a user in the list may message anyone; others may only message users in the list', async () => {
      const { user, store } = await setup();
      const support = await user('support');
      const alice = await user('alice');
      const bob = await user('bob');
      const restricted = createCore({ store, settings: { allowedRecipients: [support.id] }, now: () => new Date(T0) });

      expect((await restricted.conversations.openDm(alice, support.id)).created).toBe(true);
      expect((await restricted.conversations.openDm(support, bob.id)).created).toBe(true);
      const e = await expectError(restricted.conversations.openDm(alice, bob.id), 'validation');
      expect(e.details).toHaveProperty('recipient');
      await expectError(restricted.conversations.create(bob, { kind: 'dm', memberIds: [alice.id] }), 'validation');
    });

    it('null or an empty list means no restriction', async () => {
      for (const allowedRecipients of [null, []]) {
        const { core, user } = await setup({ settings: { allowedRecipients } });
        const alice = await user('alice');
        const bob = await user('bob');
        expect((await core.conversations.openDm(alice, bob.id)).created).toBe(true);
      }
    });

    it('is checked again on every DM send, not only when opening', async () => {
      const { core, store, user } = await setup();
      const support = await user('support');
      const alice = await user('alice');
      const bob = await user('bob');
      const { conversation } = await core.conversations.openDm(alice, bob.id);
      await core.messages.send(alice, conversation.id, { content: 'before the rule' });

      const restricted = createCore({ store, settings: { allowedRecipients: [support.id] }, now: () => new Date(T0) });
      await expectError(restricted.messages.send(alice, conversation.id, { content: 'after the rule' }), 'validation');
      expect(await store.countMessages(conversation.id, { viewerId: bob.id, includeDeleted: true })).toBe(1);
    });
  });

  it('the canContact hook can refuse a contact (forbidden), sync or async', async () => {
    const seen: [string, string][] = [];
    const { core, user } = await setup({
      settings: {
        canContact: (u, candidate) => {
          seen.push([u.username, candidate.username]);
          return candidate.username !== 'ceo';
        },
      },
    });
    const alice = await user('alice');
    const ceo = await user('ceo');
    const bob = await user('bob');
    await expectError(core.conversations.openDm(alice, ceo.id), 'forbidden');
    expect(seen).toEqual([['alice', 'ceo']]);
    expect((await core.conversations.openDm(alice, bob.id)).created).toBe(true);
    // The CEO may still write to alice: the hook is asked about the candidate.
    expect((await core.conversations.openDm(ceo, alice.id)).created).toBe(true);

    const asyncHook = await setup({ settings: { canContact: async () => false } });
    const x = await asyncHook.user('x');
    const y = await asyncHook.user('y');
    await expectError(asyncHook.core.conversations.openDm(x, y.id), 'forbidden');
  });

  it('disabled DMs answer feature_disabled', async () => {
    const { core, user } = await setup({ settings: { enableDms: false } });
    const alice = await user('alice');
    const bob = await user('bob');
    await expectError(core.conversations.openDm(alice, bob.id), 'feature_disabled');
    await expectError(core.conversations.create(alice, { kind: 'dm', memberIds: [bob.id] }), 'feature_disabled');
    // Groups still work.
    expect((await core.conversations.create(alice, { kind: 'group', memberIds: [bob.id] })).created).toBe(true);
  });

  it('findDm returns the existing DM or null; not_found for an unknown partner, validation for oneself', async () => {
    const { core, user } = await setup();
    const alice = await user('alice');
    const bob = await user('bob');
    expect(await core.conversations.findDm(alice, bob.id)).toEqual({ partner: bob, conversation: null });
    const { conversation } = await core.conversations.openDm(bob, alice.id);
    expect(await core.conversations.findDm(alice, bob.id)).toEqual({ partner: bob, conversation });
    await expectError(core.conversations.findDm(alice, alice.id), 'validation');
    await expectError(core.conversations.findDm(alice, 999_999), 'not_found');
  });

  it('a DM cannot be left, deleted or have members added or removed', async () => {
    const { core, user } = await setup();
    const alice = await user('alice');
    const bob = await user('bob');
    const carol = await user('carol');
    const { conversation } = await core.conversations.openDm(alice, bob.id);
    await expectError(core.conversations.leave(alice, conversation.id), 'validation');
    await expectError(core.conversations.addMembers(alice, conversation.id, [carol.id]), 'validation');
    await expectError(core.conversations.removeMember(alice, conversation.id, bob.id), 'validation');
    await expectError(core.conversations.delete(alice, conversation.id), 'forbidden');
    expect((await core.conversations.get(bob, conversation.id)).members).toHaveLength(2);
  });

  it('renaming DMs follows allowRenamingDms', async () => {
    const on = await setup();
    const a = await on.user('a');
    const b = await on.user('b');
    const dm = (await on.core.conversations.openDm(a, b.id)).conversation;
    expect((await on.core.conversations.update(b, dm.id, { title: 'Us' })).title).toBe('Us');

    const off = await setup({ settings: { allowRenamingDms: false } });
    const c = await off.user('c');
    const d = await off.user('d');
    const dm2 = (await off.core.conversations.openDm(c, d.id)).conversation;
    await expectError(off.core.conversations.update(c, dm2.id, { title: 'Us' }), 'feature_disabled');
  });
});

describe('groups, channels and rooms', () => {
  it('the creator of a group becomes its admin; the others are members', async () => {
    const { core, store, events, user } = await setup();
    const alice = await user('alice');
    const bob = await user('bob');
    const carol = await user('carol');
    const { conversation, created } = await core.conversations.create(alice, {
      kind: 'group',
      title: '  Trip planning  ',
      memberIds: [carol.id, bob.id, alice.id, bob.id],
      isPublic: true,
    });
    expect(created).toBe(true);
    expect(conversation).toMatchObject({ kind: 'group', title: 'Trip planning', isPublic: false, createdBy: alice.id });
    expect(await roles(store, conversation)).toEqual([
      [alice.id, 'admin'],
      [bob.id, 'member'],
      [carol.id, 'member'],
    ]);
    expect(events).toEqual([{ type: 'conversation.created', conversation }]);
  });

  it('unknown or inactive member ids are a validation error and create nothing', async () => {
    const { core, store, user } = await setup();
    const alice = await user('alice');
    const bob = await user('bob');
    const gone = await user('gone');
    await store.updateUser(gone.id, { isActive: false });
    const e = await expectError(core.conversations.create(alice, { kind: 'group', memberIds: [bob.id, 424_242] }), 'validation');
    expect(e.details?.member_ids?.[0]).toContain('424242');
    await expectError(core.conversations.create(alice, { kind: 'group', memberIds: [gone.id] }), 'validation');
    expect((await core.conversations.list(alice, { limit: 10 })).total).toBe(0);
  });

  it('titles are trimmed, blank means none, and long ones are refused', async () => {
    const { core, user } = await setup();
    const alice = await user('alice');
    expect((await core.conversations.create(alice, { kind: 'group', title: '   ' })).conversation.title).toBeNull();
    await expectError(core.conversations.create(alice, { kind: 'group', title: 'x'.repeat(201) }), 'validation');
    expect((await core.conversations.create(alice, { kind: 'group', title: 'x'.repeat(200) })).conversation.title).toHaveLength(200);
  });

  it('channels and rooms need a title (or an object key)', async () => {
    const { core, user } = await setup();
    const alice = await user('alice');
    const e = await expectError(core.conversations.create(alice, { kind: 'channel' }), 'validation');
    expect(e.details).toHaveProperty('title');
    await expectError(core.conversations.create(alice, { kind: 'room', title: '  ' }), 'validation');
    const room = await core.conversations.create(alice, { kind: 'room', objectKey: 'product:42' });
    expect(room.conversation).toMatchObject({ kind: 'room', objectKey: 'product:42', isPublic: true });
    const channel = await core.conversations.create(alice, { kind: 'channel', title: 'News' });
    expect(channel.conversation.isPublic).toBe(false);
  });

  it('a conversation cannot start with more than maxMembers members', async () => {
    const { core, user } = await setup({ settings: { maxMembers: 2 } });
    const alice = await user('alice');
    const bob = await user('bob');
    const carol = await user('carol');
    expect((await core.conversations.create(alice, { kind: 'group', memberIds: [bob.id] })).created).toBe(true);
    await expectError(core.conversations.create(alice, { kind: 'group', memberIds: [bob.id, carol.id] }), 'validation');
  });

  it('disabled chat rooms answer feature_disabled', async () => {
    const { core, user } = await setup({ settings: { enableChatRooms: false } });
    const alice = await user('alice');
    await expectError(core.conversations.create(alice, { kind: 'room', title: 'Lobby' }), 'feature_disabled');
    await expectError(core.conversations.roomForObject(alice, 'product:1'), 'feature_disabled');
  });

  it('roomForObject creates the public room of an object once', async () => {
    const { core, events, user } = await setup();
    const alice = await user('alice');
    const bob = await user('bob');
    const first = await core.conversations.roomForObject(alice, ' product:42 ');
    expect(first).toMatchObject({ memberCount: 0, member: null });
    expect(first.conversation).toMatchObject({ kind: 'room', objectKey: 'product:42', title: 'product:42', isPublic: true });
    const second = await core.conversations.roomForObject(bob, 'product:42');
    expect(second.conversation).toEqual(first.conversation);
    expect(events.filter((e) => e.type === 'conversation.created')).toHaveLength(1);

    await core.conversations.join(bob, first.conversation.id);
    const third = await core.conversations.roomForObject(bob, 'product:42');
    expect(third.memberCount).toBe(1);
    expect(third.member).toMatchObject({ userId: bob.id, role: 'member' });

    for (const bad of ['', 'product', 'product:', ':42', 'pro duct:42', 'a:b c']) {
      await expectError(core.conversations.roomForObject(alice, bad), 'validation');
    }
  });

  it('renaming and publishing: admins only; groups cannot be public', async () => {
    const { core, events, user, tick } = await setup();
    const alice = await user('alice');
    const bob = await user('bob');
    const group = (await core.conversations.create(alice, { kind: 'group', title: 'Old', memberIds: [bob.id] })).conversation;
    tick(60);
    const renamed = await core.conversations.update(alice, group.id, { title: ' New ' });
    expect(renamed).toMatchObject({ title: 'New', updatedAt: new Date(T0 + 60_000) });
    expect(events.at(-1)).toEqual({ type: 'conversation.updated', conversation: renamed });
    await expectError(core.conversations.update(bob, group.id, { title: 'Mine' }), 'forbidden');
    await expectError(core.conversations.update(alice, group.id, { isPublic: true }), 'validation');

    const channel = (await core.conversations.create(alice, { kind: 'channel', title: 'News', memberIds: [bob.id] })).conversation;
    expect((await core.conversations.update(alice, channel.id, { isPublic: true })).isPublic).toBe(true);
  });

  it('renaming rooms follows allowRenamingChatRooms', async () => {
    const { core, user } = await setup({ settings: { allowRenamingChatRooms: false } });
    const alice = await user('alice');
    const room = (await core.conversations.create(alice, { kind: 'room', title: 'Lobby' })).conversation;
    await expectError(core.conversations.update(alice, room.id, { title: 'Hall' }), 'feature_disabled');
    expect((await core.conversations.get(alice, room.id)).conversation.title).toBe('Lobby');
  });

  it('only an admin deletes a conversation; members learn who was in it', async () => {
    const { core, events, user } = await setup();
    const alice = await user('alice');
    const bob = await user('bob');
    const group = (await core.conversations.create(alice, { kind: 'group', memberIds: [bob.id] })).conversation;
    await core.messages.send(bob, group.id, { content: 'hi' });
    await expectError(core.conversations.delete(bob, group.id), 'forbidden');
    await core.conversations.delete(alice, group.id);
    expect(events.at(-1)).toEqual({ type: 'conversation.deleted', conversation: expect.objectContaining({ id: group.id }), memberIds: [alice.id, bob.id] });
    await expectError(core.conversations.get(alice, group.id), 'not_found');
    expect((await core.conversations.list(bob, { limit: 10 })).total).toBe(0);
  });
});

describe('joining and leaving', () => {
  it('anyone can see and join a public channel; joining twice is not an error', async () => {
    const { core, events, user, tick } = await setup();
    const alice = await user('alice');
    const bob = await user('bob');
    const channel = (await core.conversations.create(alice, { kind: 'channel', title: 'Announcements', isPublic: true })).conversation;
    await core.messages.send(alice, channel.id, { content: 'welcome' });

    expect((await core.conversations.get(bob, channel.id)).member).toBeNull();
    tick();
    const joined = await core.conversations.join(bob, channel.id);
    expect(joined.joined).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'member.added', userIds: [bob.id], by: bob.id });
    const n = events.length;
    expect((await core.conversations.join(bob, channel.id)).joined).toBe(false);
    expect(events).toHaveLength(n);
    // History from before joining is not unread.
    expect(await core.messages.unreadCounts(bob)).toEqual(new Map());
    // Joining does not give the right to post in a channel.
    await expectError(core.messages.send(bob, channel.id, { content: 'hello?' }), 'forbidden');
  });

  it('private channels and groups cannot be joined (not found)', async () => {
    const { core, user } = await setup();
    const alice = await user('alice');
    const eve = await user('eve');
    const channel = (await core.conversations.create(alice, { kind: 'channel', title: 'Staff' })).conversation;
    const group = (await core.conversations.create(alice, { kind: 'group' })).conversation;
    await expectError(core.conversations.join(eve, channel.id), 'not_found');
    await expectError(core.conversations.join(eve, group.id), 'not_found');
  });

  it('leaving removes the member and announces it; a non-member cannot leave', async () => {
    const { core, events, user } = await setup();
    const alice = await user('alice');
    const bob = await user('bob');
    const room = (await core.conversations.create(alice, { kind: 'room', title: 'Lobby' })).conversation;
    await core.conversations.join(bob, room.id);
    await core.conversations.leave(bob, room.id);
    expect(events.at(-1)).toMatchObject({ type: 'member.removed', userId: bob.id, by: bob.id });
    expect((await core.conversations.get(bob, room.id)).member).toBeNull();
    await expectError(core.conversations.leave(bob, room.id), 'not_found');
  });

  it('the last admin leaving hands the admin role to the oldest member', async () => {
    const { core, store, user, tick } = await setup();
    const alice = await user('alice');
    const carol = await user('carol');
    const bob = await user('bob');
    const dave = await user('dave');
    // carol joins at creation; bob (lower id than dave) later; dave last.
    const group = (await core.conversations.create(alice, { kind: 'group', memberIds: [carol.id] })).conversation;
    tick(10);
    await core.conversations.addMembers(alice, group.id, [bob.id]);
    tick(10);
    await core.conversations.addMembers(alice, group.id, [dave.id]);

    await core.conversations.leave(alice, group.id);
    expect(await roles(store, group)).toEqual([
      [carol.id, 'admin'],
      [bob.id, 'member'],
      [dave.id, 'member'],
    ]);
    // The new admin can administer.
    await core.conversations.removeMember(carol, group.id, dave.id);
    expect(await store.countMembers(group.id)).toBe(2);
  });

  it('an admin leaving while another admin remains hands nothing over', async () => {
    const { core, store, user } = await setup();
    const alice = await user('alice');
    const bob = await user('bob');
    const carol = await user('carol');
    const group = (await core.conversations.create(alice, { kind: 'group', memberIds: [bob.id, carol.id] })).conversation;
    await store.setMemberRole(group.id, carol.id, 'admin');
    await core.conversations.leave(alice, group.id);
    expect(await roles(store, group)).toEqual([
      [bob.id, 'member'],
      [carol.id, 'admin'],
    ]);
  });
});

describe('adding and removing members', () => {
  it('a group admin adds users; the answer counts only newcomers', async () => {
    const { core, events, user, store } = await setup();
    const alice = await user('alice');
    const bob = await user('bob');
    const carol = await user('carol');
    const dave = await user('dave');
    const group = (await core.conversations.create(alice, { kind: 'group', memberIds: [bob.id] })).conversation;
    expect(await core.conversations.addMembers(alice, group.id, [bob.id, carol.id, carol.id, dave.id])).toBe(2);
    expect(events.at(-1)).toMatchObject({ type: 'member.added', userIds: [carol.id, dave.id], by: alice.id });
    const n = events.length;
    expect(await core.conversations.addMembers(alice, group.id, [bob.id])).toBe(0);
    expect(events).toHaveLength(n);
    expect(await store.countMembers(group.id)).toBe(4);
  });

  it('group members who are not admins cannot add', async () => {
    const { core, user } = await setup();
    const alice = await user('alice');
    const bob = await user('bob');
    const carol = await user('carol');
    const group = (await core.conversations.create(alice, { kind: 'group', memberIds: [bob.id] })).conversation;
    await expectError(core.conversations.addMembers(bob, group.id, [carol.id]), 'forbidden');
  });

  it('channel moderators may add members; plain members may not', async () => {
    const { core, store, user } = await setup();
    const alice = await user('alice');
    const mod = await user('mod');
    const bob = await user('bob');
    const carol = await user('carol');
    const channel = (await core.conversations.create(alice, { kind: 'channel', title: 'News', memberIds: [mod.id, bob.id] })).conversation;
    await store.setMemberRole(channel.id, mod.id, 'moderator');
    await expectError(core.conversations.addMembers(bob, channel.id, [carol.id]), 'forbidden');
    expect(await core.conversations.addMembers(mod, channel.id, [carol.id])).toBe(1);
  });

  it('the list must name existing users and respect maxMembers', async () => {
    const { core, user } = await setup({ settings: { maxMembers: 3 } });
    const alice = await user('alice');
    const bob = await user('bob');
    const carol = await user('carol');
    const dave = await user('dave');
    const group = (await core.conversations.create(alice, { kind: 'group', memberIds: [bob.id] })).conversation;
    await expectError(core.conversations.addMembers(alice, group.id, []), 'validation');
    const e = await expectError(core.conversations.addMembers(alice, group.id, [424_242]), 'validation');
    expect(e.details).toHaveProperty('user_ids');
    expect(await core.conversations.addMembers(alice, group.id, [carol.id])).toBe(1);
    await expectError(core.conversations.addMembers(alice, group.id, [dave.id]), 'validation');
  });

  it('users who are already members do not count against maxMembers', async () => {
    const { core, store, user } = await setup({ settings: { maxMembers: 3 } });
    const alice = await user('alice');
    const bob = await user('bob');
    const carol = await user('carol');
    const group = (await core.conversations.create(alice, { kind: 'group', memberIds: [bob.id] })).conversation;
    // The picker sends the whole selection, bob included: the group ends with 3 members, within the limit.
    expect(await core.conversations.addMembers(alice, group.id, [bob.id, carol.id])).toBe(1);
    expect(await store.countMembers(group.id)).toBe(3);
    // Re-adding a member of a full group adds nobody and is not an error.
    expect(await core.conversations.addMembers(alice, group.id, [bob.id])).toBe(0);
  });

  it('an admin removes anyone; a member removes only themself', async () => {
    const { core, events, user } = await setup();
    const alice = await user('alice');
    const bob = await user('bob');
    const carol = await user('carol');
    const outsider = await user('outsider');
    const group = (await core.conversations.create(alice, { kind: 'group', memberIds: [bob.id, carol.id] })).conversation;

    await expectError(core.conversations.removeMember(bob, group.id, carol.id), 'forbidden');
    await expectError(core.conversations.removeMember(bob, group.id, alice.id), 'forbidden');
    await core.conversations.removeMember(alice, group.id, carol.id);
    expect(events.at(-1)).toMatchObject({ type: 'member.removed', userId: carol.id, by: alice.id });
    await expectError(core.conversations.get(carol, group.id), 'not_found');

    await core.conversations.removeMember(bob, group.id, bob.id);
    expect(events.at(-1)).toMatchObject({ type: 'member.removed', userId: bob.id, by: bob.id });
    await expectError(core.conversations.removeMember(alice, group.id, outsider.id), 'not_found');
    expect((await core.conversations.get(alice, group.id)).members.map((m) => m.userId)).toEqual([alice.id]);
  });
});

describe('privacy', () => {
  it('an outsider gets not_found for every operation on a private conversation', async () => {
    const { core, store, user } = await setup();
    const alice = await user('alice');
    const bob = await user('bob');
    const eve = await user('eve');
    const group = (await core.conversations.create(alice, { kind: 'group', title: 'Secret', memberIds: [bob.id] })).conversation;
    const dm = (await core.conversations.openDm(alice, bob.id)).conversation;
    const channel = (await core.conversations.create(alice, { kind: 'channel', title: 'Staff', memberIds: [bob.id] })).conversation;

    for (const c of [group, dm, channel]) {
      const { message } = await core.messages.send(alice, c.id, { content: 'members only' });
      const attempts: [string, () => Promise<unknown>][] = [
        ['get', () => core.conversations.get(eve, c.id)],
        ['update', () => core.conversations.update(eve, c.id, { title: 'Mine now' })],
        ['delete', () => core.conversations.delete(eve, c.id)],
        ['join', () => core.conversations.join(eve, c.id)],
        ['leave', () => core.conversations.leave(eve, c.id)],
        ['addMembers', () => core.conversations.addMembers(eve, c.id, [eve.id])],
        ['removeMember', () => core.conversations.removeMember(eve, c.id, bob.id)],
        ['send', () => core.messages.send(eve, c.id, { content: 'let me in' })],
        ['history', () => core.messages.history(eve, c.id, { newestFirst: true, limit: 10 })],
        ['markRead', () => core.messages.markRead(eve, c.id)],
        ['typing', () => core.messages.typing(eve, c.id, true)],
        ['message.get', () => core.messages.get(eve, message.id)],
        ['message.edit', () => core.messages.edit(eve, message.id, 'x')],
        ['message.delete', () => core.messages.delete(eve, message.id)],
        ['message.hide', () => core.messages.hide(eve, message.id)],
        ['message.react', () => core.messages.toggleReaction(eve, message.id, '👍')],
      ];
      for (const [what, attempt] of attempts) {
        const error = await attempt().then(
          () => new Error(`${c.kind} ${what} succeeded`),
          (e: unknown) => e,
        );
        expect({ what, kind: c.kind, code: (error as ParleyError).code }).toEqual({ what, kind: c.kind, code: 'not_found' });
      }
      // Nothing changed.
      expect(await store.getConversation(c.id)).toMatchObject({ title: c.title, lastSeq: 1 });
      expect(await store.getMember(c.id, eve.id)).toBeNull();
    }
    // The same answer as for an id that does not exist.
    await expectError(core.conversations.get(eve, 999_999), 'not_found');
  });
});

describe('conversation list', () => {
  it('lists summaries with members, last message and unread count, newest activity first', async () => {
    const { core, user, tick } = await setup();
    const alice = await user('alice', 'Alice');
    const bob = await user('bob', 'Bobby Tables');
    const carol = await user('carol');
    const dm = (await core.conversations.openDm(alice, bob.id)).conversation;
    tick();
    const group = (await core.conversations.create(alice, { kind: 'group', title: 'Project X', memberIds: [carol.id] })).conversation;
    tick();
    await core.messages.send(bob, dm.id, { content: 'ping' });
    tick();
    const { message: pong } = await core.messages.send(bob, dm.id, { content: 'pong' });

    const page = await core.conversations.list(alice, { limit: 10 });
    expect(page.total).toBe(2);
    expect(page.items.map((s) => s.conversation.id)).toEqual([dm.id, group.id]);
    expect(page.items[0]).toMatchObject({ lastMessage: pong, unreadCount: 2 });
    expect(page.items[0]?.members.map((m) => m.userId)).toEqual([alice.id, bob.id]);
    expect(page.items[1]).toMatchObject({ lastMessage: null, unreadCount: 0 });

    expect((await core.conversations.list(alice, { limit: 10, search: 'tables' })).items.map((s) => s.conversation.id)).toEqual([dm.id]);
    expect((await core.conversations.list(alice, { limit: 10, kinds: ['group'] })).items.map((s) => s.conversation.id)).toEqual([group.id]);
    const next = await core.conversations.list(alice, { limit: 1, after: page.items[0]?.conversation });
    expect(next.items.map((s) => s.conversation.id)).toEqual([group.id]);
    expect(next.total).toBe(2);
  });
});

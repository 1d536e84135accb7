import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/index.js';
import {
  type Conversation,
  type ConversationKind,
  type CoreOptions,
  type ErrorCode,
  type Member,
  type MemberRole,
  type Policy,
  type PolicyContext,
  type Store,
  type User,
  ParleyError,
  createCore,
  createPolicy,
  defaultCoreSettings,
} from './index.js';

/**
 * The default rules, checked on real rows: each case builds the conversation and the
 * membership in an in-memory SQLite store and asks the policy about them.
 */
const T0 = new Date(Date.UTC(2024, 2, 1, 12, 0, 0));

let store: Store;
let actor: User;
let other: User;

beforeEach(async () => {
  store = openSqliteStore({ filename: ':memory:' });
  await store.migrate();
  actor = await store.createUser({ username: 'actor', displayName: 'Actor', email: 'a@example.com', passwordHash: null, now: T0 });
  other = await store.createUser({ username: 'other', displayName: 'Other', email: 'o@example.com', passwordHash: null, now: T0 });
});

afterEach(async () => {
  await store.close();
});

type As = MemberRole | 'outsider';

/** A conversation of `kind` where the actor has role `as` (or is not a member) and `other` is a member. */
async function context(kind: ConversationKind, as: As, isPublic = false): Promise<PolicyContext> {
  const members: { userId: number; role: MemberRole }[] = [{ userId: other.id, role: 'member' }];
  if (as !== 'outsider') members.push({ userId: actor.id, role: as });
  const conversation: Conversation = await store.createConversation({
    kind,
    title: kind === 'dm' ? null : 'T',
    objectKey: null,
    dmKey: null,
    isPublic,
    createdBy: other.id,
    members,
    now: T0,
  });
  return { actor, conversation, member: await store.getMember(conversation.id, actor.id) };
}

const memberOf = async (pc: PolicyContext, userId: number): Promise<Member> => {
  const m = await store.getMember(pc.conversation.id, userId);
  if (!m) throw new Error('not a member');
  return m;
};

const KINDS: ConversationKind[] = ['dm', 'group', 'channel', 'room'];
const ROLES: As[] = ['admin', 'moderator', 'member', 'outsider'];

/** Asks `check` for every kind × role and returns the cells where it said yes, as "kind/role". */
async function allowedCells(check: (pc: PolicyContext) => Promise<boolean>, isPublic = false): Promise<string[]> {
  const yes: string[] = [];
  for (const kind of KINDS) {
    for (const role of ROLES) {
      if (kind === 'dm' && (role === 'admin' || role === 'moderator')) continue; // DMs have plain members only
      if (await check(await context(kind, role, isPublic))) yes.push(`${kind}/${role}`);
    }
  }
  return yes;
}

const policy = createPolicy(defaultCoreSettings);

describe('default policy', () => {
  it('canView: members always; outsiders only public channels and rooms', async () => {
    expect(await allowedCells((pc) => policy.canView(pc))).toEqual([
      'dm/member',
      'group/admin', 'group/moderator', 'group/member',
      'channel/admin', 'channel/moderator', 'channel/member',
      'room/admin', 'room/moderator', 'room/member',
    ]);
    // A public flag never opens a DM or a group to outsiders.
    const publicCells = await allowedCells((pc) => policy.canView(pc), true);
    expect(publicCells.filter((c) => c.endsWith('/outsider'))).toEqual(['channel/outsider', 'room/outsider']);
  });

  it('canPost: members, except that only admins and moderators post in channels', async () => {
    expect(await allowedCells((pc) => policy.canPost(pc), true)).toEqual([
      'dm/member',
      'group/admin', 'group/moderator', 'group/member',
      'channel/admin', 'channel/moderator',
      'room/admin', 'room/moderator', 'room/member',
    ]);
  });

  it('canModify: admins; DMs by their members (the rename switches are the core\'s, not the policy\'s)', async () => {
    expect(await allowedCells((pc) => policy.canModify(pc))).toEqual(['dm/member', 'group/admin', 'channel/admin', 'room/admin']);
    // A room admin may still change is_public when renaming rooms is off.
    const strict = createPolicy({ ...defaultCoreSettings, allowRenamingDms: false, allowRenamingChatRooms: false });
    expect(await allowedCells((pc) => strict.canModify(pc))).toEqual(['dm/member', 'group/admin', 'channel/admin', 'room/admin']);
  });

  it('canDelete: admins of groups, channels and rooms; never a DM', async () => {
    expect(await allowedCells((pc) => policy.canDelete(pc))).toEqual(['group/admin', 'channel/admin', 'room/admin']);
  });

  it('canAddMembers: group admins; channel and room admins and moderators; never a DM', async () => {
    expect(await allowedCells((pc) => policy.canAddMembers(pc))).toEqual([
      'group/admin',
      'channel/admin', 'channel/moderator',
      'room/admin', 'room/moderator',
    ]);
  });

  it('canRemoveMember: admins remove anyone; others only themselves', async () => {
    const removeOther = await allowedCells(async (pc) => policy.canRemoveMember(pc, await memberOf(pc, other.id)));
    expect(removeOther).toEqual(['group/admin', 'channel/admin', 'room/admin']);
    const removeSelf = await allowedCells(async (pc) => (pc.member ? policy.canRemoveMember(pc, pc.member) : false));
    expect(removeSelf).toEqual([
      'dm/member',
      'group/admin', 'group/moderator', 'group/member',
      'channel/admin', 'channel/moderator', 'channel/member',
      'room/admin', 'room/moderator', 'room/member',
    ]);
  });

  it('canEditMessage and canDeleteMessage: the sender only, while a member', async () => {
    const pc = await context('group', 'admin');
    const own = (await store.insertMessage({ conversationId: pc.conversation.id, senderId: actor.id, content: 'mine', parentId: null, clientId: null, now: T0 })).message;
    const theirs = (await store.insertMessage({ conversationId: pc.conversation.id, senderId: other.id, content: 'theirs', parentId: null, clientId: null, now: T0 })).message;
    expect(await policy.canEditMessage(pc, own)).toBe(true);
    expect(await policy.canDeleteMessage(pc, own)).toBe(true);
    // Even an admin cannot edit or delete someone else's message for everyone.
    expect(await policy.canEditMessage(pc, theirs)).toBe(false);
    expect(await policy.canDeleteMessage(pc, theirs)).toBe(false);
    // After leaving, one's old messages are out of reach.
    const left: PolicyContext = { ...pc, member: null };
    expect(await policy.canEditMessage(left, own)).toBe(false);
    expect(await policy.canDeleteMessage(left, own)).toBe(false);
  });

  it('canReact: members only', async () => {
    expect(await allowedCells((pc) => policy.canReact(pc), true)).toEqual([
      'dm/member',
      'group/admin', 'group/moderator', 'group/member',
      'channel/admin', 'channel/moderator', 'channel/member',
      'room/admin', 'room/moderator', 'room/member',
    ]);
  });

  it('overrides replace single rules and keep the others', async () => {
    const custom = createPolicy(defaultCoreSettings, { canPost: async () => false });
    const pc = await context('group', 'admin');
    expect(await custom.canPost(pc)).toBe(false);
    expect(await custom.canView(pc)).toBe(true);
    expect(await custom.canDelete(pc)).toBe(true);
  });

  it('the seed-named checks answer like the can… methods they back', async () => {
    const same = async (seed: (pc: PolicyContext) => Promise<boolean>, can: (pc: PolicyContext) => Promise<boolean>) =>
      expect(await allowedCells(seed, true)).toEqual(await allowedCells(can, true));
    await same((pc) => policy.haveRoomPermission(pc), (pc) => policy.canView(pc));
    await same((pc) => policy.haveSendMessagePermission(pc), (pc) => policy.canPost(pc));
    await same((pc) => policy.haveAdminPrivileges(pc, 'modify'), (pc) => policy.canModify(pc));
    await same((pc) => policy.haveAdminPrivileges(pc, 'delete'), (pc) => policy.canDelete(pc));
    await same((pc) => policy.haveRoomPermissionsToAddOrRemoveMembers(pc, 'add'), (pc) => policy.canAddMembers(pc));
  });

  it('overriding a seed-named check changes every can… method that relies on it, and only those', async () => {
    const custom = createPolicy(defaultCoreSettings, {
      haveAdminPrivileges: async ({ member }) => member?.role === 'moderator',
      isMessageSender: async () => true,
    });
    const moderator = await context('group', 'moderator');
    const admin = await context('group', 'admin');
    expect(await custom.canModify(moderator)).toBe(true);
    expect(await custom.canDelete(moderator)).toBe(true);
    expect(await custom.canDelete(admin)).toBe(false);
    expect(await custom.canPost(moderator)).toBe(true);
    const foreign = { senderId: other.id } as Parameters<Policy['canEditMessage']>[1];
    expect(await custom.canEditMessage(moderator, foreign)).toBe(true);
    expect(await custom.canDeleteMessage(moderator, foreign)).toBe(true);
    // A `can…` override wins over the seed check behind it.
    const both = createPolicy(defaultCoreSettings, { haveSendMessagePermission: async () => false, canPost: async () => true });
    expect(await both.canPost(admin)).toBe(true);
  });
});

describe('a host policy through the core', () => {
  async function setup(policyOverrides: Partial<Policy>, options: Omit<CoreOptions, 'store' | 'now' | 'policy'> = {}) {
    const core = createCore({ ...options, store, policy: policyOverrides, now: () => T0 });
    const group = (await core.conversations.create(actor, { kind: 'group', title: 'G', memberIds: [other.id] })).conversation;
    return { core, group };
  }

  async function expectError(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
    const error = await promise.then(
      () => new Error('expected an error'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ParleyError);
    expect((error as ParleyError).code).toBe(code);
  }

  it('a refused canView hides the conversation (not_found), even from members', async () => {
    const { core, group } = await setup({ canView: async ({ actor: a }) => a.id !== other.id });
    expect((await core.conversations.get(actor, group.id)).conversation.id).toBe(group.id);
    await expectError(core.conversations.get(other, group.id), 'not_found');
    await expectError(core.messages.send(other, group.id, { content: 'hi' }), 'not_found');
  });

  it('any other refused check is forbidden', async () => {
    const { core, group } = await setup({
      canPost: async ({ actor: a }) => a.id !== other.id, // e.g. a muted user
      canReact: async () => false,
    });
    await expectError(core.messages.send(other, group.id, { content: 'muted' }), 'forbidden');
    const { message } = await core.messages.send(actor, group.id, { content: 'hello' });
    await expectError(core.messages.toggleReaction(other, message.id, '👍'), 'forbidden');
    expect(await store.listReactions([message.id])).toEqual([]);
  });

  it('a host may let moderators remove other people’s messages', async () => {
    const { core, group } = await setup({
      canDeleteMessage: async ({ actor: a, member }, message) =>
        member !== null && (message.senderId === a.id || member.role === 'admin' || member.role === 'moderator'),
    });
    const { message } = await core.messages.send(other, group.id, { content: 'off-topic' });
    await core.messages.delete(actor, message.id); // actor is the group's admin
    expect(await store.getMessage(message.id)).toBeNull();
  });
});

import { removeStoredFiles } from './attachments.js';
import { type CoreContext, commit, ensure, loadVisible } from './context.js';
import { ParleyError, featureDisabled, forbidden, invalid, isParleyError, notFound } from './errors.js';
import { runBefore } from './hooks.js';
import { checkMetadata } from './metadata.js';
import { dmKey } from './ports/store.js';
import type { Conversation, ConversationId, ConversationKind, Member, Message, Metadata, User, UserId } from './types.js';

/** One row of a conversation list: what a chat list needs in one go. */
export interface ConversationSummary {
  conversation: Conversation;
  members: Member[];
  lastMessage: Message | null;
  unreadCount: number;
}

export interface CreateConversationInput {
  kind: ConversationKind;
  title?: string | null | undefined;
  memberIds?: readonly UserId[] | undefined;
  objectKey?: string | null | undefined;
  isPublic?: boolean | undefined;
  /** Host-defined data (a JSON object, checked against `metadataSchema.conversation`); not kept for DMs. */
  metadata?: Metadata | null | undefined;
}

const TITLE_MAX = 200;

/** Conversations: DMs, groups, channels and rooms, and who is in them. */
export class Conversations {
  constructor(private readonly ctx: CoreContext) {}

  /** The actor's conversations, newest activity first, with last message and unread count. */
  async list(
    actor: User,
    q: {
      limit: number;
      offset?: number;
      search?: string;
      kinds?: readonly ConversationKind[];
      /** Continue after this position (the last item of the previous page). */
      after?: Pick<Conversation, 'lastActivityAt' | 'id'>;
    },
  ): Promise<{ total: number; items: ConversationSummary[] }> {
    const { store } = this.ctx;
    const page = await store.listConversations(actor.id, {
      limit: q.limit,
      ...(q.offset !== undefined ? { offset: q.offset } : {}),
      ...(q.search ? { search: q.search } : {}),
      ...(q.kinds ? { kinds: q.kinds } : {}),
      ...(q.after ? { after: { lastActivityAt: q.after.lastActivityAt, id: q.after.id } } : {}),
    });
    const ids = page.items.map((c) => c.id);
    const [members, last, unread] = await Promise.all([
      store.listMembersOf(ids),
      store.lastMessages(ids, actor.id),
      store.countUnread(actor.id, { conversationIds: ids }),
    ]);
    const byConversation = groupBy(members, (m) => m.conversationId);
    return {
      total: page.total,
      items: page.items.map((conversation) => ({
        conversation,
        members: byConversation.get(conversation.id) ?? [],
        lastMessage: last.get(conversation.id) ?? null,
        unreadCount: unread.get(conversation.id) ?? 0,
      })),
    };
  }

  /**
   * Creates a conversation. A DM is opened instead (and returned if it already exists);
   * `created` says which. The creator becomes admin of groups, channels and rooms.
   */
  async create(actor: User, input: CreateConversationInput): Promise<{ conversation: Conversation; created: boolean }> {
    const others = [...new Set((input.memberIds ?? []).filter((id) => id !== actor.id))];
    if (input.kind === 'dm') {
      if (others.length !== 1 || others[0] === undefined) {
        throw invalid('member_ids', 'A direct message needs exactly one other member.');
      }
      await this.requireUsers(others, 'member_ids');
      return this.openDm(actor, others[0]);
    }
    if (input.kind === 'room' && !this.ctx.settings.enableChatRooms) throw featureDisabled('Chat rooms are disabled.');
    const title = normaliseTitle(input.title);
    if ((input.kind === 'channel' || input.kind === 'room') && !title && !input.objectKey) {
      throw invalid('title', 'This field is required.');
    }
    if (others.length + 1 > this.ctx.settings.maxMembers) {
      throw invalid('member_ids', `A conversation can have at most ${this.ctx.settings.maxMembers} members.`);
    }
    await this.requireUsers(others, 'member_ids');
    const objectKey = input.objectKey ? normaliseObjectKey(input.objectKey) : null;
    const metadata = checkMetadata(this.ctx.validateMetadata, 'conversation', input.metadata);
    await runBefore(this.ctx.hooks, 'conversation.create', { actor, kind: input.kind, title, objectKey, memberIds: others });
    const conversation = await commit(this.ctx, async (tx) => {
      const conversation = await tx.createConversation({
      kind: input.kind,
      title,
      objectKey,
      dmKey: null,
      isPublic: input.kind === 'group' ? false : (input.isPublic ?? input.kind === 'room'),
      createdBy: actor.id,
      members: [{ userId: actor.id, role: 'admin' }, ...others.map((userId) => ({ userId, role: 'member' as const }))],
      now: this.ctx.now(),
      ...(metadata != null ? { metadata } : {}),
      });
      return { value: conversation, events: [{ type: 'conversation.created', conversation }] };
    });
    return { conversation, created: true };
  }

  /**
   * The DM between the actor and `otherId`, created on first use. Refuses self-messages and
   * whitelist violations (validation), contacts the contact-list hook refuses (forbidden),
   * and unknown or inactive users (not found).
   */
  async openDm(actor: User, otherId: UserId): Promise<{ conversation: Conversation; created: boolean }> {
    const other = await this.checkDmAllowed(actor, otherId);
    const key = dmKey(actor.id, other.id);
    const existing = await this.ctx.store.getConversationByDmKey(key);
    if (existing) return { conversation: existing, created: false };
    await runBefore(this.ctx.hooks, 'conversation.create', { actor, kind: 'dm', title: null, objectKey: null, memberIds: [other.id] });
    try {
      const conversation = await commit(this.ctx, async (tx) => {
        const conversation = await tx.createConversation({
        kind: 'dm',
        title: null,
        objectKey: null,
        dmKey: key,
        isPublic: false,
        createdBy: actor.id,
        members: [
          { userId: actor.id, role: 'member' },
          { userId: other.id, role: 'member' },
        ],
        now: this.ctx.now(),
        });
        return { value: conversation, events: [{ type: 'conversation.created', conversation }] };
      });
      return { conversation, created: true };
    } catch (e) {
      // Two first messages racing: the loser takes the winner's conversation.
      if (isParleyError(e) && e.code === 'conflict') {
        const winner = await this.ctx.store.getConversationByDmKey(key);
        if (winner) return { conversation: winner, created: false };
      }
      throw e;
    }
  }

  /** The existing DM with `partnerId`, or null; the partner must exist. */
  async findDm(actor: User, partnerId: UserId): Promise<{ partner: User; conversation: Conversation | null }> {
    const partner = await this.ctx.store.getUser(partnerId);
    if (!partner) throw notFound();
    if (partnerId === actor.id) throw invalid('recipient', 'You cannot send a message to yourself.');
    return { partner, conversation: await this.ctx.store.getConversationByDmKey(dmKey(actor.id, partnerId)) };
  }

  /**
   * The rules for messaging `otherId` directly, checked on every DM send as well as on
   * opening, as drf-directmessages does. Returns the other user.
   */
  async checkDmAllowed(actor: User, otherId: UserId): Promise<User> {
    const { settings, store } = this.ctx;
    if (!settings.enableDms) throw featureDisabled('Direct messages are disabled.');
    if (otherId === actor.id) throw invalid('recipient', 'You cannot send a message to yourself.');
    const other = await store.getUser(otherId);
    if (!other || !other.isActive) throw notFound();
    const allowed = settings.allowedRecipients;
    if (allowed && allowed.length > 0 && !allowed.includes(actor.id) && !allowed.includes(other.id)) {
      throw invalid('recipient', 'You are not allowed to send messages to this user.');
    }
    if (!(await settings.canContact(actor, other))) {
      throw forbidden('You cannot start a conversation with this user.');
    }
    // Blocked by the other user: refused like the contact list does, without saying why.
    if ((await store.listBlockersOf(actor.id, [other.id])).length > 0) {
      throw forbidden('You cannot send messages to this user.');
    }
    return other;
  }

  /** A conversation the actor can see, with its members. */
  async get(actor: User, id: ConversationId): Promise<{ conversation: Conversation; members: Member[]; member: Member | null }> {
    const pc = await loadVisible(this.ctx, actor, id);
    const members = await this.ctx.store.listMembers(id);
    return { conversation: pc.conversation, members, member: pc.member };
  }

  /** `metadata`, when given, replaces the conversation's metadata (null clears it). */
  async update(actor: User, id: ConversationId, patch: { title?: string | null; isPublic?: boolean; metadata?: Metadata | null }): Promise<Conversation> {
    const pc = await loadVisible(this.ctx, actor, id);
    const { conversation } = pc;
    if (patch.title !== undefined) {
      if (conversation.kind === 'dm' && !this.ctx.settings.allowRenamingDms) throw featureDisabled('Renaming direct messages is disabled.');
      if (conversation.kind === 'room' && !this.ctx.settings.allowRenamingChatRooms) throw featureDisabled('Renaming chat rooms is disabled.');
    }
    ensure(await this.ctx.policy.canModify(pc));
    if (patch.isPublic !== undefined && (conversation.kind === 'dm' || conversation.kind === 'group')) {
      throw invalid('is_public', 'Only rooms and channels can be public.');
    }
    const next: { title?: string | null; isPublic?: boolean; metadata?: Metadata | null } = {};
    if (patch.title !== undefined) next.title = normaliseTitle(patch.title);
    if (patch.isPublic !== undefined) next.isPublic = patch.isPublic;
    const metadata = checkMetadata(this.ctx.validateMetadata, 'conversation', patch.metadata);
    if (metadata !== undefined) next.metadata = metadata;
    return commit(this.ctx, async (tx) => {
      const updated = await tx.updateConversation(id, next, this.ctx.now());
      if (!updated) throw notFound();
      return { value: updated, events: [{ type: 'conversation.updated', conversation: updated }] };
    });
  }

  async delete(actor: User, id: ConversationId): Promise<void> {
    const pc = await loadVisible(this.ctx, actor, id);
    ensure(await this.ctx.policy.canDelete(pc));
    const members = await this.ctx.store.listMembers(id);
    const attachments = await this.ctx.store.listConversationAttachments(id);
    await commit(this.ctx, async (tx) => {
      await tx.deleteConversation(id);
      return { value: undefined, events: [{ type: 'conversation.deleted', conversation: pc.conversation, memberIds: members.map((m) => m.userId) }] };
    });
    await removeStoredFiles(this.ctx, attachments);
  }

  /** The room of a content object (`product:42`), created public on first request. */
  async roomForObject(actor: User, objectKey: string): Promise<{ conversation: Conversation; memberCount: number; member: Member | null }> {
    if (!this.ctx.settings.enableChatRooms) throw featureDisabled('Chat rooms are disabled.');
    const key = normaliseObjectKey(objectKey);
    let conversation = await this.ctx.store.getConversationByObjectKey(key);
    if (!conversation) {
      await runBefore(this.ctx.hooks, 'conversation.create', { actor, kind: 'room', title: key, objectKey: key, memberIds: [] });
      try {
        conversation = await commit(this.ctx, async (tx) => {
          const created = await tx.createConversation({
            kind: 'room',
            title: key,
            objectKey: key,
            dmKey: null,
            isPublic: true,
            createdBy: actor.id,
            members: [],
            now: this.ctx.now(),
          });
          return { value: created, events: [{ type: 'conversation.created', conversation: created }] };
        });
      } catch (e) {
        if (!(isParleyError(e) && e.code === 'conflict')) throw e;
        conversation = await this.ctx.store.getConversationByObjectKey(key);
        if (!conversation) throw e;
      }
    }
    const pc = await loadVisible(this.ctx, actor, conversation.id);
    return { conversation, memberCount: await this.ctx.store.countMembers(conversation.id), member: pc.member };
  }

  /** Joins a public room or channel. Joining twice is not an error. */
  async join(actor: User, id: ConversationId): Promise<{ conversation: Conversation; joined: boolean }> {
    const pc = await loadVisible(this.ctx, actor, id);
    if (pc.member) return { conversation: pc.conversation, joined: false };
    if (!pc.conversation.isPublic) throw notFound();
    await this.checkCapacity(id, 1);
    await runBefore(this.ctx.hooks, 'member.add', { actor, conversation: pc.conversation, userIds: [actor.id] });
    const added = await this.addAndAnnounce(pc.conversation, [{ userId: actor.id, role: 'member' }], actor.id);
    return { conversation: pc.conversation, joined: added.length > 0 };
  }

  /** Leaves a group, channel or room; the last admin leaving hands the role on. */
  async leave(actor: User, id: ConversationId): Promise<void> {
    const pc = await loadVisible(this.ctx, actor, id);
    if (!pc.member) throw notFound();
    if (pc.conversation.kind === 'dm') throw invalid('chat', 'You cannot leave a direct message.');
    await this.removeAndHandOver(pc.conversation, pc.member, actor.id);
  }

  /** Adds users; returns how many were not members yet. */
  async addMembers(actor: User, id: ConversationId, userIds: readonly UserId[]): Promise<number> {
    const pc = await loadVisible(this.ctx, actor, id);
    if (pc.conversation.kind === 'dm') throw invalid('user_ids', 'Members cannot be added to a direct message.');
    ensure(await this.ctx.policy.canAddMembers(pc));
    const unique = [...new Set(userIds)];
    if (unique.length === 0) throw invalid('user_ids', 'This list may not be empty.');
    await this.requireUsers(unique, 'user_ids');
    // Only people who are not members yet take a seat.
    const current = new Set((await this.ctx.store.listMembers(id)).map((m) => m.userId));
    await this.checkCapacity(id, unique.filter((u) => !current.has(u)).length);
    await runBefore(this.ctx.hooks, 'member.add', { actor, conversation: pc.conversation, userIds: unique });
    const added = await this.addAndAnnounce(pc.conversation, unique.map((userId) => ({ userId, role: 'member' as const })), actor.id);
    return added.length;
  }

  /** Removes a member: admins remove anyone, members only themselves. */
  async removeMember(actor: User, id: ConversationId, userId: UserId): Promise<void> {
    const pc = await loadVisible(this.ctx, actor, id);
    if (!pc.member) throw notFound();
    if (pc.conversation.kind === 'dm') throw invalid('user_id', 'Members cannot be removed from a direct message.');
    const target = userId === actor.id ? pc.member : await this.ctx.store.getMember(id, userId);
    if (!target) throw notFound();
    ensure(await this.ctx.policy.canRemoveMember(pc, target));
    await this.removeAndHandOver(pc.conversation, target, actor.id);
  }

  private async addAndAnnounce(conversation: Conversation, members: { userId: UserId; role: 'member' }[], by: UserId): Promise<UserId[]> {
    return commit(this.ctx, async (tx) => {
      const added = await tx.addMembers(conversation.id, members, this.ctx.now());
      return { value: added, events: added.length > 0 ? [{ type: 'member.added', conversation, userIds: added, by }] : [] };
    });
  }

  private async removeAndHandOver(conversation: Conversation, target: Member, by: UserId): Promise<void> {
    await commit(this.ctx, async (tx) => {
      await tx.removeMember(conversation.id, target.userId);
      if (target.role === 'admin') {
        const rest = await tx.listMembers(conversation.id);
        const oldest = rest[0];
        if (oldest && !rest.some((m) => m.role === 'admin')) await tx.setMemberRole(conversation.id, oldest.userId, 'admin');
      }
      return { value: undefined, events: [{ type: 'member.removed', conversation, userId: target.userId, by }] };
    });
  }

  private async checkCapacity(id: ConversationId, adding: number): Promise<void> {
    const count = await this.ctx.store.countMembers(id);
    if (count + adding > this.ctx.settings.maxMembers) {
      throw new ParleyError('validation', `A conversation can have at most ${this.ctx.settings.maxMembers} members.`, {
        user_ids: ['Too many members.'],
      });
    }
  }

  private async requireUsers(ids: readonly UserId[], field: string): Promise<void> {
    if (ids.length === 0) return;
    const found = await this.ctx.store.getUsers(ids);
    const active = new Set(found.filter((u) => u.isActive).map((u) => u.id));
    const missing = ids.filter((id) => !active.has(id));
    if (missing.length > 0) throw invalid(field, `Unknown user id(s): ${missing.join(', ')}.`);
  }
}

function normaliseTitle(title: string | null | undefined): string | null {
  if (title === undefined || title === null) return null;
  const t = title.trim();
  if (t.length > TITLE_MAX) throw invalid('title', `Ensure this field has no more than ${TITLE_MAX} characters.`);
  return t === '' ? null : t;
}

/** Object keys look like `type:id` (`product:42`); anything else is a validation error. */
export function normaliseObjectKey(key: string): string {
  const k = key.trim();
  if (!/^[A-Za-z0-9_.-]{1,64}:[A-Za-z0-9_.:-]{1,128}$/.test(k)) {
    throw invalid('object', 'Expected an object key such as "product:42".');
  }
  return k;
}

export function groupBy<T, K>(items: readonly T[], key: (t: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

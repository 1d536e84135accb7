import type { Core, Conversation, Member, Message, ReactionSummary, User, UserId } from '../../core/index.js';
import { iso, userSummary } from '../http/present.js';

/** Output shapes of the Django Messaging API (seed 003). Pure functions of loaded data. */

type Users = Map<UserId, User>;

const placeholderUser = (id: UserId): User => ({
  id,
  username: 'deleted',
  displayName: 'Deleted user',
  email: '',
  avatarUrl: null,
  isActive: false,
  createdAt: new Date(0),
});

const userOf = (users: Users, id: UserId): User => users.get(id) ?? placeholderUser(id);

/** DMs are titled with the partner's name; untitled groups with their members' names. */
export function chatTitle(core: Core, c: Conversation, viewer: User, members: readonly Member[], users: Users): string {
  if (c.title) return c.title;
  const others = members.filter((m) => m.userId !== viewer.id).map((m) => core.users.displayName(userOf(users, m.userId)));
  if (c.kind === 'room' && c.objectKey) return c.objectKey;
  return others.length > 0 ? others.join(', ') : core.users.displayName(viewer);
}

function chatBase(core: Core, c: Conversation, viewer: User, members: readonly Member[], users: Users) {
  return {
    id: c.id,
    title: chatTitle(core, c, viewer, members, users),
    chat_type: c.kind,
    created_at: iso(c.createdAt),
    // As in the seed's example: a chat is updated by its last message too.
    updated_at: iso(c.lastActivityAt > c.updatedAt ? c.lastActivityAt : c.updatedAt),
    is_public: c.isPublic,
    object: c.objectKey,
    members: members.map((m) => userSummary(core, userOf(users, m.userId))),
  };
}

export function chatListItem(
  core: Core,
  viewer: User,
  item: { conversation: Conversation; members: Member[]; lastMessage: Message | null; unreadCount: number },
  users: Users,
) {
  const last = item.lastMessage;
  return {
    ...chatBase(core, item.conversation, viewer, item.members, users),
    last_message: last
      ? { id: last.id, content: last.content, created_at: iso(last.createdAt), sender: userSummary(core, userOf(users, last.senderId)) }
      : null,
    unread_count: item.unreadCount,
  };
}

export function chatDetail(core: Core, viewer: User, c: Conversation, members: readonly Member[], users: Users) {
  return {
    ...chatBase(core, c, viewer, members, users),
    admins: members.filter((m) => m.role === 'admin').map((m) => m.userId),
    member_count: members.length,
    is_member: members.some((m) => m.userId === viewer.id),
  };
}

export function messageOut(
  core: Core,
  m: Message,
  members: readonly Member[],
  users: Users,
  reactions: Map<number, ReactionSummary[]>,
) {
  const deleted = m.deletedAt !== null;
  return {
    id: m.id,
    chat: m.conversationId,
    content: deleted ? '' : m.content,
    created_at: iso(m.createdAt),
    updated_at: iso(m.updatedAt),
    is_edited: m.editedAt !== null,
    is_deleted: deleted,
    sender: userSummary(core, userOf(users, m.senderId)),
    reactions: deleted ? [] : (reactions.get(m.id) ?? []),
    read_by: core.messages.readBy(m, members),
    parent_id: m.parentId,
    client_id: m.clientId,
  };
}

/** Loads what `messageOut` needs for a batch of messages: senders and reactions. */
export async function loadMessageContext(core: Core, messages: readonly Message[], members: readonly Member[]) {
  const [users, reactions] = await Promise.all([
    // Only senders: `read_by` needs member ids, not their profiles.
    core.users.byIds(messages.map((m) => m.senderId)),
    core.messages.reactionsOf(messages.map((m) => m.id)),
  ]);
  return { users, reactions };
}

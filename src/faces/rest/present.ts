import type { Core, Conversation, Member, Message, MessageExtras, ReactionSummary, User, UserId } from '../../core/index.js';
import { relationsOut } from '../http/attachments.js';
import { iso, userDetail, userSummary } from '../http/present.js';
import { applySerializer, serializersOf } from '../serializers.js';
import { metadataOut } from '../http/metadata.js';

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

/** A user as this face shows them (sender, member), through the host's `serializers.rest.user`. */
export const restUser = (core: Core, u: User) => applySerializer(serializersOf(core).rest?.user, userSummary(core, u), u);

/** A user with their email (user search), through the host's `serializers.rest.user`. */
export const restUserDetail = (core: Core, u: User) => applySerializer(serializersOf(core).rest?.user, userDetail(core, u), u);

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
    members: members.map((m) => restUser(core, userOf(users, m.userId))),
    metadata: metadataOut(c),
  };
}

export function chatListItem(
  core: Core,
  viewer: User,
  item: { conversation: Conversation; members: Member[]; lastMessage: Message | null; unreadCount: number },
  users: Users,
  /** Whether the viewer muted this chat (`Blocks.mutedIn`). */
  muted = false,
  /** Attachments of the last messages (`core.attachments.extrasOf`); without them, none are counted. */
  extras?: Map<number, MessageExtras>,
) {
  const last = item.lastMessage;
  const out = {
    ...chatBase(core, item.conversation, viewer, item.members, users),
    is_muted: muted,
    last_message: last
      ? {
          id: last.id,
          content: last.content,
          created_at: iso(last.createdAt),
          sender: restUser(core, userOf(users, last.senderId)),
          ...lastMessageFiles(last, extras?.get(last.id)),
        }
      : null,
    unread_count: item.unreadCount,
  };
  return applySerializer(serializersOf(core).rest?.chat, out, item.conversation);
}

/**
 * What a conversation list needs to preview a message without text: how many files it carries,
 * the first one's name and kind, and whether it was forwarded. No URLs: a preview links nowhere.
 */
function lastMessageFiles(m: Message, extras: MessageExtras | undefined) {
  const files = m.deletedAt === null ? (extras?.attachments ?? []) : [];
  const first = files[0];
  return {
    attachments_count: files.length,
    first_attachment: first ? { name: first.name, media_type: first.mediaType } : null,
    forwarded_from_id: m.forwardedFromId ?? null,
  };
}

export function chatDetail(core: Core, viewer: User, c: Conversation, members: readonly Member[], users: Users, muted = false) {
  const out = {
    ...chatBase(core, c, viewer, members, users),
    is_muted: muted,
    admins: members.filter((m) => m.role === 'admin').map((m) => m.userId),
    member_count: members.length,
    is_member: members.some((m) => m.userId === viewer.id),
  };
  return applySerializer(serializersOf(core).rest?.chat, out, c);
}

export function messageOut(
  core: Core,
  m: Message,
  members: readonly Member[],
  users: Users,
  reactions: Map<number, ReactionSummary[]>,
  /** Attachments and reply quotes (`loadMessageContext`); without them, none are shown. */
  extras?: Map<number, MessageExtras>,
) {
  const deleted = m.deletedAt !== null;
  const out = {
    id: m.id,
    chat: m.conversationId,
    content: deleted ? '' : m.content,
    created_at: iso(m.createdAt),
    updated_at: iso(m.updatedAt),
    is_edited: m.editedAt !== null,
    is_deleted: deleted,
    sender: restUser(core, userOf(users, m.senderId)),
    reactions: deleted ? [] : (reactions.get(m.id) ?? []),
    read_by: core.messages.readBy(m, members),
    parent_id: m.parentId,
    client_id: m.clientId,
    ...relationsOut(core, m, extras?.get(m.id)),
    // A deleted message shows nothing of itself.
    metadata: deleted ? {} : metadataOut(m),
  };
  return applySerializer(serializersOf(core).rest?.message, out, m);
}

/** Loads what `messageOut` needs for a batch of messages: senders and reactions. */
export async function loadMessageContext(core: Core, messages: readonly Message[], members: readonly Member[]) {
  const [users, reactions, extras] = await Promise.all([
    // Only senders: `read_by` needs member ids, not their profiles.
    core.users.byIds(messages.map((m) => m.senderId)),
    core.messages.reactionsOf(messages.map((m) => m.id)),
    core.attachments.extrasOf(messages),
  ]);
  return { users, reactions, extras };
}

import type { Conversation, ConversationSummary, Core, Member, Message, User, UserId } from '../../core/index.js';
import type { RealtimeHub } from '../../realtime/hub.js';
import { type MessagingSerializers, wireMessage, wireRoom } from './encode.js';
import { applySerializer, serializersOf } from '../serializers.js';
import type { WireMember, WireMessage, WireRoom, WireRoomInfo, WireRoomListItem, WireUser } from '../../protocol/messaging-frames.js';

/** Shapes of the replies that need data the live events do not carry. */
export class Presenter {
  /** The host's `serializers.messaging`, applied after the built-in shapes. */
  private readonly s: MessagingSerializers;

  constructor(
    private readonly core: Core,
    private readonly hub: RealtimeHub,
  ) {
    this.s = serializersOf(core).messaging ?? {};
  }

  user(u: User | undefined, id: UserId): WireUser {
    const live = this.hub.views.liveUser(u ?? null, id);
    return applySerializer(this.s.user, live, live);
  }

  room(c: Conversation): WireRoom {
    return wireRoom(this.hub.views.liveConversation(c), this.s);
  }

  /** Messages with their senders and reactions loaded in two queries. */
  async messages(messages: readonly Message[]): Promise<WireMessage[]> {
    const [users, reactions, extras] = await Promise.all([
      this.core.users.byIds(messages.map((m) => m.senderId)),
      this.core.messages.reactionsOf(messages.map((m) => m.id)),
      this.core.attachments.extrasOf(messages),
    ]);
    return messages.map((m) =>
      wireMessage(this.hub.views.liveMessage(m, users.get(m.senderId) ?? null, extras.get(m.id)), reactions.get(m.id) ?? [], this.s),
    );
  }

  async message(m: Message): Promise<WireMessage> {
    const [out] = await this.messages([m]);
    if (!out) throw new Error('unreachable: one message in, none out');
    return out;
  }

  /** For one-to-one rooms, the member who is not the viewer. */
  peer(c: Conversation, viewer: User, members: readonly Member[], users: Map<UserId, User>): WireUser | null {
    if (c.kind !== 'dm') return null;
    const other = members.find((m) => m.userId !== viewer.id);
    return other ? this.user(users.get(other.userId), other.userId) : null;
  }

  async roomInfo(viewer: User, c: Conversation, members: readonly Member[]): Promise<WireRoomInfo> {
    const users = await this.core.users.byIds(members.map((m) => m.userId));
    const wireMembers: WireMember[] = members.map((m) => ({ ...this.user(users.get(m.userId), m.userId), role: m.role }));
    return {
      ...this.room(c),
      peer: this.peer(c, viewer, members, users),
      members: wireMembers,
      admins: members.filter((m) => m.role === 'admin').map((m) => m.userId),
      member_count: members.length,
      is_member: members.some((m) => m.userId === viewer.id),
    };
  }

  async roomList(viewer: User, items: readonly ConversationSummary[]): Promise<WireRoomListItem[]> {
    const lastMessages = items.flatMap((i) => (i.lastMessage ? [i.lastMessage] : []));
    const [users, last] = await Promise.all([
      this.core.users.byIds(items.flatMap((i) => (i.conversation.kind === 'dm' ? i.members.map((m) => m.userId) : []))),
      this.messages(lastMessages),
    ]);
    const lastById = new Map(last.map((m) => [m.id, m]));
    return items.map((i) => ({
      ...this.room(i.conversation),
      peer: this.peer(i.conversation, viewer, i.members, users),
      last_message: i.lastMessage ? (lastById.get(i.lastMessage.id) ?? null) : null,
      unread_count: i.unreadCount,
    }));
  }
}

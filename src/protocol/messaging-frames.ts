/**
 * Wire format of the realtime_chat_messaging protocol (seeds 000, 001) as Parley serves it on
 * `/<websocketPath>` (default `/messaging/`). The face, the tests and (later) the client SDK
 * share these types.
 *
 * Client → server: `{"event_type": "...", "data": {...}}`.
 * Server → client: `{"eventType": "...", "data": ..., "cursor"?: "..."}`, plus two frames
 * without `eventType`, as the seed has them: `{"status": "success"}` (heartbeat reply) and
 * `{"error": {"code": 4002..4006, "detail": "..."}}`.
 *
 * Every frame for a logged event carries `cursor`: reconnect with `?cursor=<last seen>` and
 * the events you missed are replayed before live ones. Replies to one user (room.list,
 * room.info, room.messages, notifications, no-op acknowledgements) have no cursor.
 */

import type { WireParent } from './attachments.js';

export type RoomType = 'one_to_one' | 'group_chat' | 'channel' | 'room';

import type { WireUser } from './messages-frames.js';

export type { WireUser };

/** Reactions of a message grouped by emoji. */
export interface WireReaction {
  reaction_content: string;
  count: number;
  users: number[];
}

/** One attachment in the seed's `MessageMediaAsset` shape. */
export interface WireMedia {
  id: number;
  media_url: string | null;
  media_type: 'image' | 'video' | 'audio' | 'file';
  file_size: number;
  mime_type: string;
  metadata: Record<string, unknown> | null;
  name: string;
  width: number | null;
  height: number | null;
  thumbnail_url: string | null;
}

export interface WireMessage {
  id: number;
  room_id: number;
  sender: WireUser;
  content: string;
  created_at: string;
  updated_at: string;
  is_edited: boolean;
  is_deleted: boolean;
  parent_message_id: number | null;
  forwarded_from_id: number | null;
  /** The seed's media shape (`media_url`…), plus id, name, size and thumbnail. */
  attachments: WireMedia[];
  /** The replied-to message, for quoting. */
  parent: WireParent | null;
  reactions: WireReaction[];
  client_id: string | null;
  /** Host-defined data (`metadataSchema`); `{}` when none. */
  metadata: Record<string, unknown>;
}

/**
 * A message as `messagemodification.dispatch` (update) carries it: the live event does not
 * include reactions, so the field is absent rather than wrongly empty; keep the ones you have.
 */
export type WireEditedMessage = Omit<WireMessage, 'reactions'>;

/** What every room frame says about the room. DMs have no name of their own (`null`). */
export interface WireRoom {
  id: number;
  room_type: RoomType;
  name: string | null;
  /** For rooms attached to a content object, e.g. `product:42`. */
  object: string | null;
  is_public: boolean;
  created_at: string;
  updated_at: string;
  /** Host-defined data (`metadataSchema`); `{}` when none. */
  metadata: Record<string, unknown>;
}

export interface WireMember extends WireUser {
  role: 'admin' | 'moderator' | 'member';
}

/** `roominfo.dispatch`. */
export interface WireRoomInfo extends WireRoom {
  /** For one_to_one: the other member. */
  peer: WireUser | null;
  members: WireMember[];
  admins: number[];
  member_count: number;
  is_member: boolean;
}

/** One entry of `roomlist.dispatch`. */
export interface WireRoomListItem extends WireRoom {
  /** For one_to_one: the other member (room.info lists everyone). */
  peer: WireUser | null;
  last_message: WireMessage | null;
  unread_count: number;
}

/** `roommessages.dispatch`: one page of history, newest first. */
export interface WireMessagePage {
  room_id: number;
  page: number;
  size: number;
  total_pages: number;
  count: number;
  has_next: boolean;
  has_previous: boolean;
  results: WireMessage[];
}

/** One room of `chat.notifications`: the messages not yet acknowledged, oldest first. */
export interface WireNotification {
  room_id: number;
  /** How many are pending in all (`messages` holds at most 100). */
  count: number;
  messages: WireMessage[];
}

/** `added_by` / `removed_by`: `"self"` when the user joined or left on their own. */
export type ByWhom = number | 'self';

/** Server → client frames carrying an event. `cursor` is present on logged events. */
export type MessagingEvent =
  | { eventType: 'message.dispatch'; data: WireMessage; cursor?: string }
  | { eventType: 'messagemodification.dispatch'; data: { status: 'successful'; action: 'update'; message: WireEditedMessage }; cursor?: string }
  | {
      eventType: 'messagemodification.dispatch';
      /** `scope: "me"`: hidden for this user only (the /api/dm/ per-user delete). */
      data: { status: 'successful'; action: 'delete'; room_id: number; message_ids: number[]; scope: 'everyone' | 'me' };
      cursor?: string;
    }
  | {
      eventType: 'reaction.dispatch';
      data: {
        status: 'successful';
        type: 'add' | 'remove';
        user_id: number;
        reaction_content: string;
        message: { id: number; room_id: number; reactions: WireReaction[] };
      };
      cursor?: string;
    }
  | { eventType: 'readreceipt.dispatch'; data: { room_id: number; message_id: number | null; user_id: number; read_at: string }; cursor?: string }
  | {
      eventType: 'messagedelivered.dispatch';
      /**
       * `message_id` is the newest of this sender's messages the acknowledgement covered
       * (`message_ids` lists them all). `delivered_to` holds the acknowledging user: the live
       * event does not carry the other members' delivery cursors.
       */
      data: { message_id: number; message_ids: number[]; room_id: number; delivered_to: number[]; delivered_at: string };
      cursor?: string;
    }
  | { eventType: 'messagetyping.dispatch'; data: { room_id: number; user_id: number; username: string; is_typing: boolean } }
  | { eventType: 'roomcreate.dispatch' | 'roomupdate.dispatch'; data: WireRoom; cursor?: string }
  | { eventType: 'roomdelete.dispatch'; data: { room_id: number }; cursor?: string }
  | { eventType: 'roomaddmembers.dispatch'; data: { room_id: number; new_members: number[]; added_by: ByWhom }; cursor?: string }
  | { eventType: 'roomremovemembers.dispatch'; data: { room_id: number; removed_members: number[]; removed_by: ByWhom }; cursor?: string }
  | { eventType: 'roomexit.dispatch'; data: { room_id: number; removed_by: ByWhom; message: string }; cursor?: string };

/** Replies to the requesting user only. */
export type MessagingReply =
  | { eventType: 'roomlist.dispatch'; data: WireRoomListItem[] }
  | { eventType: 'roominfo.dispatch'; data: WireRoomInfo }
  | { eventType: 'roommessages.dispatch'; data: WireMessagePage }
  | { eventType: 'chat.notifications'; data: WireNotification[] }
  /** Answer to `user.block` / `user.unblock` (docs/extending/policies.md). */
  | { eventType: 'userblock.dispatch'; data: { user_id: number; is_blocked: boolean } }
  /** Answer to `room.mute` / `room.unmute`. */
  | { eventType: 'roommute.dispatch'; data: { room_id: number; is_muted: boolean; muted_until: string | null } };

/** Connection state rather than chat events. */
export type MessagingControl =
  /**
   * Last frame of the connection setup (after `chat.notifications` and any replay): live
   * events follow. `cursor` is where this connection stands; store it if no event arrives.
   */
  | { eventType: 'session.ready'; data: { user_id: number; cursor: string } }
  /** The `?cursor=` could not be resumed from: refetch state, then continue from `cursor`. */
  | { eventType: 'resync'; data: { reason: 'expired' | 'invalid'; cursor: string } }
  | { status: 'success' }
  /** `retry_after` (seconds) comes with 4029, too many sends (`sendRateLimit`). */
  | { error: { code: number; detail: string; retry_after?: number } };

export type MessagingFrame = MessagingEvent | MessagingReply | MessagingControl;

/** Client → server. */
export interface MessagingClientFrame {
  event_type: string;
  data: Record<string, unknown>;
}

import type { ParleyConfig } from '../../config/index.js';
import { type Core, type Metadata, ParleyError, type User, invalid } from '../../core/index.js';
import type { LiveSocket } from '../ws/live-socket.js';
import type { MessagingFrame } from '../../protocol/messaging-frames.js';
import type { Presenter } from './present.js';
import { type DefaultEventType, type IdInput, ROOM_KINDS, Schemas, parseData, toId, toIds } from './schemas.js';

const toIdList = (ids: IdInput[]): number[] => ids.map(toId);

/** Any server → client frame; host handlers may send event types of their own. */
export type OutgoingFrame = MessagingFrame | { eventType: string; data: unknown };

/** What a handler of one client event gets. */
export interface MessagingContext {
  /** The authenticated user. */
  user: User;
  /** The event's `data`: a JSON object, not validated yet (each handler checks its own). */
  data: Record<string, unknown>;
  core: Core;
  /** Sends a frame to the user: every `/messaging/` session they have on this process. */
  reply(frame: OutgoingFrame): void;
  /** The connection the event came on; `socket.sendJson(frame)` answers it alone. */
  socket: LiveSocket;
  /** This connection's session: `refresh()` counts as a heartbeat. */
  session: { refresh(): void };
}

/**
 * Handles one client event. Writes go through the core; the hub then broadcasts the
 * resulting live event to every member's sessions (the sender's included), so a handler
 * never sends broadcast frames itself: it only replies to the user. A thrown `ParleyError`
 * becomes the matching error frame (4002–4006); anything else is logged and sent as 4006.
 */
export type MessagingHandler = (ctx: MessagingContext) => Promise<void>;

/**
 * The seed's `EVENT_MAPPER`: event type → handler. Given to `messagingFace`, it is merged
 * over the default map: a handler adds or replaces an event type, `null` removes one.
 *
 * @example
 * messagingFace(deps, {
 *   'custom.ping': async (ctx) => ctx.reply({ eventType: 'custom.pong', data: {} }),
 *   'room.join': null, // nobody joins rooms on their own here
 * });
 */
export type MessagingHandlers = Record<string, MessagingHandler | null>;

export interface DefaultHandlerDeps {
  core: Core;
  config: Pick<ParleyConfig, 'messagesPerPage'>;
  presenter: Presenter;
}

/** Room lists are read in pages of this many conversations. */
const LIST_CHUNK = 200;

/** The default event map: the events of the seed package (001), on the Parley core. */
export function defaultHandlers({ core, config, presenter }: DefaultHandlerDeps): Record<DefaultEventType, MessagingHandler> {
  const memberIdsOf = (d: { member_ids?: (number | string)[] | undefined; members?: (number | string)[] | undefined; user_ids?: (number | string)[] | undefined }) => {
    const ids = d.member_ids ?? d.members ?? d.user_ids;
    if (!ids) throw invalid('member_ids', 'This field is required.');
    return toIds(ids);
  };

  return {
    async 'message.send'(ctx) {
      const d = parseData(Schemas['message.send'], ctx.data);
      const extra = d.extra_fields;
      const parent = d.parent_message_id ?? extra?.parent_message_id ?? null;
      const forwarded = d.forwarded_from_id ?? extra?.forwarded_from_id ?? null;
      const media = [...(d.media ?? []), ...(extra?.media ?? [])];
      const sent = await ctx.core.messages.send(ctx.user, toId(d.room_id), {
        content: d.content ?? '',
        parentId: parent === null ? null : toId(parent),
        clientId: d.client_id ?? null,
        forwardedFromId: forwarded === null ? null : toId(forwarded),
        attachmentIds: toIdList([...(d.attachment_ids ?? []), ...(extra?.attachment_ids ?? [])]),
        media: media.map((m) => ({
          url: m.media_url,
          mediaType: m.media_type,
          size: m.file_size,
          mimeType: m.mime_type,
          name: m.name,
          metadata: m.metadata ?? null,
        })),
        metadata: asMetadata(d.metadata !== undefined ? d.metadata : extra?.metadata),
      });
      // A retry with a known client_id stores and broadcasts nothing: the retrying
      // connection alone gets the original message back (the others saw it the first time).
      if (!sent.created) ctx.socket.sendJson({ eventType: 'message.dispatch', data: await presenter.message(sent.message) });
    },

    async 'message.acknowledged'(ctx) {
      const d = parseData(Schemas['message.acknowledged'], ctx.data);
      await ctx.core.messages.acknowledge(ctx.user, toIds(d.message_id));
    },

    async 'message.read'(ctx) {
      const d = parseData(Schemas['message.read'], ctx.data);
      for (const id of toIds(d.message_id)) await ctx.core.messages.markReadUpTo(ctx.user, id);
    },

    async 'message.react'(ctx) {
      const d = parseData(Schemas['message.react'], ctx.data);
      const id = toId(d.message_id);
      const emoji = d.reaction_content.trim();
      // The core only toggles; add and remove are made idempotent by looking first. The
      // message must be visible before its reactions are read (404 otherwise).
      const { message } = await ctx.core.messages.get(ctx.user, id);
      const current = (await ctx.core.messages.reactionsOf([id])).get(id) ?? [];
      const present = current.some((r) => r.emoji === emoji && r.users.includes(ctx.user.id));
      if (present !== (d.type === 'add')) {
        await ctx.core.messages.toggleReaction(ctx.user, id, emoji);
        return;
      }
      // Already as asked: nothing changes and nothing is broadcast; the asking connection
      // gets the current state so it is not left waiting.
      const [wire] = await presenter.messages([message]);
      ctx.socket.sendJson({
        eventType: 'reaction.dispatch',
        data: {
          status: 'successful',
          type: d.type,
          user_id: ctx.user.id,
          reaction_content: emoji,
          message: { id, room_id: message.conversationId, reactions: wire?.reactions ?? [] },
        },
      });
    },

    async 'message.typing'(ctx) {
      const d = parseData(Schemas['message.typing'], ctx.data);
      await ctx.core.messages.typing(ctx.user, toId(d.room_id), d.is_typing ?? true);
    },

    async 'message.modify'(ctx) {
      const d = parseData(Schemas['message.modify'], ctx.data);
      const ids = toIds(d.message_id);
      if (d.action === 'delete') {
        for (const id of ids) await ctx.core.messages.delete(ctx.user, id);
        return;
      }
      const [id] = ids;
      if (id === undefined || ids.length !== 1) throw invalid('message_id', 'Only one message can be updated at a time.');
      const content = d.content ?? d.extra_fields?.content;
      if (content === undefined) throw invalid('content', 'This field is required.');
      const metadata = d.metadata !== undefined ? d.metadata : d.extra_fields?.metadata;
      if (metadata === undefined) await ctx.core.messages.edit(ctx.user, id, content);
      else await ctx.core.messages.edit(ctx.user, id, content, asMetadata(metadata));
    },

    async 'room.create'(ctx) {
      const d = parseData(Schemas['room.create'], ctx.data);
      const others = [...(d.member_ids ?? d.participants ?? d.subscribers ?? []), ...(d.user_id !== undefined ? [d.user_id] : [])];
      const { conversation, created } = await ctx.core.conversations.create(ctx.user, {
        kind: ROOM_KINDS[d.room_type],
        title: d.name ?? null,
        memberIds: toIds(others),
        isPublic: d.is_public,
        objectKey: d.object ?? null,
        metadata: asMetadata(d.metadata),
      });
      // An existing one-to-one chat is returned, not created: no broadcast, so the asking
      // connection is answered directly.
      if (!created) ctx.socket.sendJson({ eventType: 'roomcreate.dispatch', data: presenter.room(conversation) });
    },

    async 'room.list'(ctx) {
      parseData(Schemas['room.list'], ctx.data);
      const items = [];
      for (let offset = 0; ; ) {
        const page = await ctx.core.conversations.list(ctx.user, { limit: LIST_CHUNK, offset });
        items.push(...page.items);
        offset += page.items.length;
        if (page.items.length === 0 || offset >= page.total) break;
      }
      ctx.reply({ eventType: 'roomlist.dispatch', data: await presenter.roomList(ctx.user, items) });
    },

    async 'room.info'(ctx) {
      const d = parseData(Schemas['room.info'], ctx.data);
      const { conversation, members } = await ctx.core.conversations.get(ctx.user, toId(d.room_id));
      ctx.reply({ eventType: 'roominfo.dispatch', data: await presenter.roomInfo(ctx.user, conversation, members) });
    },

    async 'room.messages'(ctx) {
      const d = parseData(Schemas['room.messages'], ctx.data);
      const roomId = toId(d.room_id);
      const size = d.paginate?.size ?? config.messagesPerPage;
      const page = d.paginate?.page ?? 1;
      const h = await ctx.core.messages.history(ctx.user, roomId, { newestFirst: true, limit: size, offset: (page - 1) * size });
      const totalPages = Math.max(1, Math.ceil(h.total / size));
      if (page > totalPages) throw new ParleyError('not_found', 'Invalid page.');
      ctx.reply({
        eventType: 'roommessages.dispatch',
        data: {
          room_id: roomId,
          page,
          size,
          total_pages: totalPages,
          count: h.total,
          has_next: page < totalPages,
          has_previous: page > 1,
          results: await presenter.messages(h.items),
        },
      });
    },

    async 'room.add_members'(ctx) {
      const d = parseData(Schemas['room.add_members'], ctx.data);
      const roomId = toId(d.room_id);
      const added = await ctx.core.conversations.addMembers(ctx.user, roomId, memberIdsOf(d));
      // Everyone was a member already: no broadcast, so the asking connection is answered.
      if (added === 0) ctx.socket.sendJson({ eventType: 'roomaddmembers.dispatch', data: { room_id: roomId, new_members: [], added_by: ctx.user.id } });
    },

    async 'room.remove_members'(ctx) {
      const d = parseData(Schemas['room.remove_members'], ctx.data);
      const roomId = toId(d.room_id);
      for (const userId of memberIdsOf(d)) await ctx.core.conversations.removeMember(ctx.user, roomId, userId);
    },

    async 'room.join'(ctx) {
      const d = parseData(Schemas['room.join'], ctx.data);
      const roomId = toId(d.room_id);
      const { joined } = await ctx.core.conversations.join(ctx.user, roomId);
      if (!joined) ctx.socket.sendJson({ eventType: 'roomaddmembers.dispatch', data: { room_id: roomId, new_members: [], added_by: 'self' } });
    },

    async 'room.leave'(ctx) {
      const d = parseData(Schemas['room.leave'], ctx.data);
      await ctx.core.conversations.leave(ctx.user, toId(d.room_id));
    },

    async 'room.modify'(ctx) {
      const d = parseData(Schemas['room.modify'], ctx.data);
      const roomId = toId(d.room_id);
      if (d.action === 'delete') {
        await ctx.core.conversations.delete(ctx.user, roomId);
        return;
      }
      const name = d.data?.name !== undefined ? d.data.name : d.name;
      const isPublic = d.data?.is_public ?? d.is_public;
      const metadata = d.data?.metadata !== undefined ? d.data.metadata : d.metadata;
      await ctx.core.conversations.update(ctx.user, roomId, {
        ...(name !== undefined ? { title: name } : {}),
        ...(isPublic !== undefined ? { isPublic } : {}),
        ...(metadata !== undefined ? { metadata: asMetadata(metadata) } : {}),
      });
    },

    // Personal policies: answered to the user's own sessions only (nobody else is told).
    async 'user.block'(ctx) {
      const d = parseData(Schemas['user.block'], ctx.data);
      const { user } = await ctx.core.blocks.block(ctx.user, toId(d.user_id));
      ctx.reply({ eventType: 'userblock.dispatch', data: { user_id: user.id, is_blocked: true } });
    },

    async 'user.unblock'(ctx) {
      const d = parseData(Schemas['user.unblock'], ctx.data);
      const { user } = await ctx.core.blocks.unblock(ctx.user, toId(d.user_id));
      ctx.reply({ eventType: 'userblock.dispatch', data: { user_id: user.id, is_blocked: false } });
    },

    async 'room.mute'(ctx) {
      const d = parseData(Schemas['room.mute'], ctx.data);
      const until = d.until ? new Date(d.until) : null;
      if (until && Number.isNaN(until.getTime())) throw invalid('until', 'Expected an ISO 8601 date-time or null.');
      const roomId = toId(d.room_id);
      const state = await ctx.core.blocks.mute(ctx.user, roomId, until);
      ctx.reply({ eventType: 'roommute.dispatch', data: { room_id: roomId, is_muted: true, muted_until: state.until?.toISOString() ?? null } });
    },

    async 'room.unmute'(ctx) {
      const d = parseData(Schemas['room.unmute'], ctx.data);
      const roomId = toId(d.room_id);
      await ctx.core.blocks.unmute(ctx.user, roomId);
      ctx.reply({ eventType: 'roommute.dispatch', data: { room_id: roomId, is_muted: false, muted_until: null } });
    },

    async 'session.heartbeat'(ctx) {
      parseData(Schemas['session.heartbeat'], ctx.data);
      ctx.session.refresh();
      ctx.socket.sendJson({ status: 'success' });
    },
  };
}

/**
 * A client's `metadata` as the core takes it. The core checks that it is a JSON object (and
 * against `metadataSchema`), so anything is passed on and refused there with a 4003.
 */
function asMetadata(value: unknown): Metadata | null | undefined {
  return value as Metadata | null | undefined;
}

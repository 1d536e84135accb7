import { Type as T } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Member, Metadata, User } from '../../core/index.js';
import { invalid } from '../../core/errors.js';
import { requireUser } from '../http/authenticate.js';
import { contentOf } from '../http/attachments.js';
import { installErrorHandler, restErrors } from '../http/errors.js';
import { type FaceDeps, typed } from '../http/face-deps.js';
import { pageLinks } from '../http/links.js';
import { iso } from '../http/present.js';
import { Id, commonErrors } from '../http/schemas.js';
import { chatDetail, chatListItem, loadMessageContext, messageOut, restUser, restUserDetail } from './present.js';
import * as S from './schemas.js';

const ChatParams = T.Object({ chat_id: Id });
const MessageParams = T.Object({ message_id: Id });
const MemberParams = T.Object({ chat_id: Id, user_id: Id });
const UserParams = T.Object({ user_id: Id });
const NoContent = T.Null({ description: 'No content' });

/**
 * The Django Messaging REST API (seed 003) under `/messages/api/`: same paths, bodies, field
 * names, status codes and error shapes, plus rooms on objects, join/leave and message search.
 */
export const restFace =
  ({ core, config }: FaceDeps): FastifyPluginAsync =>
  async (scope) => {
    const app = typed(scope);
    installErrorHandler(scope, restErrors);
    // Every route needs a user: say 401 before judging the input, as DRF does.
    scope.addHook('onRequest', async (request) => {
      requireUser(request);
    });

    const detailOf = async (viewer: User, chatId: number) => {
      const { conversation, members } = await core.conversations.get(viewer, chatId);
      const users = await core.users.byIds(members.map((m) => m.userId));
      const muted = await core.blocks.mutedIn(viewer.id, [chatId]);
      return chatDetail(core, viewer, conversation, members, users, muted.has(chatId));
    };

    const messageShape = async (message: Parameters<typeof messageOut>[1], members: Member[]) => {
      const ctx = await loadMessageContext(core, [message], members);
      return messageOut(core, message, members, ctx.users, ctx.reactions, ctx.extras);
    };

    // ── chats ──────────────────────────────────────────────────────────────
    app.get(
      '/chats/',
      {
        schema: {
          tags: ['chats'],
          summary: 'List my chats, most recent activity first',
          querystring: S.ChatListQuery,
          response: { 200: S.Page(S.ChatListItem), ...commonErrors },
        },
      },
      async (request) => {
        const actor = requireUser(request);
        const page = request.query.page ?? 1;
        const size = config.chatsPerPage;
        const search = request.query.search?.trim();
        const { total, items } = await core.conversations.list(actor, {
          limit: size,
          offset: (page - 1) * size,
          ...(search ? { search } : {}),
          ...(request.query.chat_type ? { kinds: [request.query.chat_type] } : {}),
        });
        const users = await core.users.byIds(
          items.flatMap((i) => [...i.members.map((m) => m.userId), ...(i.lastMessage ? [i.lastMessage.senderId] : [])]),
        );
        const muted = await core.blocks.mutedIn(actor.id, items.map((i) => i.conversation.id));
        // Attachments of the last messages, so a files-only message has a preview.
        const extras = await core.attachments.extrasOf(items.flatMap((i) => (i.lastMessage ? [i.lastMessage] : [])));
        return {
          count: total,
          ...pageLinks(request, page, size, total, config.publicUrl),
          results: items.map((i) => chatListItem(core, actor, i, users, muted.has(i.conversation.id), extras)),
        };
      },
    );

    app.post(
      '/chats/',
      {
        schema: {
          tags: ['chats'],
          summary: 'Create a chat (a DM returns the existing one with 200)',
          body: S.CreateChat,
          response: { 201: S.ChatDetail, 200: S.ChatDetail, ...commonErrors },
        },
      },
      async (request, reply) => {
        const actor = requireUser(request);
        const b = request.body;
        const { conversation, created } = await core.conversations.create(actor, {
          kind: b.chat_type,
          title: b.title,
          memberIds: b.member_ids,
          objectKey: b.object,
          isPublic: b.is_public,
          metadata: b.metadata,
        });
        return reply.code(created ? 201 : 200).send(await detailOf(actor, conversation.id));
      },
    );

    app.get(
      '/chats/:chat_id/',
      { schema: { tags: ['chats'], summary: 'Chat detail with members and admins', params: ChatParams, response: { 200: S.ChatDetail, ...commonErrors } } },
      async (request) => detailOf(requireUser(request), request.params.chat_id),
    );

    for (const method of ['PUT', 'PATCH'] as const) {
      app.route({
        method,
        url: '/chats/:chat_id/',
        schema: {
          tags: ['chats'],
          summary: 'Rename a chat (admins; DMs and rooms per settings)',
          params: ChatParams,
          body: S.UpdateChat,
          response: { 200: S.ChatDetail, ...commonErrors },
        },
        handler: async (request) => {
          const actor = requireUser(request);
          const patch: { title?: string | null; isPublic?: boolean; metadata?: Metadata | null } = {};
          if (request.body.title !== undefined) patch.title = request.body.title;
          if (request.body.is_public !== undefined) patch.isPublic = request.body.is_public;
          if (request.body.metadata !== undefined) patch.metadata = request.body.metadata;
          await core.conversations.update(actor, request.params.chat_id, patch);
          return detailOf(actor, request.params.chat_id);
        },
      });
    }

    app.delete(
      '/chats/:chat_id/',
      { schema: { tags: ['chats'], summary: 'Delete a chat (admins only)', params: ChatParams, response: { 204: NoContent, ...commonErrors } } },
      async (request, reply) => {
        await core.conversations.delete(requireUser(request), request.params.chat_id);
        return reply.code(204).send(null);
      },
    );

    // ── messages ───────────────────────────────────────────────────────────
    app.get(
      '/chats/:chat_id/messages/',
      {
        schema: {
          tags: ['messages'],
          summary: 'Messages of a chat',
          description:
            'Page 1 holds the newest `messagesPerPage` messages (or, with `after`, the oldest ones after that message); each page lists its messages oldest first.',
          params: ChatParams,
          querystring: S.MessageListQuery,
          response: { 200: S.Page(S.MessageOut), ...commonErrors },
        },
      },
      async (request) => {
        const actor = requireUser(request);
        const page = request.query.page ?? 1;
        const size = config.messagesPerPage;
        const forward = request.query.after !== undefined && request.query.before === undefined;
        const { total, items, members } = await core.messages.history(actor, request.params.chat_id, {
          before: request.query.before,
          after: request.query.after,
          newestFirst: !forward,
          limit: size,
          offset: (page - 1) * size,
        });
        const ordered = forward ? items : [...items].reverse();
        const ctx = await loadMessageContext(core, ordered, members);
        return {
          count: total,
          ...pageLinks(request, page, size, total, config.publicUrl),
          results: ordered.map((m) => messageOut(core, m, members, ctx.users, ctx.reactions, ctx.extras)),
        };
      },
    );

    app.post(
      '/chats/:chat_id/messages/',
      {
        schema: {
          tags: ['messages'],
          summary: 'Send a message (a retried client_id returns the original with 200)',
          params: ChatParams,
          body: S.SendMessage,
          response: { 201: S.MessageOut, 200: S.MessageOut, ...commonErrors },
        },
      },
      async (request, reply) => {
        const actor = requireUser(request);
        const b = request.body;
        const { message, created, members, extras } = await core.messages.send(actor, request.params.chat_id, {
          content: contentOf(b),
          // `parent_message_id` is the /messaging/ name of the same field.
          parentId: b.parent_message_id !== undefined ? b.parent_message_id : b.parent_id,
          clientId: b.client_id,
          attachmentIds: b.attachment_ids,
          forwardedFromId: b.forwarded_from_id,
          metadata: b.metadata,
        });
        // A new message: its sender is the actor, it has no reactions yet, and its extras came
        // with the write, so the answer needs no read. A retried client_id is shown as stored.
        if (!created) return reply.code(200).send(await messageShape(message, members));
        return reply.code(201).send(messageOut(core, message, members, new Map([[actor.id, actor]]), new Map(), new Map([[message.id, extras]])));
      },
    );

    app.get(
      '/messages/:message_id/',
      { schema: { tags: ['messages'], summary: 'Message detail', params: MessageParams, response: { 200: S.MessageOut, ...commonErrors } } },
      async (request) => {
        const { message, members } = await core.messages.get(requireUser(request), request.params.message_id);
        return messageShape(message, members);
      },
    );

    for (const method of ['PUT', 'PATCH'] as const) {
      app.route({
        method,
        url: '/messages/:message_id/',
        schema: {
          tags: ['messages'],
          summary: 'Edit your own message',
          params: MessageParams,
          body: S.EditMessage,
          response: { 200: S.MessageOut, ...commonErrors },
        },
        handler: async (request) => {
          const { message, members } = await core.messages.edit(requireUser(request), request.params.message_id, request.body.content, request.body.metadata);
          return messageShape(message, members);
        },
      });
    }

    app.delete(
      '/messages/:message_id/',
      { schema: { tags: ['messages'], summary: 'Delete your own message', params: MessageParams, response: { 204: NoContent, ...commonErrors } } },
      async (request, reply) => {
        await core.messages.delete(requireUser(request), request.params.message_id);
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/messages/:message_id/reactions/',
      {
        schema: {
          tags: ['messages'],
          summary: 'Add a reaction, or remove it if you had it',
          params: MessageParams,
          body: S.ReactionBody,
          response: { 200: S.ReactionResult, ...commonErrors },
        },
      },
      async (request) => {
        const { action } = await core.messages.toggleReaction(requireUser(request), request.params.message_id, request.body.emoji);
        return { action, emoji: request.body.emoji.trim(), message_id: request.params.message_id };
      },
    );

    app.post(
      '/chats/:chat_id/mark-as-read/',
      {
        schema: {
          tags: ['chats'],
          summary: 'Mark the chat read (up to message_id, or all)',
          params: ChatParams,
          body: S.MarkRead,
          response: { 200: S.MarkReadResult, ...commonErrors },
        },
      },
      async (request) => {
        const marked = await core.messages.markRead(requireUser(request), request.params.chat_id, request.body.message_id);
        return { status: 'success' as const, marked_count: marked };
      },
    );

    // ── members ────────────────────────────────────────────────────────────
    app.post(
      '/chats/:chat_id/members/add/',
      {
        schema: {
          tags: ['members'],
          summary: 'Add members (admins)',
          params: ChatParams,
          body: S.AddMembers,
          response: { 200: S.AddMembersResult, ...commonErrors },
        },
      },
      async (request) => {
        const added = await core.conversations.addMembers(requireUser(request), request.params.chat_id, request.body.user_ids);
        return { status: 'success' as const, added_count: added };
      },
    );

    app.delete(
      '/chats/:chat_id/members/:user_id/remove/',
      {
        schema: {
          tags: ['members'],
          summary: 'Remove a member (admins remove anyone; a member may remove themself)',
          params: MemberParams,
          response: { 204: NoContent, ...commonErrors },
        },
      },
      async (request, reply) => {
        await core.conversations.removeMember(requireUser(request), request.params.chat_id, request.params.user_id);
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/chats/:chat_id/join/',
      { schema: { tags: ['rooms'], summary: 'Join a public room or channel', params: ChatParams, response: { 200: S.ChatDetail, ...commonErrors } } },
      async (request) => {
        const actor = requireUser(request);
        await core.conversations.join(actor, request.params.chat_id);
        return detailOf(actor, request.params.chat_id);
      },
    );

    app.post(
      '/chats/:chat_id/leave/',
      { schema: { tags: ['rooms'], summary: 'Leave a group, room or channel', params: ChatParams, response: { 204: NoContent, ...commonErrors } } },
      async (request, reply) => {
        await core.conversations.leave(requireUser(request), request.params.chat_id);
        return reply.code(204).send(null);
      },
    );

    // ── mutes and blocks (docs/extending/policies.md) ──────────────────────
    app.post(
      '/chats/:chat_id/mute/',
      {
        schema: {
          tags: ['chats'],
          summary: 'Mute a chat for me: no notifications; messages still arrive and count as unread',
          params: ChatParams,
          body: S.MuteChat,
          response: { 200: S.MuteState, ...commonErrors },
        },
      },
      async (request) => {
        const until = request.body.until ? new Date(request.body.until) : null;
        const state = await core.blocks.mute(requireUser(request), request.params.chat_id, until);
        return { is_muted: state.muted, muted_until: state.until ? iso(state.until) : null };
      },
    );

    app.post(
      '/chats/:chat_id/unmute/',
      { schema: { tags: ['chats'], summary: 'Unmute a chat', params: ChatParams, response: { 200: S.MuteState, ...commonErrors } } },
      async (request) => {
        const state = await core.blocks.unmute(requireUser(request), request.params.chat_id);
        return { is_muted: state.muted, muted_until: null };
      },
    );

    app.get(
      '/blocks/',
      { schema: { tags: ['users'], summary: 'The users I block', response: { 200: S.BlockList, ...commonErrors } } },
      async (request) => {
        const blocked = await core.blocks.list(requireUser(request));
        return { count: blocked.length, results: blocked.map((b) => ({ user: restUserDetail(core, b.user), blocked_at: iso(b.blockedAt) })) };
      },
    );

    app.post(
      '/users/:user_id/block/',
      {
        schema: {
          tags: ['users'],
          summary: "Block a user: they cannot message me directly; I no longer see their messages",
          params: UserParams,
          response: { 200: S.BlockState, ...commonErrors },
        },
      },
      async (request) => {
        const { user } = await core.blocks.block(requireUser(request), request.params.user_id);
        return { user: restUserDetail(core, user), is_blocked: true };
      },
    );

    app.post(
      '/users/:user_id/unblock/',
      { schema: { tags: ['users'], summary: 'Unblock a user', params: UserParams, response: { 200: S.BlockState, ...commonErrors } } },
      async (request) => {
        const { user } = await core.blocks.unblock(requireUser(request), request.params.user_id);
        return { user: restUserDetail(core, user), is_blocked: false };
      },
    );

    app.get(
      '/rooms/',
      {
        schema: {
          tags: ['rooms'],
          summary: 'Get (or create) the public room of a content object',
          querystring: S.RoomQuery,
          response: { 200: S.ChatDetail, ...commonErrors },
        },
      },
      async (request) => {
        const actor = requireUser(request);
        const { conversation } = await core.conversations.roomForObject(actor, request.query.object);
        return detailOf(actor, conversation.id);
      },
    );

    // ── typing, users, search ──────────────────────────────────────────────
    app.post(
      '/chats/:chat_id/typing/',
      { schema: { tags: ['chats'], summary: 'Say you are typing', params: ChatParams, body: S.Typing, response: { 200: S.StatusOk, ...commonErrors } } },
      async (request) => {
        await core.messages.typing(requireUser(request), request.params.chat_id, request.body.is_typing ?? true);
        return { status: 'success' as const };
      },
    );

    app.get(
      '/users/search/',
      {
        schema: {
          tags: ['users'],
          summary: 'Search users by name, username or email',
          querystring: S.UserSearchQuery,
          response: { 200: S.UserSearchResult, ...commonErrors },
        },
      },
      async (request) => {
        const users = await core.users.search(requireUser(request), request.query.q);
        return { results: users.map((u) => restUserDetail(core, u)) };
      },
    );

    app.get(
      '/search/',
      {
        schema: {
          tags: ['messages'],
          summary: 'Full-text search over my messages, with highlighted snippets',
          description: '`"a phrase"` matches a phrase; `word*` (and the last word) match as a prefix.',
          querystring: S.SearchQuery,
          response: { 200: S.SearchResult, ...commonErrors },
        },
      },
      async (request) => {
        const hits = await core.search.messages(requireUser(request), request.query.q, request.query.limit ?? 50);
        const users = await core.users.byIds(hits.map((h) => h.message.senderId));
        return {
          count: hits.length,
          results: hits.flatMap((h) => {
            const sender = users.get(h.message.senderId);
            if (!sender) return [];
            return [
              {
                id: h.message.id,
                chat: h.message.conversationId,
                content: h.message.content,
                highlighted: h.highlighted,
                created_at: iso(h.message.createdAt),
                sender: restUser(core, sender),
              },
            ];
          }),
        };
      },
    );
  };

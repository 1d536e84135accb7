import { type Static, Type as T } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { type Conversation, type ConversationSummary, type SendInput, type User, type UserId, invalid, isParleyError } from '../../core/index.js';
import { requireUser } from '../http/authenticate.js';
import { contentOf } from '../http/attachments.js';
import { dmErrors, installErrorHandler } from '../http/errors.js';
import { type FaceDeps, typed } from '../http/face-deps.js';
import { ConversationCursor, MessageCursor, decodeCursor, encodeCursor, invalidCursor } from './cursor.js';
import { dmMessage, partner } from './present.js';
import {
  CursorQuery,
  DmMessage,
  IdPath,
  MessagePage,
  PartnerPage,
  PartnerUnread,
  SendBody,
  UnreadTotal,
  dmErrorResponses,
} from './schemas.js';

/** drf-directmessages' page size, for both lists. */
const PAGE_SIZE = 50;
/** How many conversations one step of a backwards walk reads. */
const WALK_CHUNK = 200;
const tags = ['dm'];
/** `<id>` is digits only, as Django's `<int:pk>`: anything else is an unknown URL (404). */
const ID = ':id(^\\d+)';

type Page<S> = { next: string | null; previous: string | null; results: S[] };

/**
 * The drf-directmessages API (seed 004) under `/api/dm/`: DMs between two users, cursor
 * pagination, per-user delete. Every rule (self-messages, the recipient whitelist, who may
 * see what) is the core's; this face decodes, calls the core, and shapes DRF's JSON.
 */
export const dmFace =
  ({ core, config }: FaceDeps): FastifyPluginAsync =>
  async (scope) => {
    installErrorHandler(scope, dmErrors);
    // DRF authenticates before it parses or validates anything: an anonymous POST with a bad
    // body is a 401, not a 400.
    scope.addHook('onRequest', async (request) => {
      requireUser(request);
    });
    const app = typed(scope);

    /** An absolute link to this same path with `?cursor=`, as DRF builds it (on `publicUrl` when set). */
    const link = (request: FastifyRequest, cursor: string): string => {
      const path = request.url.split('?')[0] ?? '';
      const base = config.publicUrl ?? `${request.protocol}://${request.host}`;
      return `${base}${path}?cursor=${encodeURIComponent(cursor)}`;
    };

    // ── messages of one DM ─────────────────────────────────────────────────
    const messagePage = async (
      request: FastifyRequest,
      actor: User,
      partnerId: UserId,
      conversation: Conversation | null,
      rawCursor: string | undefined,
    ): Promise<Page<Static<typeof DmMessage>>> => {
      const cursor = decodeCursor(MessageCursor, rawCursor);
      if (!conversation) return { next: null, previous: null, results: [] };
      const forward = cursor === null || cursor.d === 'n';
      let page;
      try {
        page = await core.messages.history(actor, conversation.id, {
          newestFirst: forward,
          limit: PAGE_SIZE + 1,
          ...(cursor === null ? {} : cursor.d === 'n' ? { before: cursor.m } : { after: cursor.m }),
        });
      } catch (e) {
        // The only validation error history raises is for its before/after message id.
        if (cursor !== null && isParleyError(e) && e.code === 'validation') throw invalidCursor();
        throw e;
      }
      const more = page.items.length > PAGE_SIZE;
      const items = page.items.slice(0, PAGE_SIZE);
      if (!forward) items.reverse();
      const newest = items[0];
      const oldest = items.at(-1);

      // Reading a page marks what it shows as read (and everything older): the store never
      // moves a read cursor backwards, so older pages cost nothing.
      let members = page.members;
      if (newest && (await core.messages.markRead(actor, conversation.id, newest.id)) > 0) {
        members = (await core.conversations.get(actor, conversation.id)).members;
      }

      const to = (d: 'n' | 'p', m: number) => link(request, encodeCursor(MessageCursor, { d, m }));
      const extras = await core.attachments.extrasOf(items);
      return {
        next: oldest && (forward ? more : true) ? to('n', oldest.id) : null,
        previous: newest && (forward ? cursor !== null : more) ? to('p', newest.id) : null,
        results: items.map((m) => dmMessage(core, actor.id, partnerId, m, members, extras)),
      };
    };

    // ── conversation partners ──────────────────────────────────────────────
    type Key = { t: number; i: number };
    const keyOf = (c: Conversation): Key => ({ t: c.lastActivityAt.getTime(), i: c.id });
    /** True when `c` sorts before `k` in the list order (newest activity first, then higher id). */
    const isBefore = (c: Conversation, k: Key) => {
      const t = c.lastActivityAt.getTime();
      return t > k.t || (t === k.t && c.id > k.i);
    };
    const listDms = (actor: User, limit: number, after?: Pick<Conversation, 'lastActivityAt' | 'id'>) =>
      core.conversations.list(actor, { kinds: ['dm'], limit, ...(after ? { after } : {}) });

    /** The up to PAGE_SIZE + 1 conversations right before `k`, found by walking from the top. */
    const walkTo = async (actor: User, k: Key): Promise<ConversationSummary[]> => {
      const window: ConversationSummary[] = [];
      let after: Conversation | undefined;
      for (;;) {
        const { items } = await listDms(actor, WALK_CHUNK, after);
        for (const s of items) {
          if (!isBefore(s.conversation, k)) return window;
          window.push(s);
          if (window.length > PAGE_SIZE + 1) window.shift();
        }
        const last = items.at(-1);
        if (!last || items.length < WALK_CHUNK) return window;
        after = last.conversation;
      }
    };

    const partnerPage = async (request: FastifyRequest, actor: User, rawCursor: string | undefined) => {
      const cursor = decodeCursor(ConversationCursor, rawCursor);
      let items: ConversationSummary[];
      let more: boolean;
      if (cursor === null || cursor.d === 'n') {
        const after = cursor === null ? undefined : { lastActivityAt: new Date(cursor.t), id: cursor.i };
        const page = await listDms(actor, PAGE_SIZE + 1, after);
        more = page.items.length > PAGE_SIZE;
        items = page.items.slice(0, PAGE_SIZE);
      } else {
        // The store walks only towards older conversations, so a `previous` page is the last
        // PAGE_SIZE conversations seen walking from the top to the cursor.
        const window = await walkTo(actor, { t: cursor.t, i: cursor.i });
        more = window.length > PAGE_SIZE;
        items = window.slice(-PAGE_SIZE);
      }
      const forward = cursor === null || cursor.d === 'n';
      const first = items[0]?.conversation;
      const last = items.at(-1)?.conversation;
      const to = (d: 'n' | 'p', c: Conversation) => link(request, encodeCursor(ConversationCursor, { d, ...keyOf(c) }));

      const partnerIds = items.map((s) => s.members.find((m) => m.userId !== actor.id)?.userId);
      const users = await core.users.byIds(partnerIds.filter((id): id is UserId => id !== undefined));
      const results = partnerIds.flatMap((id) => {
        const u = id === undefined ? undefined : users.get(id);
        return u ? [partner(core, u)] : [];
      });
      return {
        next: last && (forward ? more : true) ? to('n', last) : null,
        previous: first && (forward ? cursor !== null : more) ? to('p', first) : null,
        results,
      };
    };

    // ── routes ─────────────────────────────────────────────────────────────
    app.get(
      '/unread/',
      {
        schema: {
          tags,
          summary: 'Your user id and total unread direct messages',
          response: { 200: UnreadTotal, ...dmErrorResponses },
        },
      },
      async (request) => {
        const actor = requireUser(request);
        const counts = await core.messages.unreadCounts(actor, { kinds: ['dm'] });
        let count = 0;
        for (const n of counts.values()) count += n;
        return { id: actor.id, count };
      },
    );

    app.get(
      '/conversations/',
      {
        schema: {
          tags,
          summary: 'Your conversation partners, most recent activity first',
          description: `Cursor-paginated, ${PAGE_SIZE} per page.`,
          querystring: CursorQuery,
          response: { 200: PartnerPage, ...dmErrorResponses },
        },
      },
      async (request) => partnerPage(request, requireUser(request), request.query.cursor),
    );

    app.get(
      '/conversations/unread/',
      {
        schema: {
          tags,
          summary: 'Unread counts per conversation partner',
          description: 'Only partners with unread messages, most recent activity first.',
          response: { 200: T.Array(PartnerUnread), ...dmErrorResponses },
        },
      },
      async (request) => {
        const actor = requireUser(request);
        const counts = await core.messages.unreadCounts(actor, { kinds: ['dm'] });
        const chats = await Promise.all([...counts.keys()].map((id) => core.conversations.get(actor, id)));
        chats.sort((a, b) => b.conversation.lastActivityAt.getTime() - a.conversation.lastActivityAt.getTime() || b.conversation.id - a.conversation.id);
        const rows = chats.map((c) => ({
          partnerId: c.members.find((m) => m.userId !== actor.id)?.userId,
          unread: counts.get(c.conversation.id) ?? 0,
        }));
        const users = await core.users.byIds(rows.flatMap((r) => (r.partnerId === undefined ? [] : [r.partnerId])));
        return rows.flatMap((r) => {
          const u = r.partnerId === undefined ? undefined : users.get(r.partnerId);
          return u && r.unread > 0 ? [{ partner_id: u.id, partner_username: u.username, unread_count: r.unread }] : [];
        });
      },
    );

    app.get(
      `/conversations/${ID}/`,
      {
        schema: {
          tags,
          summary: 'Messages with user <id>, newest first; marks inbound messages read',
          description: `Cursor-paginated, ${PAGE_SIZE} per page. Messages you deleted are left out.`,
          params: IdPath,
          querystring: CursorQuery,
          response: { 200: MessagePage, ...dmErrorResponses },
        },
      },
      async (request) => {
        const actor = requireUser(request);
        const { partner: other, conversation } = await core.conversations.findDm(actor, request.params.id);
        return messagePage(request, actor, other.id, conversation, request.query.cursor);
      },
    );

    app.post(
      `/conversations/${ID}/`,
      {
        schema: {
          tags,
          summary: 'Send a message to user <id>; answers with the updated conversation',
          params: IdPath,
          body: SendBody,
          response: { 201: MessagePage, ...dmErrorResponses },
        },
      },
      async (request, reply) => {
        const actor = requireUser(request);
        const { conversation } = await core.conversations.openDm(actor, request.params.id);
        await core.messages.send(actor, conversation.id, dmSendInput(request.body));
        return reply.code(201).send(await messagePage(request, actor, request.params.id, conversation, undefined));
      },
    );

    app.post(
      `/send/${ID}/`,
      {
        schema: {
          tags,
          summary: 'Send a message to user <id>',
          params: IdPath,
          body: SendBody,
          response: { 201: DmMessage, ...dmErrorResponses },
        },
      },
      async (request, reply) => {
        const actor = requireUser(request);
        const { conversation } = await core.conversations.openDm(actor, request.params.id);
        const { message, extras } = await core.messages.send(actor, conversation.id, dmSendInput(request.body));
        // Just sent: the recipient cannot have read it yet, so no member cursors are needed.
        return reply.code(201).send(dmMessage(core, actor.id, request.params.id, message, [], new Map([[message.id, extras]])));
      },
    );

    app.delete(
      `/messages/${ID}/`,
      {
        schema: {
          tags,
          summary: 'Delete a message for yourself only',
          description: 'The other participant still sees it. 404 if it does not exist, is not in one of your conversations, or you already deleted it.',
          params: IdPath,
          response: { 204: T.Null(), ...dmErrorResponses },
        },
      },
      async (request, reply) => {
        await core.messages.hide(requireUser(request), request.params.id);
        return reply.code(204).send(null);
      },
    );
  };

/** The send body as the core takes it: text, uploads to attach, reply or forward. */
function dmSendInput(b: Static<typeof SendBody>): SendInput {
  return { content: contentOf(b), attachmentIds: b.attachment_ids, parentId: b.parent_message_id, forwardedFromId: b.forwarded_from_id, metadata: b.metadata };
}

import multipart from '@fastify/multipart';
import { type Static, Type as T } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { type Conversation, type Message, type MessageId, ParleyError, type SendInput, type User, type UserId, isParleyError } from '../../core/index.js';
import { requireUser } from '../http/authenticate.js';
import { dmErrors, installErrorHandler } from '../http/errors.js';
import { type FaceDeps, typed } from '../http/face-deps.js';
import { markFormBody } from '../http/validation.js';
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
/** How many conversations (or messages) one step of a full walk reads. */
const WALK_CHUNK = 200;
const tags = ['dm'];
/** `<id>` is digits only, as Django's `<int:pk>`: anything else is an unknown URL (404). */
const ID = ':id(^\\d+)';
/** The package's client posts multipart forms; its views take JSON and urlencoded forms too. */
const consumes = ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data'];

/** drf-directmessages' texts, word for word (`str(ValidationError)` is the repr of a list). */
const TEXT = {
  contentRequired: 'content is required',
  toSelf: '["You can\'t send messages to yourself."]',
  notAllowed: "['You are not allowed to message this user.']",
  deleteNotFound: 'Message not found or not authorized.',
} as const;

type Page<S> = { next: string | null; previous: string | null; results: S[] };
type DmOut = Static<typeof DmMessage>;

/**
 * The drf-directmessages API (seed 004) under `/api/dm/`: DMs between two users, cursor
 * pagination, per-user delete, per-message read state. Every rule (self-messages, the
 * recipient whitelist, who may see what) is the core's; this face decodes, calls the core,
 * and shapes DRF's JSON with the package's texts.
 */
export const dmFace =
  ({ core, config }: FaceDeps): FastifyPluginAsync =>
  async (scope) => {
    installErrorHandler(scope, dmErrors);
    // DRF authenticates before it parses or validates anything: an anonymous POST with a bad
    // body is a 403 (see `dmErrors`), not a 400.
    scope.addHook('onRequest', async (request) => {
      requireUser(request);
    });
    // Multipart forms (as `APIClient.post` sends them) become the body. The views read fields
    // only, so file parts are drained and dropped, as the package's views ignore them.
    await scope.register(multipart, {
      attachFieldsToBody: 'keyValues',
      limits: { fields: 32, fieldSize: config.bodyLimit, files: 8 },
      onFile: async (part) => {
        part.file.resume();
      },
    });
    scope.addHook('preValidation', async (request) => {
      if (request.isMultipart()) markFormBody(request.body);
    });
    const app = typed(scope);

    /** An absolute link to this same path with `?cursor=`, as DRF builds it (on `publicUrl` when set). */
    const link = (request: FastifyRequest, cursor: string): string => {
      const path = request.url.split('?')[0] ?? '';
      const base = config.publicUrl ?? `${request.protocol}://${request.host}`;
      return `${base}${path}?cursor=${encodeURIComponent(cursor)}`;
    };

    /** The package looks the recipient up first: an unknown user is a 404 before anything else. */
    const recipientOf = async (actor: User, id: UserId): Promise<User> => {
      if (id === actor.id) return actor;
      return (await core.conversations.findDm(actor, id)).partner;
    };

    /** The core's refusals of a recipient, in the package's words. */
    const asPackageRefusal = (e: unknown, actor: User, id: UserId): unknown => {
      if (!isParleyError(e) || e.code !== 'validation' || e.details?.recipient === undefined) return e;
      return new ParleyError('validation', id === actor.id ? TEXT.toSelf : TEXT.notAllowed);
    };

    /** Opens the DM and sends; the package's checks and texts, in its order. */
    const sendDm = async (actor: User, id: UserId, body: Static<typeof SendBody>) => {
      await recipientOf(actor, id);
      const input = dmSendInput(body);
      try {
        const { conversation } = await core.conversations.openDm(actor, id);
        const { message, extras } = await core.messages.send(actor, conversation.id, input);
        return { conversation, message, extras };
      } catch (e) {
        throw asPackageRefusal(e, actor, id);
      }
    };

    /** When each message was read by its recipient (the viewer for inbound, the partner for outbound). */
    const readTimesOf = async (actor: User, partnerId: UserId, conversation: Conversation, items: readonly Message[]) => {
      const [mine, theirs] = await Promise.all([
        core.messages.readTimes(actor.id, conversation.id, items),
        core.messages.readTimes(partnerId, conversation.id, items),
      ]);
      return new Map<MessageId, Date>([...mine, ...theirs]);
    };

    const present = async (actor: User, partnerId: UserId, conversation: Conversation, items: Message[]): Promise<DmOut[]> => {
      const [readTimes, extras] = await Promise.all([readTimesOf(actor, partnerId, conversation, items), core.attachments.extrasOf(items)]);
      return items.map((m) => dmMessage(core, actor.id, partnerId, m, readTimes, extras));
    };

    // ── messages of one DM ─────────────────────────────────────────────────
    const messagePage = async (
      request: FastifyRequest,
      actor: User,
      partnerId: UserId,
      conversation: Conversation | null,
      rawCursor: string | undefined,
    ): Promise<Page<DmOut>> => {
      const cursor = decodeCursor(MessageCursor, rawCursor);
      if (!conversation) return { next: null, previous: null, results: [] };
      // As the package: every GET marks the whole conversation's inbound messages read (not
      // just this page), before the page is read, so the page shows them read.
      await core.messages.markRead(actor, conversation.id);
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
      const to = (d: 'n' | 'p', m: number) => link(request, encodeCursor(MessageCursor, { d, m }));
      return {
        next: oldest && (forward ? more : true) ? to('n', oldest.id) : null,
        previous: newest && (forward ? cursor !== null : more) ? to('p', newest.id) : null,
        results: await present(actor, partnerId, conversation, items),
      };
    };

    /** The whole conversation, newest first, unpaginated (the package's `POST conversations/<id>/` answer). */
    const wholeConversation = async (actor: User, partnerId: UserId, conversation: Conversation): Promise<DmOut[]> => {
      await core.messages.markRead(actor, conversation.id);
      const all: Message[] = [];
      for (;;) {
        const before = all.at(-1)?.id;
        const { items } = await core.messages.history(actor, conversation.id, { newestFirst: true, limit: WALK_CHUNK, ...(before === undefined ? {} : { before }) });
        all.push(...items);
        if (items.length < WALK_CHUNK) break;
      }
      return present(actor, partnerId, conversation, all);
    };

    // ── conversation partners ──────────────────────────────────────────────
    /**
     * Everyone the actor has a DM with that still shows a message to them, by user id
     * descending (the package pages users by `-pk`). A DM whose every message the actor
     * deleted (hid) is left out, as the package's `get_conversations` does.
     */
    const partnerIds = async (actor: User): Promise<UserId[]> => {
      const ids: UserId[] = [];
      let after: Conversation | undefined;
      for (;;) {
        const { items } = await core.conversations.list(actor, { kinds: ['dm'], limit: WALK_CHUNK, ...(after ? { after } : {}) });
        for (const s of items) {
          const other = s.members.find((m) => m.userId !== actor.id)?.userId;
          if (other !== undefined && s.lastMessage) ids.push(other);
        }
        const last = items.at(-1);
        if (!last || items.length < WALK_CHUNK) break;
        after = last.conversation;
      }
      return [...new Set(ids)].sort((a, b) => b - a);
    };

    const partnerPage = async (request: FastifyRequest, actor: User, rawCursor: string | undefined) => {
      const cursor = decodeCursor(ConversationCursor, rawCursor);
      const all = await partnerIds(actor);
      const forward = cursor === null || cursor.d === 'n';
      let ids: UserId[];
      let more: boolean;
      if (forward) {
        const rest = cursor === null ? all : all.filter((id) => id < cursor.u);
        more = rest.length > PAGE_SIZE;
        ids = rest.slice(0, PAGE_SIZE);
      } else {
        const before = all.filter((id) => id > cursor.u);
        more = before.length > PAGE_SIZE;
        ids = before.slice(-PAGE_SIZE);
      }
      const first = ids[0];
      const last = ids.at(-1);
      const to = (d: 'n' | 'p', u: UserId) => link(request, encodeCursor(ConversationCursor, { d, u }));
      const users = await core.users.byIds(ids);
      return {
        next: last !== undefined && (forward ? more : true) ? to('n', last) : null,
        previous: first !== undefined && (forward ? cursor !== null : more) ? to('p', first) : null,
        results: ids.flatMap((id) => {
          const u = users.get(id);
          return u ? [partner(core, u)] : [];
        }),
      };
    };

    /** Unread messages per DM, by per-message read state: a reply does not read earlier messages. */
    const unreadByDm = (actor: User) => core.messages.unreadCountsByMessage(actor, { kinds: ['dm'] });

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
        let count = 0;
        for (const n of (await unreadByDm(actor)).values()) count += n;
        return { id: actor.id, count };
      },
    );

    app.get(
      '/conversations/',
      {
        schema: {
          tags,
          summary: 'Your conversation partners, highest user id first',
          description: `Cursor-paginated, ${PAGE_SIZE} per page, ordered by user id descending as drf-directmessages (\`-pk\`).`,
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
          description: 'Only partners with unread messages, by user id.',
          response: { 200: T.Array(PartnerUnread), ...dmErrorResponses },
        },
      },
      async (request) => {
        const actor = requireUser(request);
        const counts = await unreadByDm(actor);
        const chats = await Promise.all([...counts.keys()].map((id) => core.conversations.get(actor, id)));
        const rows = chats.flatMap((c) => {
          const partnerId = c.members.find((m) => m.userId !== actor.id)?.userId;
          const unread = counts.get(c.conversation.id) ?? 0;
          return partnerId !== undefined && unread > 0 ? [{ partnerId, unread }] : [];
        });
        rows.sort((a, b) => a.partnerId - b.partnerId);
        const users = await core.users.byIds(rows.map((r) => r.partnerId));
        return rows.flatMap((r) => {
          const u = users.get(r.partnerId);
          return u ? [{ partner_id: u.id, partner_username: u.username, unread_count: r.unread }] : [];
        });
      },
    );

    app.get(
      `/conversations/${ID}/`,
      {
        schema: {
          tags,
          summary: 'Messages with user <id>, newest first; marks inbound messages read',
          description: `Cursor-paginated, ${PAGE_SIZE} per page. Messages you deleted are left out. Reading marks every inbound message of the conversation read.`,
          params: IdPath,
          querystring: CursorQuery,
          response: { 200: MessagePage, ...dmErrorResponses },
        },
      },
      async (request) => {
        const actor = requireUser(request);
        // Your conversation with yourself exists and is empty, as in the package.
        if (request.params.id === actor.id) {
          decodeCursor(MessageCursor, request.query.cursor);
          return { next: null, previous: null, results: [] };
        }
        const { partner: other, conversation } = await core.conversations.findDm(actor, request.params.id);
        return messagePage(request, actor, other.id, conversation, request.query.cursor);
      },
    );

    app.post(
      `/conversations/${ID}/`,
      {
        schema: {
          tags,
          summary: 'Send a message to user <id>; answers with the whole conversation',
          description: 'As drf-directmessages: 201 with every message of the conversation (newest first, not paginated), inbound ones marked read.',
          consumes,
          params: IdPath,
          body: SendBody,
          response: { 201: T.Array(DmMessage), ...dmErrorResponses },
        },
      },
      async (request, reply) => {
        const actor = requireUser(request);
        const { conversation } = await sendDm(actor, request.params.id, request.body);
        return reply.code(201).send(await wholeConversation(actor, request.params.id, conversation));
      },
    );

    app.post(
      `/send/${ID}/`,
      {
        schema: {
          tags,
          summary: 'Send a message to user <id>',
          consumes,
          params: IdPath,
          body: SendBody,
          response: { 201: DmMessage, ...dmErrorResponses },
        },
      },
      async (request, reply) => {
        const actor = requireUser(request);
        const { message, extras } = await sendDm(actor, request.params.id, request.body);
        // Just sent: the recipient cannot have read it yet.
        return reply.code(201).send(dmMessage(core, actor.id, request.params.id, message, new Map(), new Map([[message.id, extras]])));
      },
    );

    app.delete(
      `/messages/${ID}/`,
      {
        schema: {
          tags,
          summary: 'Delete a message for yourself only',
          description: `The other participant still sees it. Deleting it again is a 204 too. 404 \`{"detail": "${TEXT.deleteNotFound}"}\` if it does not exist or is not in one of your conversations.`,
          params: IdPath,
          response: { 204: T.Null(), ...dmErrorResponses },
        },
      },
      async (request, reply) => {
        try {
          await core.messages.hide(requireUser(request), request.params.id);
        } catch (e) {
          if (isParleyError(e) && e.code === 'not_found') throw new ParleyError('not_found', TEXT.deleteNotFound);
          throw e;
        }
        return reply.code(204).send(null);
      },
    );
  };

/**
 * The send body as the core takes it. As the package, missing or empty content is
 * `{"detail": "content is required"}`, unless the message attaches uploads or forwards one
 * (Parley's additions).
 */
function dmSendInput(b: Static<typeof SendBody>): SendInput {
  const hasOther = (b.attachment_ids?.length ?? 0) > 0 || b.forwarded_from_id != null;
  if (!b.content && !hasOther) throw new ParleyError('validation', TEXT.contentRequired);
  return { content: b.content ?? '', attachmentIds: b.attachment_ids, parentId: b.parent_message_id, forwardedFromId: b.forwarded_from_id, metadata: b.metadata };
}

import { groupBy } from './conversations.js';
import type { Conversations } from './conversations.js';
import { type CoreContext, commit, ensure, inViewOf, loadVisible, loadVisibleMessage } from './context.js';
import { featureDisabled, invalid, isParleyError, notFound, rateLimited } from './errors.js';
import { runBefore } from './hooks.js';
import { checkMetadata } from './metadata.js';
import type { Store } from './ports/store.js';
import { stripMarkers } from './text.js';
import { type MediaInput, type MessageExtras, NO_EXTRAS, loadExtras, prepareAttachments, removeStoredFiles } from './attachments.js';
import type {
  AttachmentId,
  Conversation,
  ConversationId,
  Member,
  Message,
  MessageId,
  Metadata,
  ReactionSummary,
  User,
  UserId,
} from './types.js';

export interface SendInput {
  content: string;
  parentId?: MessageId | null | undefined;
  /** Client-chosen id: a retry with the same id returns the first message, stores nothing. */
  clientId?: string | null | undefined;
  /** The sender's own unattached uploads to attach (with any, `content` may be empty). */
  attachmentIds?: readonly AttachmentId[] | undefined;
  /** Media by URL (the `/messaging/` `extra_fields.media`), stored as attachments without a file. */
  media?: readonly MediaInput[] | undefined;
  /**
   * Forwards this message (one the sender can view, in any conversation): its attachments are
   * copied, and its content unless `content` is given. Not together with `parentId` (conflict).
   */
  forwardedFromId?: MessageId | null | undefined;
  /** Host-defined data (a JSON object, checked against `metadataSchema.message`). */
  metadata?: Metadata | null | undefined;
}

export interface HistoryQuery {
  /** Only messages older than this message. */
  before?: MessageId | undefined;
  /** Only messages newer than this message. */
  after?: MessageId | undefined;
  newestFirst: boolean;
  limit: number;
  offset?: number | undefined;
}

/**
 * Whether a member has read a message: their read cursor reached it and they were a member
 * when it was sent (`joinedSeq`), so history from before they joined never counts.
 */
export function hasRead(member: Member, message: Message): boolean {
  return member.joinedSeq < message.seq && member.lastReadSeq >= message.seq;
}

const EMOJI_MAX = 32;
const CLIENT_ID_MAX = 64;

/** Messages, reactions, read cursors and typing. */
export class Messages {
  constructor(
    private readonly ctx: CoreContext,
    private readonly conversations: Conversations,
  ) {}

  /** Sends a message. `created` is false when `clientId` matched an earlier send; `members` are the conversation's, as of the send. */
  async send(
    actor: User,
    conversationId: ConversationId,
    input: SendInput,
  ): Promise<{ message: Message; conversation: Conversation; created: boolean; members: Member[]; extras: MessageExtras }> {
    const pc = await loadVisible(this.ctx, actor, conversationId);
    // Replies and forwards, uploads and media: checked first, files copied just before the insert.
    const extra = await prepareAttachments(this.ctx, actor, input);
    const allowEmpty = extra.count > 0;
    let content = this.checkContent(extra.content ?? input.content, allowEmpty);
    const metadata = checkMetadata(this.ctx.validateMetadata, 'message', input.metadata);
    ensure(await this.ctx.policy.canPost(pc), pc.conversation.kind === 'channel' ? 'Only admins can post in this channel.' : undefined);
    const members = await this.ctx.store.listMembers(conversationId);
    if (pc.conversation.kind === 'dm') {
      const partner = members.find((m) => m.userId !== actor.id);
      if (partner) await this.conversations.checkDmAllowed(actor, partner.userId);
    }
    const clientId = input.clientId ?? null;
    if (clientId !== null && (clientId.length === 0 || clientId.length > CLIENT_ID_MAX)) {
      throw invalid('client_id', `Ensure this field has 1 to ${CLIENT_ID_MAX} characters.`);
    }
    const parentId = input.parentId ?? null;
    if (parentId !== null) {
      const parent = await this.ctx.store.getMessage(parentId);
      if (!parent || parent.conversationId !== conversationId || parent.deletedAt !== null) {
        throw invalid('parent_id', 'The replied-to message is not in this conversation.');
      }
    }
    // Counted last, so a send refused for another reason does not use up the budget.
    const budget = await this.ctx.sendLimiter?.consume(String(actor.id));
    if (budget && !budget.ok) throw rateLimited(budget.retryAfterMs);
    const rewritten = await runBefore(this.ctx.hooks, 'message.send', { actor, conversation: pc.conversation, content, parentId });
    if (rewritten !== undefined) content = this.checkContent(rewritten, allowEmpty);
    const media = await extra.materialize();
    type Inserted = { message: Message; created: boolean; conversation: Conversation | null; extras: MessageExtras | null };
    let inserted: Inserted;
    try {
      inserted = await commit<Inserted>(this.ctx, async (tx) => {
        const { message, created } = await tx.insertMessage({
        conversationId,
        senderId: actor.id,
        content,
        parentId,
        clientId,
        now: this.ctx.now(),
        ...(metadata != null ? { metadata } : {}),
        ...(extra.forwardedFromId !== null ? { forwardedFromId: extra.forwardedFromId } : {}),
        ...(extra.attachmentIds.length > 0 ? { attachmentIds: extra.attachmentIds } : {}),
        ...(media.length > 0 ? { media } : {}),
        });
        // A retried client_id stored nothing new: its event was logged with the first send.
        if (!created) return { value: { message, created, conversation: null, extras: null }, events: [] };
        const conversation = (await tx.getConversation(conversationId)) ?? pc.conversation;
        // Read once here, for the answer and for every subscriber of the event.
        const withExtras = parentId !== null || extra.count > 0 || extra.forwardedFromId !== null;
        const extras = withExtras ? ((await loadExtras(tx, [message])).get(message.id) ?? NO_EXTRAS) : NO_EXTRAS;
        return { value: { message, created, conversation, extras }, events: [{ type: 'message.created', conversation, message, extras }] };
      });
    } catch (e) {
      await extra.discard(media);
      throw e;
    }
    const { message, created } = inserted;
    // A retried client_id stored nothing: the copies made for it are not needed.
    if (!created) await extra.discard(media);
    const conversation = inserted.conversation ?? (await this.ctx.store.getConversation(conversationId)) ?? pc.conversation;
    // The sender's read cursor moved with the insert; the others' did not.
    const after = members.map((m) => (m.userId === actor.id ? { ...m, lastReadSeq: Math.max(m.lastReadSeq, message.seq) } : m));
    const extras = inserted.extras ?? (await loadExtras(this.ctx.store, [message])).get(message.id) ?? NO_EXTRAS;
    return { message, conversation, created, members: after, extras };
  }

  /** A page of history as the actor sees it, and the total the page belongs to. */
  async history(actor: User, conversationId: ConversationId, q: HistoryQuery): Promise<{ total: number; items: Message[]; conversation: Conversation; members: Member[] }> {
    const pc = await loadVisible(this.ctx, actor, conversationId);
    const includeDeleted = this.ctx.settings.messageSoftDelete && this.ctx.settings.showDeletedMessageIndicators;
    const filter = {
      viewerId: actor.id,
      includeDeleted,
      ...(q.before !== undefined ? { beforeSeq: await this.seqOf(conversationId, q.before, 'before') } : {}),
      ...(q.after !== undefined ? { afterSeq: await this.seqOf(conversationId, q.after, 'after') } : {}),
    };
    const [total, items, members] = await Promise.all([
      this.ctx.store.countMessages(conversationId, filter),
      this.ctx.store.listMessages(conversationId, { ...filter, newestFirst: q.newestFirst, limit: q.limit, offset: q.offset }),
      this.ctx.store.listMembers(conversationId),
    ]);
    return { total, items, conversation: pc.conversation, members };
  }

  async get(actor: User, id: MessageId): Promise<{ message: Message; members: Member[] }> {
    const { message } = await loadVisibleMessage(this.ctx, actor, id);
    return { message, members: await this.ctx.store.listMembers(message.conversationId) };
  }

  /** Edits the content; `metadata`, when given, replaces the message's metadata (null clears it). */
  async edit(actor: User, id: MessageId, content: string, metadata?: Metadata | null): Promise<{ message: Message; members: Member[] }> {
    if (!this.ctx.settings.allowEditingOwnMessages) throw featureDisabled('Editing messages is disabled.');
    const { pc, message } = await loadVisibleMessage(this.ctx, actor, id);
    ensure(await this.ctx.policy.canEditMessage(pc, message), 'You can only edit your own messages.');
    // A message with attachments may be edited down to no text (the media-only rule).
    const hasAttachments = (await this.ctx.store.listAttachments([id])).length > 0;
    let checked = this.checkContent(content, hasAttachments);
    const newMetadata = checkMetadata(this.ctx.validateMetadata, 'message', metadata);
    const rewritten = await runBefore(this.ctx.hooks, 'message.edit', { actor, conversation: pc.conversation, message, content: checked });
    if (rewritten !== undefined) checked = this.checkContent(rewritten, hasAttachments);
    const updated = await commit(this.ctx, async (tx) => {
      const updated =
        newMetadata === undefined
          ? await tx.updateMessageContent(id, checked, this.ctx.now())
          : await tx.updateMessageContent(id, checked, this.ctx.now(), newMetadata);
      if (!updated) throw notFound();
      return { value: updated, events: [{ type: 'message.updated', conversation: pc.conversation, message: updated }] };
    });
    return { message: updated, members: await this.ctx.store.listMembers(message.conversationId) };
  }

  /** Deletes for everyone: soft or hard per `messageSoftDelete`. */
  async delete(actor: User, id: MessageId): Promise<void> {
    if (!this.ctx.settings.allowDeletingOwnMessages) throw featureDisabled('Deleting messages is disabled.');
    const { pc, message } = await loadVisibleMessage(this.ctx, actor, id);
    ensure(await this.ctx.policy.canDeleteMessage(pc, message), 'You can only delete your own messages.');
    await runBefore(this.ctx.hooks, 'message.delete', { actor, conversation: pc.conversation, message });
    const soft = this.ctx.settings.messageSoftDelete;
    // The rows go with the message; their files are removed once it is gone.
    const attachments = soft ? [] : await this.ctx.store.listAttachments([id]);
    await commit(this.ctx, async (tx) => {
      if (soft) await tx.softDeleteMessage(id, this.ctx.now());
      else await tx.hardDeleteMessage(id);
      return { value: undefined, events: [{ type: 'message.deleted', conversation: pc.conversation, messageId: id, soft }] };
    });
    await removeStoredFiles(this.ctx, attachments);
  }

  /**
   * Hides a message for the actor only; the other members still see it. Idempotent, as
   * drf-directmessages' delete: hiding a message the actor already hid succeeds again, quietly.
   */
  async hide(actor: User, id: MessageId): Promise<void> {
    let seen: Awaited<ReturnType<typeof loadVisibleMessage>>;
    try {
      seen = await loadVisibleMessage(this.ctx, actor, id);
    } catch (e) {
      if (isParleyError(e) && e.code === 'not_found' && (await this.isHiddenBy(actor, id))) return;
      throw e;
    }
    const { pc, message } = seen;
    if (!pc.member) throw notFound();
    await commit(this.ctx, async (tx) => {
      await tx.hideMessage(id, actor.id, this.ctx.now());
      return { value: undefined, events: [{ type: 'message.hidden', conversationId: message.conversationId, messageId: id, userId: actor.id }] };
    });
  }

  /** Adds the actor's reaction, or removes it if it was there. */
  async toggleReaction(actor: User, id: MessageId, emoji: string): Promise<{ action: 'added' | 'removed'; reactions: ReactionSummary[] }> {
    if (!this.ctx.settings.allowAddingReactions) throw featureDisabled('Reactions are disabled.');
    const e = emoji.trim();
    if (e === '' || [...e].length > EMOJI_MAX) throw invalid('emoji', 'Enter a valid emoji.');
    const { pc, message } = await loadVisibleMessage(this.ctx, actor, id);
    ensure(await this.ctx.policy.canReact(pc));
    await runBefore(this.ctx.hooks, 'reaction.toggle', { actor, conversation: pc.conversation, message, emoji: e });
    return commit(this.ctx, async (tx) => {
      const action = await tx.toggleReaction(id, actor.id, e, this.ctx.now());
      const reactions = (await this.reactionsOf([id], tx)).get(id) ?? [];
      return {
        value: { action, reactions },
        events: [{ type: 'reaction.changed', conversation: pc.conversation, messageId: id, userId: actor.id, emoji: e, action, reactions }],
      };
    });
  }

  /** Reactions grouped by emoji for each message. */
  async reactionsOf(ids: readonly MessageId[], store: Store = this.ctx.store): Promise<Map<MessageId, ReactionSummary[]>> {
    const rows = await store.listReactions(ids);
    const out = new Map<MessageId, ReactionSummary[]>();
    for (const [messageId, list] of groupBy(rows, (r) => r.messageId)) {
      const byEmoji = new Map<string, ReactionSummary>();
      for (const r of list) {
        const s = byEmoji.get(r.emoji) ?? { emoji: r.emoji, count: 0, users: [] };
        s.count += 1;
        s.users.push(r.userId);
        byEmoji.set(r.emoji, s);
      }
      out.set(messageId, [...byEmoji.values()]);
    }
    return out;
  }

  /**
   * Marks the conversation read up to `uptoMessageId` (default: everything). Returns how
   * many messages from others became read by this call.
   */
  async markRead(actor: User, conversationId: ConversationId, uptoMessageId?: MessageId): Promise<number> {
    const pc = await loadVisible(this.ctx, actor, conversationId);
    if (!pc.member) throw notFound();
    const upto = uptoMessageId === undefined ? pc.conversation.lastSeq : await this.seqOf(conversationId, uptoMessageId, 'message_id');
    const now = this.ctx.now();
    return commit(this.ctx, async (tx) => {
      // Reading also marks each message read (`readTimes`), even where a send already moved the cursor.
      const mark = await tx.recordRead(conversationId, actor.id, upto, now);
      const move = await tx.advanceReadCursor(conversationId, actor.id, upto, now);
      if (!move) return { value: 0, events: [] };
      const marked = mark && mark.after > mark.before ? { marked: { fromSeq: mark.before, uptoSeq: mark.after } } : {};
      if (move.after === move.before && !('marked' in marked)) return { value: 0, events: [] };
      const count = move.after === move.before ? 0 : await tx.countFromOthers(conversationId, actor.id, move.before, move.after);
      return {
        value: count,
        events: [{ type: 'read.updated', conversation: pc.conversation, userId: actor.id, uptoSeq: move.after, previousSeq: move.before, at: now, ...marked }],
      };
    });
  }

  /** Marks read up to one message, wherever it is; returns its conversation and the count. */
  async markReadUpTo(actor: User, messageId: MessageId): Promise<{ conversationId: ConversationId; marked: number }> {
    const { message } = await loadVisibleMessage(this.ctx, actor, messageId);
    return { conversationId: message.conversationId, marked: await this.markRead(actor, message.conversationId, messageId) };
  }

  /**
   * Acknowledges delivery of messages (the real-time protocol's `message.acknowledged`):
   * moves the actor's delivery cursor of each conversation to the newest acknowledged message.
   * Unknown or invisible ids are a 404, so a client learns nothing about other chats.
   */
  async acknowledge(actor: User, messageIds: readonly MessageId[]): Promise<{ conversationId: ConversationId; uptoSeq: number }[]> {
    if (messageIds.length === 0) throw invalid('message_id', 'This field may not be empty.');
    const newest = new Map<ConversationId, { seq: number; conversation: Conversation }>();
    for (const id of new Set(messageIds)) {
      const { pc, message } = await loadVisibleMessage(this.ctx, actor, id);
      if (!pc.member) throw notFound();
      const cur = newest.get(message.conversationId);
      if (!cur || cur.seq < message.seq) newest.set(message.conversationId, { seq: message.seq, conversation: pc.conversation });
    }
    const now = this.ctx.now();
    const out: { conversationId: ConversationId; uptoSeq: number }[] = [];
    for (const [conversationId, { seq, conversation }] of newest) {
      const uptoSeq = await commit(this.ctx, async (tx) => {
        const move = await tx.advanceDeliveryCursor(conversationId, actor.id, seq, now);
        const moved = move !== null && move.after > move.before;
        return {
          value: move?.after ?? seq,
          events: moved ? [{ type: 'delivery.updated', conversation, userId: actor.id, uptoSeq: move.after, previousSeq: move.before, at: now }] : [],
        };
      });
      out.push({ conversationId, uptoSeq });
    }
    return out;
  }

  /**
   * Messages not yet acknowledged by the actor, grouped by conversation: derived from the
   * delivery cursors, never stored per message. At most `perConversation` each, oldest first;
   * `total` says how many are pending in all.
   */
  async pending(actor: User, perConversation = 100): Promise<{ conversation: Conversation; messages: Message[]; total: number }[]> {
    const memberships = await this.ctx.store.listMembershipsOf(actor.id);
    const out: { conversation: Conversation; messages: Message[]; total: number }[] = [];
    // Muted conversations notify nothing; their messages still arrive and count as unread.
    const muted = await this.mutedNow(actor.id);
    for (const m of memberships) {
      if (muted.has(m.conversationId)) continue;
      const conversation = await this.ctx.store.getConversation(m.conversationId);
      if (!conversation || conversation.lastSeq <= m.lastDeliveredSeq) continue;
      const total = await this.ctx.store.countFromOthers(conversation.id, actor.id, m.lastDeliveredSeq, conversation.lastSeq);
      if (total === 0) continue;
      const messages = await this.ctx.store.listFromOthers(conversation.id, actor.id, m.lastDeliveredSeq, conversation.lastSeq, perConversation);
      out.push({ conversation, messages, total });
    }
    return out;
  }

  /** Users whose delivery cursor has reached each message, among those who were members when it was sent. */
  deliveredTo(message: Message, members: readonly Member[]): UserId[] {
    return members.filter((m) => m.joinedSeq < message.seq && m.lastDeliveredSeq >= message.seq).map((m) => m.userId);
  }

  /** Unread counts per conversation for the actor. */
  async unreadCounts(actor: User, filter?: { kinds?: readonly Conversation['kind'][] }): Promise<Map<ConversationId, number>> {
    return this.ctx.store.countUnread(actor.id, filter);
  }

  /** Announces that the actor is (or stopped) typing; delivered live by the real-time faces. */
  async typing(actor: User, conversationId: ConversationId, isTyping: boolean): Promise<void> {
    const pc = await loadVisible(this.ctx, actor, conversationId);
    ensure(await this.ctx.policy.canPost(pc));
    this.ctx.events.emit({ type: 'typing', conversation: pc.conversation, userId: actor.id, isTyping });
  }

  /**
   * Users whose read cursor has reached each message (O(members), no row per message). Only
   * members who were members when it was sent: a late joiner's cursor starts past the history,
   * which they did not read.
   */
  readBy(message: Message, members: readonly Member[]): UserId[] {
    return members.filter((m) => hasRead(m, message)).map((m) => m.userId);
  }

  /**
   * When `readerId` read each of these messages of one conversation (per message, as
   * drf-directmessages' `read_at`): only reading marks a message read, never sending. Messages
   * the reader sent, or has not read, are absent.
   */
  async readTimes(readerId: UserId, conversationId: ConversationId, messages: readonly Message[]): Promise<Map<MessageId, Date>> {
    const theirs = messages.filter((m) => m.conversationId === conversationId && m.senderId !== readerId);
    const out = new Map<MessageId, Date>();
    if (theirs.length === 0) return out;
    const seqs = theirs.map((m) => m.seq);
    const marks = await this.ctx.store.listReadMarks(conversationId, readerId, Math.min(...seqs) - 1, Math.max(...seqs));
    for (const m of theirs) {
      const mark = marks.find((r) => r.fromSeq < m.seq && m.seq <= r.uptoSeq);
      if (mark) out.set(m.id, mark.readAt);
    }
    return out;
  }

  /**
   * Unread counts per conversation by per-message read state (`readTimes`): unlike
   * `unreadCounts`, messages stay unread after the actor replies, until the actor reads them.
   */
  async unreadCountsByMessage(actor: User, filter?: { kinds?: readonly Conversation['kind'][] }): Promise<Map<ConversationId, number>> {
    return this.ctx.store.countUnreadByMark(actor.id, filter);
  }

  /** Whether the actor, a member of the message's conversation, has hidden it. */
  private async isHiddenBy(actor: User, id: MessageId): Promise<boolean> {
    const message = await this.ctx.store.getMessage(id);
    if (!message || message.deletedAt !== null) return false;
    if (!(await this.ctx.store.getMember(message.conversationId, actor.id))) return false;
    return !(await inViewOf(this.ctx, actor, message));
  }

  /** `allowEmpty`: a message with attachments may have no text (the media-only rule). */
  /** The conversations the user has muted at this moment. */
  private async mutedNow(userId: UserId): Promise<Set<ConversationId>> {
    const now = this.ctx.now().getTime();
    const rows = await this.ctx.store.listMutes(userId);
    return new Set(rows.filter((r) => r.until === null || r.until.getTime() > now).map((r) => r.conversationId));
  }

  private checkContent(raw: string, allowEmpty = false): string {
    const content = stripMarkers(raw);
    if (content.trim() === '' && !allowEmpty) throw invalid('content', 'This field may not be blank.');
    if ([...content].length > this.ctx.settings.messageMaxLength) {
      throw invalid('content', `Ensure this field has no more than ${this.ctx.settings.messageMaxLength} characters.`);
    }
    return content;
  }

  private async seqOf(conversationId: ConversationId, id: MessageId, field: string): Promise<number> {
    const m = await this.ctx.store.getMessage(id);
    if (!m || m.conversationId !== conversationId) throw invalid(field, 'Unknown message id for this chat.');
    return m.seq;
  }
}

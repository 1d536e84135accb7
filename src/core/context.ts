import { forbidden, notFound } from './errors.js';
import type { DomainEvent, EventStream } from './events.js';
import type { ParleyHooks } from './hooks.js';
import type { MetadataValidator } from './metadata.js';
import type { Policy, PolicyContext } from './policy.js';
import type { RateLimiter } from './ports/rate-limiter.js';
import type { Store } from './ports/store.js';
import type { FileStorage } from './ports/file-storage.js';
import type { CoreSettings } from './settings.js';
import type { ConversationId, Message, MessageId, User } from './types.js';

/** What every core service shares. Built once by `createCore`. */
export interface CoreContext {
  store: Store;
  settings: CoreSettings;
  policy: Policy;
  events: EventStream;
  /** Lifecycle hooks (`CoreOptions.lifecycle`); before-hooks are run by the services. */
  hooks: ParleyHooks;
  /** The clock; tests pass a controlled one. */
  now: () => Date;
  /** The host's `metadataSchema`, compiled; absent: any JSON object (within the size limit). */
  validateMetadata?: MetadataValidator | undefined;
  /** Where uploaded files live; absent = no uploads (media by URL still work). */
  files?: FileStorage | null | undefined;
  /** Per-user send budget (`sendRateLimit`); absent = unlimited. */
  sendLimiter?: RateLimiter | undefined;
  /** Per-user upload budget (`uploadRateLimit`); absent = unlimited. */
  uploadLimiter?: RateLimiter | undefined;
}

/**
 * Loads a conversation as the actor sees it. Not found and not visible are the same answer
 * (404), so ids of other people's chats reveal nothing.
 */
export async function loadVisible(ctx: CoreContext, actor: User, id: ConversationId): Promise<PolicyContext> {
  const conversation = await ctx.store.getConversation(id);
  if (!conversation) throw notFound();
  const member = await ctx.store.getMember(id, actor.id);
  const pc: PolicyContext = { actor, conversation, member };
  if (!(await ctx.policy.canView(pc))) throw notFound();
  return pc;
}

/** Loads a message the actor may see (its conversation visible, not hidden by them, not deleted). */
export async function loadVisibleMessage(
  ctx: CoreContext,
  actor: User,
  id: MessageId,
): Promise<{ pc: PolicyContext; message: Message }> {
  const message = await ctx.store.getMessage(id);
  if (!message || message.deletedAt !== null) throw notFound();
  const pc = await loadVisible(ctx, actor, message.conversationId);
  if (!(await ctx.policy.haveMessagePermission(pc, message))) throw notFound();
  if (!(await inViewOf(ctx, actor, message))) throw notFound();
  return { pc, message };
}

/**
 * Runs a write in one store transaction together with its journal (event log, webhook outbox:
 * `EventStream.journal`), then emits its events once it has committed. A crash at any instant
 * leaves the write and its events all stored or none. `work` may run more than once (a retried
 * transaction): everything it does goes through `tx`.
 */
export async function commit<T>(ctx: CoreContext, work: (tx: Store) => Promise<{ value: T; events: DomainEvent[] }>): Promise<T> {
  const { value, events } = await ctx.store.transaction(async (tx) => {
    const out = await work(tx);
    for (const event of out.events) await ctx.events.record(tx, event);
    return out;
  });
  for (const event of events) ctx.events.emit(event);
  return value;
}

/** Whether `message` is in the actor's view of its conversation (not hidden by them, its sender not blocked). */
export async function inViewOf(ctx: CoreContext, actor: User, message: Message): Promise<boolean> {
  const visible = await ctx.store.listMessages(message.conversationId, {
    viewerId: actor.id,
    includeDeleted: false,
    afterSeq: message.seq - 1,
    beforeSeq: message.seq + 1,
    newestFirst: false,
    limit: 1,
  });
  return visible.length > 0;
}

/** Throws 403 unless `allowed`. */
export function ensure(allowed: boolean, detail?: string): void {
  if (!allowed) throw forbidden(detail);
}

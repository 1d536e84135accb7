import type { DomainEvent, DomainEventType, EventStream } from './events.js';
import type { Store } from './ports/store.js';
import type { Conversation, ConversationKind, Message, MessageId, User, UserId } from './types.js';

/**
 * Lifecycle hooks: `before` hooks run inside a write, after its permission checks and before
 * anything is stored, and may veto it; `after` hooks observe the domain events once the write
 * succeeded.
 *
 * - A before-hook vetoes by throwing a `ParleyError` (e.g. `new ParleyError('forbidden', …)`,
 *   a 403 over REST and 4002 over `/messaging/`, or `'validation'`, a 400). Anything else it
 *   throws is an internal error (500 / 4006) and the write does not happen either.
 * - The `message.send` and `message.edit` before-hooks may return `{ content }` to replace the
 *   content (a profanity filter, say); the replacement is validated like the original
 *   (not blank, at most `messageMaxLength`).
 * - An after-hook is one subscriber of the core's event stream: a failing (throwing or
 *   rejecting) after-hook is reported to `onSubscriberError` (logged by the server) and never
 *   fails the write nor the other subscribers.
 * - `session.started` / `session.ended` are after-hooks too: a `/messaging/` or `/messages/ws/`
 *   connection opened or closed (`reason: 'expired'` when it missed its heartbeats).
 * - Besides every `DomainEventType`, two after-hooks mirror drf-directmessages' signals:
 *   `message_sent` (a message was created in a direct message) and `message_read` (unread
 *   messages of a direct message were marked as read), both with `from_user` (the sender of
 *   the message) and `to` (its recipient).
 */
export interface ParleyHooks {
  before?: BeforeHooks;
  after?: AfterHooks;
}

/** What each before-hook receives. */
export interface BeforeInputs {
  'message.send': { actor: User; conversation: Conversation; content: string; parentId: MessageId | null };
  'message.edit': { actor: User; conversation: Conversation; message: Message; content: string };
  'message.delete': { actor: User; conversation: Conversation; message: Message };
  'reaction.toggle': { actor: User; conversation: Conversation; message: Message; emoji: string };
  /** `memberIds` are the other members; for a DM, the one partner. */
  'conversation.create': { actor: User; kind: ConversationKind; title: string | null; objectKey: string | null; memberIds: UserId[] };
  'member.add': { actor: User; conversation: Conversation; userIds: UserId[] };
}

export type BeforeOperation = keyof BeforeInputs;

/** A before-hook's answer: nothing (go ahead), or for sends and edits, replacement content. */
export type BeforeResult<K extends BeforeOperation> = K extends 'message.send' | 'message.edit'
  ? void | { content: string }
  : void;

export type BeforeHook<K extends BeforeOperation> = (input: BeforeInputs[K]) => BeforeResult<K> | Promise<BeforeResult<K>>;
export type BeforeHooks = { [K in BeforeOperation]?: BeforeHook<K> };

/** drf-directmessages' `message_sent`: `to` is the other member of the DM. */
export interface MessageSentSignal {
  message: Message;
  conversation: Conversation;
  from_user: User;
  to: User;
}

/**
 * drf-directmessages' `message_read`: the messages from `from_user` that `to` (the reader) has
 * just read, oldest first, at most 100.
 */
export interface MessageReadSignal {
  messages: Message[];
  conversation: Conversation;
  from_user: User;
  to: User;
}

/** What each after-hook receives: the domain event itself, or a signal payload. */
export type AfterPayloads = { [K in DomainEventType]: Extract<DomainEvent, { type: K }> } & {
  message_sent: MessageSentSignal;
  message_read: MessageReadSignal;
};

export type AfterHookName = keyof AfterPayloads;
export type AfterHook<K extends AfterHookName> = (payload: AfterPayloads[K]) => void | Promise<void>;
export type AfterHooks = { [K in AfterHookName]?: AfterHook<K> };

const READ_SIGNAL_MAX = 100;

/** Runs the before-hook of `op`, if any; returns replacement content when it gave one. */
export async function runBefore<K extends BeforeOperation>(
  hooks: ParleyHooks | undefined,
  op: K,
  input: BeforeInputs[K],
): Promise<string | undefined> {
  const hook = hooks?.before?.[op] as BeforeHook<K> | undefined;
  if (!hook) return undefined;
  const result: unknown = await hook(input);
  if (result && typeof result === 'object' && 'content' in result && typeof result.content === 'string') return result.content;
  return undefined;
}

/**
 * Subscribes the after-hooks to the event stream; returns the function that unsubscribes.
 * `hooks.after` is read at each event, so hooks set on the object later take effect too.
 */
export function subscribeAfterHooks(events: EventStream, store: Store, hooks: ParleyHooks): () => void {
  const offs = [
    events.on((event) => {
      if (!movesReadPosition(event)) return;
      const hook = hooks.after?.[event.type] as ((payload: DomainEvent) => void | Promise<void>) | undefined;
      return hook?.(event);
    }),
    events.on(async (event) => {
      const sent = hooks.after?.message_sent;
      if (!sent) return;
      const signal = await messageSentSignal(store, event);
      if (signal) await sent(signal);
    }),
    events.on(async (event) => {
      const read = hooks.after?.message_read;
      if (!read) return;
      const signal = await messageReadSignal(store, event);
      if (signal) await read(signal);
    }),
  ];
  return () => {
    for (const off of offs) off();
  };
}

/**
 * The `message_sent` signal a domain event amounts to (a message created in a DM), or null.
 * Shared by the after-hooks and the webhooks so both derive it the same way.
 */
export async function messageSentSignal(store: Store, event: DomainEvent): Promise<MessageSentSignal | null> {
  if (event.type !== 'message.created' || event.conversation.kind !== 'dm') return null;
  const pair = await dmPair(store, event.conversation.id, event.message.senderId);
  return pair ? { message: event.message, conversation: event.conversation, from_user: pair.self, to: pair.other } : null;
}

/**
 * False for a `read.updated` that only marked messages read one by one (the read position did
 * not move): it feeds `message_read`, and nothing that shows read positions.
 */
export function movesReadPosition(event: DomainEvent): boolean {
  return event.type !== 'read.updated' || event.uptoSeq > event.previousSeq;
}

/**
 * The `message_read` signal a domain event amounts to (a read in a DM marked messages from the
 * other member read, per message as drf-directmessages does: a send marks nothing), or null.
 * Shared by the after-hooks and the webhooks.
 */
export async function messageReadSignal(store: Store, event: DomainEvent): Promise<MessageReadSignal | null> {
  if (event.type !== 'read.updated' || event.conversation.kind !== 'dm' || !event.marked) return null;
  const messages = await store.listFromOthers(event.conversation.id, event.userId, event.marked.fromSeq, event.marked.uptoSeq, READ_SIGNAL_MAX);
  if (messages.length === 0) return null;
  const pair = await dmPair(store, event.conversation.id, event.userId);
  return pair ? { messages, conversation: event.conversation, from_user: pair.other, to: pair.self } : null;
}

/** The DM's member `selfId` and the other member, as users. */
async function dmPair(store: Store, conversationId: Conversation['id'], selfId: UserId): Promise<{ self: User; other: User } | null> {
  const members = await store.listMembers(conversationId);
  const otherId = members.find((m) => m.userId !== selfId)?.userId;
  if (otherId === undefined) return null;
  const [self, other] = await Promise.all([store.getUser(selfId), store.getUser(otherId)]);
  return self && other ? { self, other } : null;
}

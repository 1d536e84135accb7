import type { Conversations } from './conversations.js';
import type { Messages } from './messages.js';
import type { User } from './types.js';

/** The parameters of service method `M` of `S`, as a tuple. */
type Params<S, M extends keyof S> = S[M] extends (...args: infer A) => unknown ? A : never;
/** What service method `M` of `S` resolves to. */
type Result<S, M extends keyof S> = S[M] extends (...args: never[]) => Promise<infer R> ? R : never;

/**
 * What each replaceable operation receives: the core method's arguments, by name. The types
 * come from the method signatures (`Messages`, `Conversations`), so they cannot drift apart.
 */
export interface OperationInputs {
  'message.send': { actor: User; conversationId: Params<Messages, 'send'>[1]; input: Params<Messages, 'send'>[2] };
  /** `metadata` undefined: kept as it is. */
  'message.edit': { actor: User; messageId: Params<Messages, 'edit'>[1]; content: Params<Messages, 'edit'>[2]; metadata: Params<Messages, 'edit'>[3] };
  'message.delete': { actor: User; messageId: Params<Messages, 'delete'>[1] };
  'reaction.toggle': { actor: User; messageId: Params<Messages, 'toggleReaction'>[1]; emoji: Params<Messages, 'toggleReaction'>[2] };
  /** `uptoMessageId` undefined: everything. */
  'message.read': { actor: User; conversationId: Params<Messages, 'markRead'>[1]; uptoMessageId: Params<Messages, 'markRead'>[2] };
  'message.acknowledge': { actor: User; messageIds: Params<Messages, 'acknowledge'>[1] };
  'message.list': { actor: User; conversationId: Params<Messages, 'history'>[1]; query: Params<Messages, 'history'>[2] };
  'conversation.create': { actor: User; input: Params<Conversations, 'create'>[1] };
  /**
   * Opening (finding or creating) the DM with one user, from any face: `/api/dm/` sends and
   * conversations, and DM creation through `conversation.create`, which runs this inside it.
   */
  'dm.open': { actor: User; userId: Params<Conversations, 'openDm'>[1] };
  'conversation.update': { actor: User; conversationId: Params<Conversations, 'update'>[1]; patch: Params<Conversations, 'update'>[2] };
  'conversation.delete': { actor: User; conversationId: Params<Conversations, 'delete'>[1] };
  'conversation.join': { actor: User; conversationId: Params<Conversations, 'join'>[1] };
  'conversation.leave': { actor: User; conversationId: Params<Conversations, 'leave'>[1] };
  'member.add': { actor: User; conversationId: Params<Conversations, 'addMembers'>[1]; userIds: Params<Conversations, 'addMembers'>[2] };
  'member.remove': { actor: User; conversationId: Params<Conversations, 'removeMember'>[1]; userId: Params<Conversations, 'removeMember'>[2] };
  'conversation.list': { actor: User; query: Params<Conversations, 'list'>[1] };
  'conversation.get': { actor: User; conversationId: Params<Conversations, 'get'>[1] };
}

/** What each operation resolves to: the core method's result. */
export interface OperationOutputs {
  'message.send': Result<Messages, 'send'>;
  'message.edit': Result<Messages, 'edit'>;
  'message.delete': Result<Messages, 'delete'>;
  'reaction.toggle': Result<Messages, 'toggleReaction'>;
  'message.read': Result<Messages, 'markRead'>;
  'message.acknowledge': Result<Messages, 'acknowledge'>;
  'message.list': Result<Messages, 'history'>;
  'conversation.create': Result<Conversations, 'create'>;
  'dm.open': Result<Conversations, 'openDm'>;
  'conversation.update': Result<Conversations, 'update'>;
  'conversation.delete': Result<Conversations, 'delete'>;
  'conversation.join': Result<Conversations, 'join'>;
  'conversation.leave': Result<Conversations, 'leave'>;
  'member.add': Result<Conversations, 'addMembers'>;
  'member.remove': Result<Conversations, 'removeMember'>;
  'conversation.list': Result<Conversations, 'list'>;
  'conversation.get': Result<Conversations, 'get'>;
}

export type OperationName = keyof OperationInputs;

/**
 * Middleware around one core operation (the seed's `EVENT_HANDLER_CLASS`, one method at a
 * time). `next(input)` runs the default (with the input as given, possibly changed) and
 * resolves to its output, which the wrapper may change too; not calling `next` replaces the
 * operation; throwing vetoes it (a `ParleyError` shows as its code does on every face, any
 * other error as `mapError` says, else as an internal error).
 *
 * Every face goes through the wrapped operation: `/messages/api/`, `/api/dm/`, `/messaging/`
 * and the live faces all call the same core methods.
 */
export type Operation<K extends OperationName> = (
  input: OperationInputs[K],
  next: (input: OperationInputs[K]) => Promise<OperationOutputs[K]>,
) => Promise<OperationOutputs[K]>;

/** One wrapper per operation name, each optional. */
export type Operations = { [K in OperationName]?: Operation<K> };

/** How an operation maps to a service method: which one, and its arguments to and from the named input. */
interface Binding<K extends OperationName> {
  service: 'messages' | 'conversations';
  method: string;
  toInput(args: unknown[]): OperationInputs[K];
  toArgs(input: OperationInputs[K]): unknown[];
}

type Bindings = { [K in OperationName]: Binding<K> };

const actorOf = (args: unknown[]): User => args[0] as User;

const BINDINGS: Bindings = {
  'message.send': {
    service: 'messages',
    method: 'send',
    toInput: (a) => ({ actor: actorOf(a), conversationId: a[1] as number, input: a[2] as OperationInputs['message.send']['input'] }),
    toArgs: (i) => [i.actor, i.conversationId, i.input],
  },
  'message.edit': {
    service: 'messages',
    method: 'edit',
    toInput: (a) => ({ actor: actorOf(a), messageId: a[1] as number, content: a[2] as string, metadata: a[3] as OperationInputs['message.edit']['metadata'] }),
    toArgs: (i) => (i.metadata === undefined ? [i.actor, i.messageId, i.content] : [i.actor, i.messageId, i.content, i.metadata]),
  },
  'message.delete': {
    service: 'messages',
    method: 'delete',
    toInput: (a) => ({ actor: actorOf(a), messageId: a[1] as number }),
    toArgs: (i) => [i.actor, i.messageId],
  },
  'reaction.toggle': {
    service: 'messages',
    method: 'toggleReaction',
    toInput: (a) => ({ actor: actorOf(a), messageId: a[1] as number, emoji: a[2] as string }),
    toArgs: (i) => [i.actor, i.messageId, i.emoji],
  },
  'message.read': {
    service: 'messages',
    method: 'markRead',
    toInput: (a) => ({ actor: actorOf(a), conversationId: a[1] as number, uptoMessageId: a[2] as number | undefined }),
    toArgs: (i) => (i.uptoMessageId === undefined ? [i.actor, i.conversationId] : [i.actor, i.conversationId, i.uptoMessageId]),
  },
  'message.acknowledge': {
    service: 'messages',
    method: 'acknowledge',
    toInput: (a) => ({ actor: actorOf(a), messageIds: a[1] as readonly number[] }),
    toArgs: (i) => [i.actor, i.messageIds],
  },
  'message.list': {
    service: 'messages',
    method: 'history',
    toInput: (a) => ({ actor: actorOf(a), conversationId: a[1] as number, query: a[2] as OperationInputs['message.list']['query'] }),
    toArgs: (i) => [i.actor, i.conversationId, i.query],
  },
  'conversation.create': {
    service: 'conversations',
    method: 'create',
    toInput: (a) => ({ actor: actorOf(a), input: a[1] as OperationInputs['conversation.create']['input'] }),
    toArgs: (i) => [i.actor, i.input],
  },
  'dm.open': {
    service: 'conversations',
    method: 'openDm',
    toInput: (a) => ({ actor: actorOf(a), userId: a[1] as number }),
    toArgs: (i) => [i.actor, i.userId],
  },
  'conversation.update': {
    service: 'conversations',
    method: 'update',
    toInput: (a) => ({ actor: actorOf(a), conversationId: a[1] as number, patch: a[2] as OperationInputs['conversation.update']['patch'] }),
    toArgs: (i) => [i.actor, i.conversationId, i.patch],
  },
  'conversation.delete': {
    service: 'conversations',
    method: 'delete',
    toInput: (a) => ({ actor: actorOf(a), conversationId: a[1] as number }),
    toArgs: (i) => [i.actor, i.conversationId],
  },
  'conversation.join': {
    service: 'conversations',
    method: 'join',
    toInput: (a) => ({ actor: actorOf(a), conversationId: a[1] as number }),
    toArgs: (i) => [i.actor, i.conversationId],
  },
  'conversation.leave': {
    service: 'conversations',
    method: 'leave',
    toInput: (a) => ({ actor: actorOf(a), conversationId: a[1] as number }),
    toArgs: (i) => [i.actor, i.conversationId],
  },
  'member.add': {
    service: 'conversations',
    method: 'addMembers',
    toInput: (a) => ({ actor: actorOf(a), conversationId: a[1] as number, userIds: a[2] as readonly number[] }),
    toArgs: (i) => [i.actor, i.conversationId, i.userIds],
  },
  'member.remove': {
    service: 'conversations',
    method: 'removeMember',
    toInput: (a) => ({ actor: actorOf(a), conversationId: a[1] as number, userId: a[2] as number }),
    toArgs: (i) => [i.actor, i.conversationId, i.userId],
  },
  'conversation.list': {
    service: 'conversations',
    method: 'list',
    toInput: (a) => ({ actor: actorOf(a), query: a[1] as OperationInputs['conversation.list']['query'] }),
    toArgs: (i) => [i.actor, i.query],
  },
  'conversation.get': {
    service: 'conversations',
    method: 'get',
    toInput: (a) => ({ actor: actorOf(a), conversationId: a[1] as number }),
    toArgs: (i) => [i.actor, i.conversationId],
  },
};

/** Every operation name, in a stable order (for docs and validation). */
export const OPERATION_NAMES = Object.keys(BINDINGS) as OperationName[];

type AnyMethod = (...args: unknown[]) => Promise<unknown>;

/**
 * Wraps the services' methods in place, once, at core construction: each faces' call of
 * `core.messages.send(…)` then runs the host's wrapper. Internal calls between core methods
 * (e.g. `markReadUpTo` → `markRead`) go through the wrapper too, since they call the instance.
 */
export function applyOperations(services: { messages: Messages; conversations: Conversations }, operations: Operations | undefined): void {
  if (!operations) return;
  for (const name of Object.keys(operations) as OperationName[]) {
    const wrapper = operations[name] as Operation<OperationName> | undefined;
    if (wrapper === undefined) continue;
    const binding = BINDINGS[name] as Binding<OperationName> | undefined;
    if (!binding) throw new TypeError(`Unknown operation "${name}"; known: ${OPERATION_NAMES.join(', ')}.`);
    const target = services[binding.service] as unknown as Record<string, AnyMethod>;
    const original = target[binding.method];
    if (typeof original !== 'function') throw new TypeError(`unreachable: ${binding.service}.${binding.method} is not a method`);
    const defaultImpl = original.bind(target);
    target[binding.method] = (...args: unknown[]) =>
      wrapper(binding.toInput(args), (input) => defaultImpl(...binding.toArgs(input)) as Promise<OperationOutputs[OperationName]>);
  }
}

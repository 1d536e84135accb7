import type { Conversation, Core, Message, User } from '../core/index.js';
import type { LiveConversation, LiveMessage, LiveUser } from '../protocol/index.js';

/**
 * Changes one output object of a face after the built-in presenter made it: add, rename or
 * drop fields (the seed's `SERIALIZERS`). `output` is a fresh object the serializer may
 * change in place or replace; `source` is what it was made from.
 *
 * On the real-time faces the source is the face-neutral live form (`LiveMessage`,
 * `LiveUser`, `LiveConversation`): broadcasts are built once from the event log, so the
 * serializer runs once per event and face, never per recipient. Keep serializers pure and
 * fast; a throwing serializer fails the request (500) or drops the broadcast frame (logged).
 */
export type Serializer<S> = (output: Record<string, unknown>, source: S) => Record<string, unknown>;

/** Output serializers per face and object kind; each is optional. */
export interface Serializers {
  /** `/messages/api/`: messages, users (senders, members, user search results; not `/auth/`), chats (list items and details). */
  rest?: { message?: Serializer<Message>; user?: Serializer<User>; chat?: Serializer<Conversation> };
  /** `/api/dm/`: messages and conversation partners. */
  dm?: { message?: Serializer<Message>; user?: Serializer<User> };
  /** `/messaging/`: messages (dispatches, history, notifications), users (senders, members), rooms. */
  messaging?: { message?: Serializer<LiveMessage>; user?: Serializer<LiveUser>; room?: Serializer<LiveConversation> };
  /** `/messages/ws/`, long-poll and SSE: the `message` of `new_message` / `message_updated`. */
  live?: { message?: Serializer<LiveMessage> };
}

const REGISTRY = new WeakMap<Core, Serializers>();

/** Registers the serializers of the app `core` belongs to (once, in `buildApp`). */
export function registerSerializers(core: Core, serializers: Serializers | undefined): void {
  if (serializers) REGISTRY.set(core, serializers);
}

/** The serializers of the app `core` belongs to (none: `{}`). */
export function serializersOf(core: Core): Serializers {
  return REGISTRY.get(core) ?? {};
}

/** Whether any HTTP-face serializer is set (then responses are not filtered by their schemas). */
export function hasHttpSerializers(s: Serializers | undefined): boolean {
  return Boolean(s && (Object.keys(s.rest ?? {}).length > 0 || Object.keys(s.dm ?? {}).length > 0));
}

/**
 * Applies `serializer`, if any, to `output`. The result keeps the built-in static type for
 * the code around it: what a host adds or renames is its own contract with its clients.
 */
export function applySerializer<O extends object, S>(serializer: Serializer<S> | undefined, output: O, source: S): O {
  if (!serializer) return output;
  return serializer({ ...(output as Record<string, unknown>) }, source) as unknown as O;
}

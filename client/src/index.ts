/**
 * Parley client SDK: live events of the `/messages/` API over WebSocket or long-polling,
 * sending with retries that never duplicate, typing and presence helpers.
 *
 * @example
 * import { ParleyClient } from 'parley/client';
 * const client = new ParleyClient({ baseUrl: location.origin });
 * client.on('new_message', (e) => render(e.message));
 * await client.connect();
 */
export {
  ParleyClient,
  type ChatMessage,
  type ConnectionState,
  type ErrorEvent,
  type EventOf,
  type ParleyClientEvents,
  type ParleyClientOptions,
  type ReadyEvent,
  type ResyncEvent,
  type SendOptions,
  type StateEvent,
  type TransportChoice,
} from './parley-client.js';
export { Backoff, type BackoffOptions } from './backoff.js';
export { Emitter, type Handler } from './emitter.js';
export { ParleyHttpError, ParleyNetworkError, isRetryable } from './errors.js';
export type { PresenceState } from './presence.js';
export type { FetchInit, FetchLike, FetchResponse } from './rest.js';
export type { TransportName } from './transport.js';
export type { WebSocketConstructor, WebSocketLike } from './transport-ws.js';
export type { MediaType, MessageRelations, UploadBlob, UploadOptions, WireAttachment, WireParent } from './uploads.js';
export { TypingController, type TypingControllerOptions } from './typing-controller.js';
export type { MessagesEvent, WireChat, WireMessage, WireReaction, WireUser } from '../../src/protocol/index.js';

export type * from './live-event.js';
export type * from './attachments.js';
export type * from './messages-frames.js';
/** The realtime_chat_messaging protocol (`/messaging/`), namespaced: its names overlap. */
export type * as MessagingProtocol from './messaging-frames.js';

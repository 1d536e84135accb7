import type { CoreContext } from './context.js';
import { Blocks } from './blocks.js';
import { Conversations } from './conversations.js';
import { type ErrorSink, EventStream } from './events.js';
import { type ParleyHooks, subscribeAfterHooks } from './hooks.js';
import { Messages } from './messages.js';
import { Attachments, type AttachmentsOptions, randomSecret } from './attachments.js';
import { type Operations, applyOperations } from './operations.js';
import type { MetadataValidator } from './metadata.js';
import { type Policy, createPolicy } from './policy.js';
import type { RateLimiter } from './ports/rate-limiter.js';
import type { Store } from './ports/store.js';
import { Search } from './search.js';
import { type CoreSettings, defaultCoreSettings } from './settings.js';
import { Users } from './users.js';
import type { UserDirectory } from './ports/user-directory.js';

export * from './errors.js';
export * from './events.js';
export type * from './hooks.js';
export { messageReadSignal, messageSentSignal, movesReadPosition } from './hooks.js';
export type * from './operations.js';
export { OPERATION_NAMES } from './operations.js';
export type { MetadataKind, MetadataValidator } from './metadata.js';
export { METADATA_MAX_BYTES } from './metadata.js';
export * from './policy.js';
export * from './settings.js';
export * from './types.js';
export type * from './ports/store.js';
export type { RateLimiter } from './ports/rate-limiter.js';
export { PORTABLE_TABLES, dmKey } from './ports/store.js';
export type { FileStorage } from './ports/file-storage.js';
export { FileTooLargeError } from './ports/file-storage.js';
export type { AttachmentsOptions, MediaInput, MessageExtras, OpenedFile, ParentQuote } from './attachments.js';
export { Attachments, QUOTE_LENGTH, newStorageKey } from './attachments.js';
export type { HostIdentity, UserDirectory } from './ports/user-directory.js';
export { normalizeIdentity } from './users.js';
export { escapeHtml } from './text.js';
export { parseSearchQuery } from './search.js';
export type { ConversationSummary, CreateConversationInput } from './conversations.js';
export type { HistoryQuery, SendInput } from './messages.js';
export type { BlockedUser, MuteState } from './blocks.js';

/** The chat core: every rule of Parley, with no HTTP, WebSocket or SQL in it. */
export interface Core {
  conversations: Conversations;
  messages: Messages;
  /** Attachment extras for presenters, signed file URLs, download checks, file lifecycle. */
  attachments: Attachments;
  users: Users;
  /** Blocks between users and mutes of conversations (`Blocks`). */
  blocks: Blocks;
  search: Search;
  events: EventStream;
  settings: CoreSettings;
  store: Store;
  now: () => Date;
}

export interface CoreOptions {
  store: Store;
  settings?: Partial<CoreSettings>;
  /** Replaces individual permission rules. */
  policy?: Partial<Policy>;
  now?: () => Date;
  /** Where failures of event subscribers are reported. */
  onSubscriberError?: ErrorSink;
  /**
   * Lifecycle hooks (see `ParleyHooks`): before-hooks may veto a write or rewrite a message's
   * content; after-hooks observe the domain events (plus `message_sent` / `message_read`).
   */
  lifecycle?: ParleyHooks;
  /**
   * Uploads: the file storage, the secret signing file URLs, their lifetime, the files path and
   * how long unattached uploads are kept. Without `files`, uploads are off (media by URL work).
   */
  attachments?: Partial<AttachmentsOptions>;
  /**
   * Middleware around core operations (`message.send`, `conversation.create`, …; see
   * `Operations`): change the input or output, veto by throwing, or replace the operation by
   * not calling `next`. Applied once here, so every face goes through it.
   */
  operations?: Operations;
  /** Validates `metadata` of messages and conversations (the host's `metadataSchema`). */
  validateMetadata?: MetadataValidator;
  /** Counts every send per user; a send over budget fails with `rate_limited`. */
  sendLimiter?: RateLimiter;
  /** Counts every upload per user (`Attachments.admitUpload`); over budget: `rate_limited`. */
  uploadLimiter?: RateLimiter;
  /**
   * The host's user directory: answers user search and lookups by host id; the users it
   * returns are provisioned as Parley users (see `UserDirectory`).
   */
  directory?: UserDirectory;
}

export function createCore(options: CoreOptions): Core {
  const settings: CoreSettings = { ...defaultCoreSettings, ...options.settings };
  const ctx: CoreContext = {
    store: options.store,
    settings,
    policy: createPolicy(settings, options.policy),
    events: new EventStream(options.onSubscriberError ?? (() => {})),
    hooks: options.lifecycle ?? {},
    now: options.now ?? (() => new Date()),
    validateMetadata: options.validateMetadata,
    sendLimiter: options.sendLimiter,
    uploadLimiter: options.uploadLimiter,
    files: options.attachments?.files ?? null,
  };
  subscribeAfterHooks(ctx.events, ctx.store, ctx.hooks);
  const conversations = new Conversations(ctx);
  const messages = new Messages(ctx, conversations);
  applyOperations({ messages, conversations }, options.operations);
  return {
    conversations,
    messages,
    attachments: new Attachments(ctx, {
      files: ctx.files ?? null,
      // Without a configured secret, signed URLs still work within this process's lifetime.
      secret: options.attachments?.secret ?? randomSecret(),
      urlTtlSeconds: options.attachments?.urlTtlSeconds ?? 300,
      filesPath: options.attachments?.filesPath ?? '/messages/api/files/',
      unattachedTtlHours: options.attachments?.unattachedTtlHours ?? 24,
    }),
    users: new Users(ctx, options.directory),
    blocks: new Blocks(ctx),
    search: new Search(ctx),
    events: ctx.events,
    settings,
    store: ctx.store,
    now: ctx.now,
  };
}

import type { CoreContext } from './context.js';
import { Conversations } from './conversations.js';
import { type ErrorSink, EventStream } from './events.js';
import { type ParleyHooks, subscribeAfterHooks } from './hooks.js';
import { Messages } from './messages.js';
import { type Policy, createPolicy } from './policy.js';
import type { Store } from './ports/store.js';
import { Search } from './search.js';
import { type CoreSettings, defaultCoreSettings } from './settings.js';
import { Users } from './users.js';

export * from './errors.js';
export * from './events.js';
export type * from './hooks.js';
export * from './policy.js';
export * from './settings.js';
export * from './types.js';
export type * from './ports/store.js';
export { dmKey } from './ports/store.js';
export { escapeHtml } from './text.js';
export { parseSearchQuery } from './search.js';
export type { ConversationSummary, CreateConversationInput } from './conversations.js';
export type { HistoryQuery, SendInput } from './messages.js';

/** The chat core: every rule of Parley, with no HTTP, WebSocket or SQL in it. */
export interface Core {
  conversations: Conversations;
  messages: Messages;
  users: Users;
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
  };
  subscribeAfterHooks(ctx.events, ctx.store, ctx.hooks);
  const conversations = new Conversations(ctx);
  return {
    conversations,
    messages: new Messages(ctx, conversations),
    users: new Users(ctx),
    search: new Search(ctx),
    events: ctx.events,
    settings,
    store: ctx.store,
    now: ctx.now,
  };
}

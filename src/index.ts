/**
 * Parley as a library: `import { createParley } from 'parley'`.
 *
 * One Parley runs in one of three ways (see README, "Embedding Parley in your app"):
 *
 * ```ts
 * const parley = await createParley({ databaseUrl: 'sqlite:./chat.sqlite3' });
 *
 * await parley.listen({ port: 3000 });           // standalone, on its own port
 * await hostFastify.register(parley.fastifyPlugin); // inside a Fastify app
 * parley.attach(server);                          // on any node:http server (Express…)
 *
 * await parley.close();
 * ```
 *
 * Embedded, Parley answers only its own paths (its API routes, `/avatars/…`, and the
 * WebSocket paths `/messaging/` and `/messages/ws/`); every other request and upgrade stays
 * with the host.
 */
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { FastifyBaseLogger, FastifyInstance, FastifyPluginAsync, HTTPMethods } from 'fastify';
import { type ListenOptions, buildApp } from './app.js';
import type { Accounts } from './auth/index.js';
import { type ConfigFile, type ConfigHooks, type ParleyConfig, loadConfig } from './config/index.js';
import type { Core, HostIdentity, ParleyHooks, Policy, Store, UserDirectory } from './core/index.js';
import type { Broker } from './core/ports/broker.js';
import type { FileStorage } from './core/ports/file-storage.js';
import type { MessagingHandlers } from './faces/messaging/face.js';
import type { Operations } from './core/operations.js';
import type { ErrorMapper } from './faces/http/error-mapping.js';
import type { Serializers } from './faces/serializers.js';
import type { ParleyWebhooks } from './webhooks/index.js';

/** What only code can pass: functions, ready-made ports, and where settings are read from. */
export interface ParleyCodeOptions {
  /** The contact list, display names and avatar URLs as functions (see `CoreSettings`). */
  hooks?: ConfigHooks;
  /** Replaces individual permission rules (see `Policy`). */
  policy?: Partial<Policy>;
  /**
   * Lifecycle hooks (see `ParleyHooks`; not to be confused with `hooks`, the config
   * functions). `before` hooks run inside a write after its permission checks and may veto it
   * by throwing a `ParleyError` (`'forbidden'` is a 403 / 4002), or rewrite a sent or edited
   * message with `{ content }`. `after` hooks observe every domain event, plus `message_sent`
   * and `message_read` for direct messages (with `from_user` and `to`); a failing after-hook is
   * logged and never fails the write.
   *
   * ```ts
   * createParley({ lifecycle: {
   *   before: { 'message.send': ({ content }) => ({ content: content.replace(/darn/gi, '****') }) },
   *   after: { message_sent: ({ message, from_user, to }) => notify(to, from_user, message) },
   * } });
   * ```
   */
  lifecycle?: ParleyHooks;
  /** The `/messaging/` event map: add or replace event types, or remove one with null. */
  messagingHandlers?: MessagingHandlers;
  /**
   * Middleware around core operations (the seed's `EVENT_HANDLER_CLASS`; see `Operations`):
   * `(input, next) => …` runs before/after the default (`next(input)`, input possibly
   * changed), replaces it (no `next`), or vetoes it (throw). Every face goes through it.
   *
   * ```ts
   * createParley({ operations: {
   *   'message.send': async (input, next) => {
   *     const out = await next({ ...input, input: { ...input.input, content: input.input.content.trim() } });
   *     audit('sent', out.message.id);
   *     return out;
   *   },
   * } });
   * ```
   */
  operations?: Operations;
  /**
   * The host's own errors as responses (the seed's `EXCEPTION_HANDLER_CLASS`): consulted
   * first for anything thrown by a hook, operation, policy or handler; return `{ status,
   * wsCode, detail, body? }` (e.g. 402 / 4010) or `undefined` for the built-in mapping.
   */
  mapError?: ErrorMapper;
  /**
   * Output serializers per face and object (the seed's `SERIALIZERS`): `(output, source) =>
   * output` after the built-in presenter, to add, rename or drop fields. Broadcasts run them
   * once per event, not per recipient.
   */
  serializers?: Serializers;
  /** A store to use instead of opening `databaseUrl`. Parley migrates it and closes it. */
  store?: Store;
  /** A broker to use instead of the one `redisUrl` names (or the in-process one). */
  broker?: Broker;
  /**
   * Where uploaded files live, e.g. an object-store adapter implementing `FileStorage` (see
   * docs/attachments.md). Default: the local disk under `<dataDir>/uploads/`.
   */
  fileStorage?: FileStorage;
  /**
   * Pino options, `false`, or a logger instance, e.g. `app.log.child({ name: 'parley' })`.
   * Default: pino at `logLevel`.
   */
  logger?: boolean | { level: string } | FastifyBaseLogger;
  /**
   * Whether `/` is Parley's sign-up/sign-in page. Default: yes under `listen()`; embedded
   * (`fastifyPlugin`, `attach`, `middleware`), `/` stays the host's unless this is `true`.
   * `false` leaves the page out everywhere.
   */
  signupPage?: boolean;
  /**
   * Users from the host application: called for every HTTP request and WebSocket upgrade
   * (`/messaging/`, `/messages/ws/`, SSE, long-poll) with the raw request. Return the user as a
   * `HostIdentity` (from your session cookie, a header, anything) and Parley provisions it on
   * first sight, by `id`, and keeps its profile current; return null/undefined to fall through
   * to Parley's own tokens and JWTs; throw to answer 401 (logged). See docs/extending/host-users.md.
   *
   * ```ts
   * createParley({ builtInAccounts: false, authenticate: async (req) => {
   *   const s = await sessions.get(parseCookie(req.headers.cookie ?? '').sid);
   *   return s ? { id: String(s.userId), username: s.login, displayName: s.name } : null;
   * } });
   * ```
   */
  authenticate?: (request: IncomingMessage) => HostIdentity | null | undefined | Promise<HostIdentity | null | undefined>;
  /**
   * The host's user database answering for Parley: `search(query, limit)` answers the user
   * search (REST `users/search/`, the UI's "start a DM" search) and `lookup(ids)` resolves host
   * ids Parley has not seen (`parley.core.users.byExternalIds`). Every user returned is
   * provisioned and handed on as a Parley user.
   */
  directory?: UserDirectory;
  /** Directory relative paths (`dataDir`, `configFile`) resolve from. Default: `process.cwd()`. */
  cwd?: string;
  /**
   * A JSON config file (as `parley --config`) read beneath these options. Without it a
   * `parley.config.json` in `cwd` is read if there is one, as the CLI does.
   */
  configFile?: string;
  /**
   * Environment variables to read (`PORT`, `DATABASE_URL`, … as the CLI does), beneath these
   * options. Default: none, so the host's environment never changes Parley by accident; pass
   * `process.env` to opt in.
   */
  env?: Record<string, string | undefined>;
}

/**
 * Everything `createParley` takes: every setting of the config file (same names, same
 * validation, same defaults) plus the code-only options.
 */
export type ParleyOptions = ConfigFile & ParleyCodeOptions;

/** A Node server Parley can attach to. */
export type NodeServer = HttpServer | HttpsServer;

/** A running Parley. */
export interface Parley {
  /** The chat core: conversations, messages, users, search, and the domain event stream. */
  readonly core: Core;
  /** Built-in accounts: create users, issue and revoke tokens (for hosts that sign users in). */
  readonly accounts: Accounts;
  /** The resolved settings. */
  readonly config: ParleyConfig;
  /**
   * Webhooks (the `webhooks` setting): `runDue(at?)` sends due deliveries now,
   * `deliveries({ status, limit })` reads the delivery log, `retry(id)` re-sends a failed one.
   */
  readonly webhooks: ParleyWebhooks;
  /** Parley's own Fastify instance (listening only after `listen()`); `inject()` works on it. */
  readonly http: FastifyInstance;
  /**
   * A Fastify plugin: `await host.register(parley.fastifyPlugin)` at the host's root. Parley
   * answers its requests before the host's body parsing and handlers run (host `onRequest`
   * hooks registered earlier still run first), serves its WebSocket upgrades on
   * `host.server`, and closes when the host closes.
   */
  readonly fastifyPlugin: FastifyPluginAsync;
  /**
   * Connect/Express middleware: Parley answers its own paths, anything else goes to `next()`.
   * Mount it at the root and before body parsers (Parley reads its own request bodies).
   * WebSocket upgrades need `attach(server)` or `handleUpgrade`.
   */
  readonly middleware: (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;
  /**
   * Serves Parley on a Node server someone else runs (e.g. `http.createServer(expressApp)`):
   * requests and WebSocket upgrades for Parley's paths go to Parley; everything else reaches
   * the server's own listeners as before, whenever they were added. An upgrade on another
   * path with no other `upgrade` listener is refused with 404. Returns a function that
   * detaches again; `close()` detaches too. The host still owns, starts and closes the server.
   */
  attach(server: NodeServer): () => void;
  /** Answers the request if it is Parley's and returns true; otherwise does nothing, false. */
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean;
  /** Takes the upgrade if its path is one of Parley's WebSocket paths and returns true; otherwise false. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Whether a request (or upgrade) is Parley's when embedded. */
  handles(req: IncomingMessage): boolean;
  /** Standalone: listens on its own port (default `port` / `host`); resolves to the base URL. */
  listen(options?: ListenOptions): Promise<string>;
  /**
   * Closes WebSocket and streaming connections, lets in-flight requests finish, detaches from
   * host servers and closes the broker and the store. Idempotent; a host server stays open.
   */
  close(): Promise<void>;
}

const METHODS: readonly HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * Builds a Parley from options: validates them (a bad value throws `ConfigError`, one line per
 * problem), opens and migrates the store, and readies every face. Nothing listens until
 * `listen()`; embedding needs no port.
 */
export async function createParley(options: ParleyOptions = {}): Promise<Parley> {
  const { hooks, policy, lifecycle, operations, mapError, serializers, messagingHandlers, store, broker, fileStorage, logger, signupPage, authenticate, directory, cwd, configFile, env, ...settings } = options;
  const config = loadConfig({
    cwd: cwd ?? process.cwd(),
    env: env ?? {},
    ...(configFile !== undefined ? { file: configFile } : {}),
    overrides: settings,
    ...(hooks ? { hooks } : {}),
  });
  const app = await buildApp({
    config,
    signupPage: signupPage ?? true,
    ...(store ? { store } : {}),
    ...(broker ? { broker } : {}),
    ...(fileStorage ? { fileStorage } : {}),
    ...(policy ? { policy } : {}),
    ...(lifecycle ? { lifecycle } : {}),
    ...(operations ? { operations } : {}),
    ...(mapError ? { mapError } : {}),
    ...(serializers ? { serializers } : {}),
    ...(messagingHandlers ? { messagingHandlers } : {}),
    ...(authenticate ? { authenticate } : {}),
    ...(directory ? { directory } : {}),
    ...(logger !== undefined ? { logger } : {}),
  });
  try {
    await app.ready();
  } catch (err) {
    await app.close();
    throw err;
  }

  const detachers = new Set<() => void>();
  let closed = false;
  let closing: Promise<void> | null = null;

  const handles = (req: IncomingMessage): boolean => {
    const path = pathOf(req.url);
    if (req.headers.upgrade !== undefined && app.ws.handles(path)) return true;
    // `/` and `/healthz` belong to whoever owns the server.
    if (path === '/') return signupPage === true && app.config.builtInAccounts;
    if (path === '/healthz') return false;
    const method = (req.method ?? 'GET').toUpperCase() as HTTPMethods;
    // A path Parley serves under another method is still Parley's: it answers 404 itself.
    return [method, ...METHODS.filter((m) => m !== method)].some((m) => findRoute(app.http, m, path));
  };

  const handleRequest = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (closed || !handles(req)) return false;
    app.http.routing(req, res);
    return true;
  };

  const handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): boolean => {
    if (closed || !app.ws.handles(pathOf(req.url))) return false;
    app.ws.handleUpgrade(req, socket, head);
    return true;
  };

  /** Puts Parley in front of a server's `request` (optionally) and `upgrade` events. */
  const intercept = (server: NodeServer, requests: boolean): (() => void) => {
    type Emit = (this: unknown, event: string | symbol, ...args: unknown[]) => boolean;
    const target = server as unknown as { emit: Emit };
    const original = target.emit;
    // Patching `emit` rather than reordering listeners puts Parley first for listeners the
    // host adds later too (a `new WebSocketServer({ server })` would take every upgrade).
    const patched: Emit = function (event, ...args) {
      if (requests && event === 'request' && handleRequest(args[0] as IncomingMessage, args[1] as ServerResponse)) return true;
      if (event === 'upgrade' && handleUpgrade(args[0] as IncomingMessage, args[1] as Duplex, args[2] as Buffer)) return true;
      return original.call(this, event, ...args);
    };
    target.emit = patched;
    // Node emits `upgrade` only to a server with an `upgrade` listener, so Parley keeps one;
    // when it is the only one, an upgrade Parley does not take has no taker: refuse it.
    const lastResort = (_req: IncomingMessage, socket: Duplex) => {
      if (server.listenerCount('upgrade') === 1) refuse(socket);
    };
    server.on('upgrade', lastResort);
    const detach = () => {
      if (target.emit === patched) target.emit = original;
      server.off('upgrade', lastResort);
      detachers.delete(detach);
    };
    detachers.add(detach);
    return detach;
  };

  const close = (): Promise<void> => {
    closing ??= (async () => {
      try {
        // While closing, Parley still takes its paths and answers 503 / closes sockets.
        await app.close();
      } finally {
        closed = true;
        for (const detach of [...detachers]) detach();
      }
    })();
    return closing;
  };

  const fastifyPlugin: FastifyPluginAsync = async (host) => {
    host.addHook('onRequest', async (request, reply) => {
      if (closed || !handles(request.raw)) return;
      reply.hijack();
      app.http.routing(request.raw, reply.raw);
    });
    intercept(host.server, false);
    // `preClose`: before the host's server waits for its connections, Parley's WebSockets and
    // streams among them. `onClose` covers a host closed before it was ever ready.
    host.addHook('preClose', async () => close());
    host.addHook('onClose', async () => close());
  };
  // What `fastify-plugin` does: the hook applies to the whole host, not a child context.
  Object.assign(fastifyPlugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'parley' });

  return {
    core: app.core,
    accounts: app.accounts,
    config: app.config,
    webhooks: app.webhooks,
    http: app.http,
    fastifyPlugin,
    middleware: (req, res, next) => {
      if (!handleRequest(req, res)) next();
    },
    attach: (server) => intercept(server, true),
    handleRequest,
    handleUpgrade,
    handles,
    listen: (at) => app.listen(at),
    close,
  };
}

function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const q = raw.indexOf('?');
  return q === -1 ? raw : raw.slice(0, q);
}

function findRoute(http: FastifyInstance, method: HTTPMethods, url: string): boolean {
  // Typed as always found; it returns null when nothing matches.
  return (http.findRoute({ method, url }) as unknown) !== null;
}

function refuse(socket: Duplex): void {
  socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nNot Found');
}

// Types a host works with: options, settings, hooks, events, payloads, errors.
export type { ListenOptions } from './app.js';
export type { Accounts, RegisterInput } from './auth/index.js';
export { ConfigError } from './config/index.js';
export type { ConfigFile, ConfigHooks, ParleyConfig } from './config/index.js';
export { ERROR_CODES, ParleyError, isParleyError } from './core/index.js';
export type {
  AfterHook,
  AfterHookName,
  AfterHooks,
  AfterPayloads,
  BeforeHook,
  BeforeHooks,
  BeforeInputs,
  BeforeOperation,
  BeforeResult,
  Conversation,
  ConversationId,
  ConversationKind,
  ConversationSummary,
  Core,
  CoreSettings,
  CreateConversationInput,
  DomainEvent,
  DomainEventListener,
  DomainEventType,
  ErrorCode,
  EventStream,
  FieldErrors,
  HistoryQuery,
  Member,
  MemberRole,
  Message,
  MessageId,
  MessageReadSignal,
  MessageSentSignal,
  ParleyHooks,
  Policy,
  PolicyContext,
  ReactionSummary,
  SendInput,
  Store,
  User,
  UserId,
} from './core/index.js';
export type { Broker } from './core/ports/broker.js';
export type { FileStorage } from './core/ports/file-storage.js';
export { FileTooLargeError, STORAGE_KEY } from './core/ports/file-storage.js';
export { LocalDiskStorage } from './storage/local-disk.js';
/** Users from the host application (`authenticate`, `jwt`, `directory`; docs/extending/host-users.md). */
export type { HostIdentity, UserDirectory } from './core/index.js';
export type { HostAuthenticate, JwtAlgorithm, JwtClaimNames, JwtSettings } from './auth/index.js';
/** The name of Parley's HttpOnly session cookie (a host that signs users in can set it). */
export { SESSION_COOKIE } from './faces/http/authenticate.js';
export type { MessagingContext, MessagingHandler, MessagingHandlers, OutgoingFrame } from './faces/messaging/face.js';
export type * from './protocol/index.js';
/** Extension points (README, "Extending Parley"): operations, error mapping, serializers, metadata. */
export { OPERATION_NAMES, METADATA_MAX_BYTES } from './core/index.js';
export type { Operation, OperationInputs, OperationName, OperationOutputs, Operations, MembersAction, AdminAction, Metadata, SessionFace } from './core/index.js';
export type { ErrorMapper, MappedError } from './faces/http/error-mapping.js';
export type { Serializer, Serializers } from './faces/serializers.js';
export type { JsonSchema, MetadataSchemas } from './faces/http/metadata.js';
/** For webhook receivers: checks `X-Parley-Signature` and `X-Parley-Timestamp` (docs/extending/webhooks.md). */
export { WEBHOOK_EVENT_TYPES, verifyWebhookSignature } from './webhooks/index.js';
export type { ParleyWebhooks, VerifyWebhookSignatureInput, WebhookEventType } from './webhooks/index.js';
export type { WebhookDelivery, WebhookDeliveryStatus } from './core/ports/store.js';

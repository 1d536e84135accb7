import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ServerResponse } from 'node:http';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { Accounts, type HostAuthenticate, JwtVerifier, RequestAuthenticator, Revocations } from './auth/index.js';
import type { ParleyConfig } from './config/index.js';
import { type Core, type ParleyHooks, type Policy, type Store, type UserDirectory, createCore } from './core/index.js';
import { authFace } from './faces/auth/routes.js';
import { dmFace } from './faces/dm/routes.js';
import { installAuthentication } from './faces/http/authenticate.js';
import { installCors } from './faces/http/cors.js';
import { installCsrfProtection } from './faces/http/csrf.js';
import { answerClientError, installErrorHandler, restErrors, sendError } from './faces/http/errors.js';
import { installFormBodies, validatorCompiler } from './faces/http/validation.js';
import type { FaceDeps } from './faces/http/face-deps.js';
import { restFace } from './faces/rest/routes.js';
import { uiFace } from './faces/ui/routes.js';
import { webFace } from './faces/web/routes.js';
import { ParleyError } from './core/errors.js';
import { openStore } from './store/index.js';
import { openBroker } from './broker/index.js';
import type { Broker } from './core/ports/broker.js';
import { liveFace } from './faces/live/face.js';
import { type MessagingHandlers, messagingFace } from './faces/messaging/face.js';
import { WsServer } from './faces/ws/upgrade.js';
import { SessionGuard } from './faces/ws/session-guard.js';
import { RealtimeHub } from './realtime/hub.js';
import { ConnectionCap } from './realtime/connection-cap.js';
import type { FileStorage } from './core/ports/file-storage.js';
import { LocalDiskStorage } from './storage/local-disk.js';
import { uploadsFace } from './faces/rest/uploads.js';
import { join as joinPath } from 'node:path';
import { type ParleyWebhooks, WebhookDispatcher } from './webhooks/index.js';
import { LoginThrottle, createRateLimiter, createSendRateLimiter } from './limits/index.js';
import { onPublicUrl, withPublicUrl } from './core/public-url.js';
import type { Operations } from './core/operations.js';
import { type ErrorMapper, setErrorMapper } from './faces/http/error-mapping.js';
import { compileMetadataSchemas } from './faces/http/metadata.js';
import { type Serializers, hasHttpSerializers, registerSerializers } from './faces/serializers.js';
import { ParleyMetrics } from './ops/metrics.js';
import { checkReadiness } from './ops/readiness.js';

export interface BuildAppOptions {
  config: ParleyConfig;
  /** A store to use instead of opening `config.databaseUrl` (tests pass their own). */
  store?: Store;
  /**
   * The `/messaging/` event map (the seed's EVENT_MAPPER): add or replace event types with a
   * handler, or remove one with null.
   */
  messagingHandlers?: MessagingHandlers;
  /** A broker to use instead of the in-process one. */
  broker?: Broker;
  /** Replaces individual permission rules. */
  policy?: Partial<Policy>;
  /** Lifecycle hooks: before-hooks that may veto or rewrite, after-hooks on domain events (`ParleyHooks`). */
  lifecycle?: ParleyHooks;
  /** Middleware around core operations (`Operations`): wrap, change, veto or replace them. */
  operations?: Operations;
  /** The host's own errors as HTTP statuses and `/messaging/` codes, before the built-in tables. */
  mapError?: ErrorMapper;
  /** Output serializers per face (`Serializers`), applied after the built-in presenters. */
  serializers?: Serializers;
  /** The clock; tests pass a controlled one. */
  now?: () => Date;
  /**
   * Pino options, false, or a logger instance (pino or pino-compatible, e.g. a host's
   * `app.log.child({ name: 'parley' })`); default logs at `config.logLevel`.
   */
  logger?: boolean | { level: string } | FastifyBaseLogger;
  /**
   * Where uploaded files live (see `FileStorage`, docs/attachments.md): pass an object-store
   * adapter to keep them off the local disk. Default: `<dataDir>/uploads/`.
   */
  fileStorage?: FileStorage;
  /** Serve the sign-up/sign-in page at `/` (default true; never with `builtInAccounts: false`). */
  signupPage?: boolean;
  /**
   * The host's sign-in, run for every HTTP request and WebSocket upgrade: a `HostIdentity`
   * (provisioned as a Parley user on first sight), or null to fall through to Parley's own
   * credentials. Throwing answers 401.
   */
  authenticate?: HostAuthenticate;
  /** The host's user directory: answers user search and lookups by host id. */
  directory?: UserDirectory;
}

/** Where `listen()` listens; each defaults to the configured `port` / `host`. */
export interface ListenOptions {
  port?: number;
  host?: string;
}

/** A built Parley server: its parts, and how to start and stop it. */
export interface ParleyApp {
  http: FastifyInstance;
  core: Core;
  accounts: Accounts;
  store: Store;
  broker: Broker;
  hub: RealtimeHub;
  ws: WsServer;
  /** Ends WebSockets whose credentials stopped counting; `check()` re-asks now (every 30 s by itself). */
  sessions: SessionGuard;
  config: ParleyConfig;
  /** The webhook outbox and its worker: run due deliveries now, read the log, retry. */
  webhooks: ParleyWebhooks;
  /** Starts listening; resolves to the base URL (`http://127.0.0.1:PORT`). */
  listen(options?: ListenOptions): Promise<string>;
  /**
   * Makes the app serve without listening: its routes answer through `http.routing(req, res)`
   * and its WebSocket faces through `ws.handleUpgrade`, on a server someone else runs.
   * `listen()` does this itself. Idempotent.
   */
  ready(): Promise<void>;
  /**
   * Runs the periodic housekeeping now: expires typing indicators and inactive sessions
   * against the app's clock. A timer calls it every second; tests call it after moving a
   * controlled clock.
   */
  sweep(): void;
  /**
   * Stops accepting, lets in-flight requests finish (also those routed in from a host's
   * server), then closes the store. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * The composition root: the only place that builds the store, the core and the faces.
 * Migrations run before the server accepts a request, so `/healthz` means "ready".
 */
export async function buildApp(options: BuildAppOptions): Promise<ParleyApp> {
  const { config } = options;
  const now = options.now ?? (() => new Date());
  // First, before anything is opened: a bad schema stops the start with nothing to clean up.
  const validateMetadata = compileMetadataSchemas(config.metadataSchema ?? undefined);
  const store = options.store ?? openStore(config.databaseUrl);
  await store.migrate();

  const logger = options.logger ?? { level: config.logLevel };
  const http = Fastify({
    ...(isLogger(logger) ? { loggerInstance: logger } : { logger }),
    bodyLimit: config.bodyLimit,
    trustProxy: config.trustProxy,
    // A body that stops arriving (or never ends) is answered 408 and its connection closed;
    // Node checks at the interval below, so the bound holds within a quarter of it.
    // Node 20 takes the timeout only at construction (Fastify sets it later, too late).
    requestTimeout: config.requestTimeoutSeconds * 1000,
    http: {
      requestTimeout: config.requestTimeoutSeconds * 1000,
      connectionsCheckingInterval: Math.min(30_000, Math.max(250, (config.requestTimeoutSeconds * 1000) / 4)),
    },
    http2: false,
    clientErrorHandler: answerClientError,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
  }).withTypeProvider<TypeBoxTypeProvider>();
  // Requests a host's server hands in through `http.routing` are not connections of
  // `http.server`, so closing waits for them here rather than through `server.close()`.
  const inFlight = new InFlight();
  http.addHook('onRequest', async (_request, reply) => inFlight.track(reply.raw));
  http.setValidatorCompiler(validatorCompiler());
  // With host serializers, a response may have fields its schema does not name (or lack one
  // it does): the schemas then only document responses and plain JSON.stringify writes them.
  if (hasHttpSerializers(options.serializers)) http.setSerializerCompiler(() => (data) => JSON.stringify(data));
  setErrorMapper(http, options.mapError);
  // JSON only: a text/plain body is what a cross-site form can send without a preflight.
  http.removeContentTypeParser('text/plain');
  // An empty JSON body counts as no body, so `POST …/mark-as-read/` works with or without `{}`.
  const parseJson = http.getDefaultJsonParser('error', 'error');
  http.removeContentTypeParser('application/json');
  http.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (typeof body === 'string' && body.trim() === '') done(null, undefined);
    else parseJson(request, body.toString(), done);
  });
  // Form bodies as Django takes them (drf-directmessages clients post forms); the session
  // cookie is SameSite=Lax, so a cross-site form does not carry it.
  await installFormBodies(http);
  // No body at all is validated as `{}`: optional bodies just work and required fields get
  // "This field is required." instead of an opaque type error.
  http.addHook('preValidation', async (request) => {
    if (request.body === undefined && request.method !== 'GET' && request.method !== 'HEAD') request.body = {};
  });

  const sendLimiter = config.sendRateLimit
    ? createSendRateLimiter({
        ...config.sendRateLimit,
        redisUrl: config.redisUrl,
        onStoreError: (err) => http.log.warn({ err }, 'send rate limit: redis unavailable, counting in memory'),
      })
    : null;
  // Counted in Redis from the first request when Redis answers (in memory meanwhile otherwise).
  await sendLimiter?.ready();
  // `uploadRateLimit`: the same limiter, its own counters, asked by the core before each upload.
  const uploadLimiter = config.uploadRateLimit
    ? createRateLimiter({
        points: config.uploadRateLimit.uploads,
        perSeconds: config.uploadRateLimit.perSeconds,
        name: 'upload',
        redisUrl: config.redisUrl,
        onStoreError: (err) => http.log.warn({ err }, 'upload rate limit: redis unavailable, counting in memory'),
      })
    : null;
  await uploadLimiter?.ready();
  const fileStorage = options.fileStorage ?? new LocalDiskStorage(joinPath(config.dataDir, 'uploads'));
  const core = createCore({
    store,
    // With `publicUrl`, avatar and file URLs are absolute (embedded widgets, API clients elsewhere).
    settings: withPublicUrl(config.core, config.publicUrl),
    attachments: {
      files: fileStorage,
      secret: config.secret,
      urlTtlSeconds: config.uploads.urlTtlSeconds,
      filesPath: onPublicUrl(config.publicUrl, '/messages/api/files/'),
      unattachedTtlHours: config.uploads.unattachedTtlHours,
    },
    ...(sendLimiter ? { sendLimiter } : {}),
    ...(uploadLimiter ? { uploadLimiter } : {}),
    ...(options.policy ? { policy: options.policy } : {}),
    ...(options.lifecycle ? { lifecycle: options.lifecycle } : {}),
    ...(options.operations ? { operations: options.operations } : {}),
    ...(validateMetadata ? { validateMetadata } : {}),
    ...(options.directory ? { directory: options.directory } : {}),
    now,
    onSubscriberError: (err, event) => http.log.error({ err, event: event.type }, 'event subscriber failed'),
  });
  const loginThrottle = config.loginThrottle
    ? new LoginThrottle({
        ...config.loginThrottle,
        redisUrl: config.redisUrl,
        onStoreError: (err) => http.log.warn({ err }, 'login throttle: redis unavailable, counting in memory'),
      })
    : null;
  const revocations = new Revocations();
  const accounts = new Accounts({
    store,
    now,
    registrationEnabled: config.registrationEnabled,
    sessionTtlDays: config.sessionTtlDays,
    passwordHashCost: config.passwordHashCost,
    throttle: loginThrottle,
    revocations,
  });
  const broker = options.broker ?? openBroker(config.redisUrl, http.log);
  // `metrics` / `metricsToken`: off unless configured (docs/operations.md).
  const metrics = config.metrics.enabled ? new ParleyMetrics() : null;
  const hub = new RealtimeHub({
    ...(metrics ? { onDelivered: metrics.delivered } : {}),
    core,
    broker,
    log: http.log,
    retentionMs: config.eventRetentionHours * 3_600_000,
    typingTtlMs: config.typingTimeoutSeconds * 1000,
  });
  await hub.start();
  // Webhooks: subscribed to the core's events from here on; the worker first sends whatever
  // an earlier run left in the outbox.
  const webhooks = new WebhookDispatcher({
    core,
    store,
    endpoints: config.webhooks,
    maxAttempts: config.webhookMaxAttempts,
    timeoutMs: config.webhookTimeoutMs,
    now,
    log: http.log,
    publicUrl: config.publicUrl,
  });
  webhooks.start();
  registerSerializers(core, options.serializers);
  const deps: FaceDeps = { core, accounts, config, hub, log: http.log, mapError: options.mapError };

  await http.register(cookie);
  // Security headers on every response (Referrer-Policy, nosniff, frame options, HSTS behind
  // an https publicUrl). Pages set their own CSP; cross-origin resource and embedder policies
  // stay off, as other sites load the widgets, avatars and signed file URLs.
  await http.register(helmet, {
    contentSecurityPolicy: false,
    crossOriginEmbedderPolicy: false,
    crossOriginResourcePolicy: false,
    strictTransportSecurity: config.publicUrl?.startsWith('https://') ? { maxAge: 15_552_000 } : false,
  });
  await http.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Parley API',
        version: '0.1.0',
        description:
          'Parley chat server. `/messages/api/` follows the Django Messaging REST API; `/api/dm/` follows drf-directmessages. Authenticate with `Authorization: Token <token>` (from `/auth/register` or `/auth/login`) or the session cookie.',
      },
      components: {
        securitySchemes: {
          tokenAuth: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'Token <token> or Bearer <token>; Bearer <jwt> when `jwt` is configured' },
          cookieAuth: { type: 'apiKey', in: 'cookie', name: 'parley_session' },
        },
      },
      security: [{ tokenAuth: [] }, { cookieAuth: [] }],
    },
  });
  await http.register(swaggerUi, {
    routePrefix: '/api/docs',
    uiConfig: { docExpansion: 'list' },
    // The package's own CSP (hashes of its inline code), never framed, and no https upgrade
    // (Parley may run on plain http in development).
    staticCSP: true,
    transformStaticCSP: (header) => header.replace("frame-ancestors 'self'", "frame-ancestors 'none'").replace(/\s*upgrade-insecure-requests;?/, ''),
  });

  // Who a request is, the same for HTTP and WebSockets: host `authenticate`, JWT, Parley tokens.
  const authenticator = new RequestAuthenticator({
    core,
    accounts,
    builtInAccounts: config.builtInAccounts,
    authenticate: options.authenticate,
    jwt: config.jwt ? new JwtVerifier(config.jwt, now) : null,
    log: http.log,
  });
  installAuthentication(http, authenticator);
  installCors(http, config.allowedOrigins);
  installCsrfProtection(http, config.allowedOrigins, config.publicUrl);
  // A write's events are logged in the write's own transaction (see `commit` in the core), so a
  // client holding the answer finds them when it resumes from any earlier cursor, on any process.
  installErrorHandler(http, restErrors);
  http.setNotFoundHandler((_request, reply) => sendError(reply, restErrors, new ParleyError('not_found', 'Not found.')));

  http.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  // Ready: the database and the broker answer, and the server is not shutting down.
  http.get('/readyz', { schema: { hide: true } }, async () => {
    await checkReadiness({ store, broker, closing: closing !== null });
    return { status: 'ready' };
  });
  http.get('/api/schema/', { schema: { hide: true } }, async () => http.swagger());

  await http.register(authFace(deps), { prefix: '/auth' });
  await http.register(restFace(deps), { prefix: '/messages/api' });
  await http.register(dmFace(deps), { prefix: '/api/dm' });
  await http.register(uploadsFace(deps, fileStorage), { prefix: '/messages/api' });
  await http.register(webFace(deps, { signupPage: (options.signupPage ?? true) && config.builtInAccounts }));
  await http.register(uiFace(deps));

  // One count per user across both WebSocket faces, SSE and long-poll.
  const connections = new ConnectionCap(config.maxConnectionsPerUser);
  const live = liveFace(deps, connections);
  await http.register(live.http, { prefix: '/messages/api' });
  const sessions = new SessionGuard({ authenticator, revocations, log: http.log });
  const ws = new WsServer({
    authenticator,
    sessions,
    hub,
    connections,
    allowedOrigins: config.allowedOrigins,
    maxPayloadBytes: 1024 * 1024,
    maxBufferedBytes: 4 * 1024 * 1024,
    pingIntervalMs: 30_000,
    parseCookie: (header) => http.parseCookie(header),
    log: http.log,
  });
  ws.route(messagingFace(deps, options.messagingHandlers));
  ws.route(live.ws);
  http.server.on('upgrade', ws.handleUpgrade);
  if (metrics) {
    metrics.attach({ http, core, hub, ws, broker });
    const token = config.metrics.token;
    http.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
      if (token !== null && request.headers.authorization !== `Bearer ${token}`) {
        throw new ParleyError('unauthenticated', 'Metrics need Authorization: Bearer <metricsToken>.');
      }
      reply.header('content-type', metrics.registry.contentType);
      return metrics.registry.metrics();
    });
  }

  const sweep = () => {
    hub.sweepTyping();
    ws.sweep();
  };
  // Housekeeping: typing indicators expire; the event log keeps `eventRetentionHours`.
  const timers = [
    setInterval(() => sweep(), 1000),
    // Sockets whose session expired, user was deactivated, or token was revoked elsewhere.
    setInterval(() => void sessions.check(), 30_000),
    setInterval(() => {
      hub.prune().catch((err: unknown) => http.log.error({ err }, 'event log pruning failed'));
    }, 3_600_000),
    // Uploads never attached to a message go after `uploads.unattachedTtlHours`.
    setInterval(() => {
      core.attachments.sweepUnattached().catch((err: unknown) => http.log.error({ err }, 'unattached upload sweep failed'));
    }, 600_000),
  ];
  for (const t of timers) t.unref();

  let started: Promise<void> | null = null;
  const ready = (): Promise<void> => {
    started ??= (async () => {
      await http.ready();
      ws.start();
    })();
    return started;
  };
  let closing: Promise<void> | null = null;
  return {
    http,
    core,
    accounts,
    store,
    broker,
    hub,
    ws,
    sessions,
    config,
    webhooks,
    sweep,
    ready,
    async listen(at = {}) {
      const listenHost = at.host ?? config.host;
      await http.listen({ port: at.port ?? config.port, host: listenHost });
      await ready();
      const address = http.server.address();
      const port = typeof address === 'object' && address ? address.port : (at.port ?? config.port);
      const host = listenHost === '0.0.0.0' || listenHost === '::' ? '127.0.0.1' : listenHost;
      return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    },
    close() {
      closing ??= (async () => {
        for (const t of timers) clearInterval(t);
        // Node stops timing out slow bodies once the server closes: a request still arriving
        // after `requestTimeoutSeconds` would have been refused anyway, so it is cut off then.
        const cutOff = setTimeout(() => http.server.closeAllConnections(), config.requestTimeoutSeconds * 1000);
        cutOff.unref();
        await ws.close();
        await http.close();
        await inFlight.drained();
        clearTimeout(cutOff);
        await webhooks.stop();
        await hub.stop();
        await broker.close();
        await sendLimiter?.close();
        await uploadLimiter?.close();
        await loginThrottle?.close();
        await store.close();
        metrics?.close();
      })();
      return closing;
    },
  };
}

function isLogger(value: BuildAppOptions['logger']): value is FastifyBaseLogger {
  return typeof value === 'object' && value !== null && typeof (value as Partial<FastifyBaseLogger>).child === 'function';
}

/** Counts requests until their response is done or their connection gone. */
class InFlight {
  private count = 0;
  private waiters: Array<() => void> = [];

  /** `close` fires once, whether the response finished or the client went away. */
  track(response: ServerResponse): void {
    this.count += 1;
    response.once('close', () => {
      this.count -= 1;
      if (this.count === 0) for (const w of this.waiters.splice(0)) w();
    });
  }

  drained(): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

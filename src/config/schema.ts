import { type Static, Type as T } from '@sinclair/typebox';

/**
 * The configuration a deployment writes (parley.config.json, environment variables). Every
 * key is optional; `loadConfig` fills defaults and validates against this schema. Names
 * mirror the seed packages' settings in camelCase.
 */
export const ConfigFileSchema = T.Object(
  {
    port: T.Optional(T.Integer({ minimum: 0, maximum: 65535, description: 'TCP port (env PORT).' })),
    host: T.Optional(T.String({ minLength: 1, description: 'Interface to listen on (env HOST).' })),
    dataDir: T.Optional(T.String({ minLength: 1, description: 'Where the SQLite database lives (env PARLEY_DATA_DIR).' })),
    databaseUrl: T.Optional(T.String({ minLength: 1, description: 'sqlite:<path> or postgres://… (env DATABASE_URL).' })),
    redisUrl: T.Optional(T.String({ pattern: '^rediss?://', description: 'Redis for several processes (env REDIS_URL); none = in-process broker.' })),
    secret: T.Optional(T.String({ minLength: 16, description: 'Server secret, 16+ chars (env PARLEY_SECRET).' })),
    logLevel: T.Optional(T.Union([T.Literal('fatal'), T.Literal('error'), T.Literal('warn'), T.Literal('info'), T.Literal('debug'), T.Literal('trace'), T.Literal('silent')])),
    registrationEnabled: T.Optional(T.Boolean({ description: 'Whether POST /auth/register is open.' })),
    // Users from the host application (docs/extending/host-users.md).
    builtInAccounts: T.Optional(
      T.Boolean({ description: 'Built-in accounts (/auth/register, /auth/login, tokens, the sign-up page). false: only `authenticate` and JWTs sign users in (env PARLEY_BUILT_IN_ACCOUNTS).' }),
    ),
    jwt: T.Optional(
      T.Object(
        {
          secret: T.Optional(T.String({ minLength: 32, description: 'HS256 shared secret, 32+ characters (env PARLEY_JWT_SECRET).' })),
          publicKey: T.Optional(T.String({ minLength: 1, description: 'RS256/ES256 public key: PEM (SPKI) or JWK JSON (env PARLEY_JWT_PUBLIC_KEY).' })),
          algorithms: T.Optional(T.Array(T.Union([T.Literal('HS256'), T.Literal('RS256'), T.Literal('ES256')]), { minItems: 1, description: 'Accepted algorithms; default: the one the key is for.' })),
          issuer: T.Optional(T.String({ minLength: 1, description: 'Required `iss`.' })),
          audience: T.Optional(T.String({ minLength: 1, description: 'Required `aud`.' })),
          claims: T.Optional(
            T.Object(
              {
                id: T.Optional(T.String({ minLength: 1, description: "The user's host id (default 'sub')." })),
                username: T.Optional(T.String({ minLength: 1, description: "Default 'preferred_username'." })),
                displayName: T.Optional(T.String({ minLength: 1, description: "Default 'name'." })),
                email: T.Optional(T.String({ minLength: 1, description: "Default 'email'." })),
                avatarUrl: T.Optional(T.String({ minLength: 1, description: "Default 'picture'." })),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false, description: 'Sign users in with JWTs the host issues (`Authorization: Bearer <jwt>`, `?token=` on WebSockets and SSE).' },
      ),
    ),
    demoPage: T.Optional(T.Boolean({ description: 'Serve the demo page with both widgets at /demo/.' })),
    allowedOrigins: T.Optional(T.Array(T.String(), { description: 'Origins (scheme://host[:port]) allowed for browser clients and WebSocket upgrades, with cookies; "*" allows any origin without cookies.' })),
    publicUrl: T.Optional(T.String({ pattern: '^https?://', description: 'Where clients reach Parley, e.g. "https://chat.example.com" (env PARLEY_PUBLIC_URL): file, avatar and pagination URLs are then absolute on it. No query or fragment.' })),
    bodyLimit: T.Optional(T.Integer({ minimum: 1024, description: 'Largest request body in bytes.' })),
    // Hardening (SECURITY.md).
    trustProxy: T.Optional(
      T.Union([T.Boolean(), T.Array(T.String({ minLength: 1 }), { minItems: 1 })], {
        description: 'Honour X-Forwarded-Proto/-For/-Host from a reverse proxy: true (any peer), or the proxy addresses/CIDRs (env PARLEY_TRUST_PROXY). Default false.',
      }),
    ),
    requestTimeoutSeconds: T.Optional(T.Number({ minimum: 1, maximum: 3600, description: 'A request whose body has not fully arrived after this long is answered 408 and closed (default 60).' })),
    loginThrottle: T.Optional(
      T.Union(
        [
          T.Null(),
          T.Object(
            {
              perAccount: T.Object(
                { failures: T.Integer({ minimum: 1 }), perSeconds: T.Number({ exclusiveMinimum: 0 }) },
                { additionalProperties: false, description: 'Failed sign-ins per username per window (default 10 per 900 s).' },
              ),
              perAddress: T.Object(
                { attempts: T.Integer({ minimum: 1 }), perSeconds: T.Number({ exclusiveMinimum: 0 }) },
                { additionalProperties: false, description: 'Sign-in attempts per client address per window (default 30 per 60 s).' },
              ),
            },
            { additionalProperties: false },
          ),
        ],
        { description: 'POST /auth/login throttling (429 + Retry-After). null turns it off.' },
      ),
    ),
    passwordHashCost: T.Optional(T.Integer({ minimum: 10, maximum: 20, description: 'scrypt cost as log2 N (default 17: N = 131072, r = 8, p = 1, 128 MiB per hash). Older hashes are upgraded at sign-in.' })),
    sessionTtlDays: T.Optional(T.Number({ exclusiveMinimum: 0 })),

    // realtime_chat_messaging
    messageSoftDelete: T.Optional(T.Boolean()),
    enableNotification: T.Optional(T.Boolean()),
    inactivityThreshold: T.Optional(T.Integer({ minimum: 1 })),
    websocketPath: T.Optional(T.String({ pattern: '^[A-Za-z0-9_\\-/]+/$', description: 'e.g. "messaging/"' })),
    eventRetentionHours: T.Optional(T.Number({ exclusiveMinimum: 0, description: 'How long clients can resume from a cursor.' })),
    typingTimeoutSeconds: T.Optional(T.Number({ exclusiveMinimum: 0, description: 'A typing indicator ends after this long without a refresh.' })),
    maxConnectionsPerUser: T.Optional(
      T.Integer({ minimum: 1, description: 'Live connections (WebSockets, SSE streams, waiting long-polls) one user may hold on one process (default 100).' }),
    ),

    // drf-directmessages
    allowedRecipients: T.Optional(T.Union([T.Null(), T.Array(T.Integer({ minimum: 1 }))])),

    // Django Messaging
    enableDms: T.Optional(T.Boolean()),
    enableChatRooms: T.Optional(T.Boolean()),
    transport: T.Optional(T.Union([T.Literal('websocket'), T.Literal('polling')])),
    messagesPerPage: T.Optional(T.Integer({ minimum: 1, maximum: 500 })),
    chatsPerPage: T.Optional(T.Integer({ minimum: 1, maximum: 500 })),
    showDeletedMessageIndicators: T.Optional(T.Boolean()),
    allowRenamingChatRooms: T.Optional(T.Boolean()),
    allowRenamingDms: T.Optional(T.Boolean()),
    allowEditingOwnMessages: T.Optional(T.Boolean()),
    allowDeletingOwnMessages: T.Optional(T.Boolean()),
    allowAddingReactions: T.Optional(T.Boolean()),
    messageMaxLength: T.Optional(T.Integer({ minimum: 1, maximum: 100_000 })),
    maxMembers: T.Optional(T.Integer({ minimum: 2 })),

    // Extra data on messages and conversations (README, "Extending Parley"; the seed's MODELS).
    metadataSchema: T.Optional(
      T.Object(
        {
          message: T.Optional(T.Record(T.String(), T.Unknown(), { description: 'JSON Schema for `metadata` of messages.' })),
          conversation: T.Optional(T.Record(T.String(), T.Unknown(), { description: 'JSON Schema for `metadata` of chats / rooms.' })),
        },
        { additionalProperties: false, description: 'JSON Schemas validating the `metadata` object clients send on messages and conversations (at most 16 KB); none: any object.' },
      ),
    ),

    // Policies (docs/extending/policies.md).
    sendRateLimit: T.Optional(
      T.Union(
        [
          T.Null(),
          T.Object(
            {
              messages: T.Integer({ minimum: 1, description: 'Messages one user may send per window.' }),
              perSeconds: T.Number({ exclusiveMinimum: 0, description: 'Window length in seconds (whole seconds with Redis).' }),
            },
            { additionalProperties: false },
          ),
        ],
        { description: 'Per-user send rate limit across every API (429 + Retry-After; WS error 4029). Default null: no limit.' },
      ),
    ),
    uploadRateLimit: T.Optional(
      T.Union(
        [
          T.Null(),
          T.Object(
            {
              uploads: T.Integer({ minimum: 1, description: 'Uploads one user may make per window.' }),
              perSeconds: T.Number({ exclusiveMinimum: 0, description: 'Window length in seconds (whole seconds with Redis).' }),
            },
            { additionalProperties: false },
          ),
        ],
        { description: 'Per-user limit on `POST /messages/api/uploads/` (429 + Retry-After, refused before the body is read). Default null: no limit.' },
      ),
    ),

    // Webhooks (docs/extending/webhooks.md). URLs, event names and secret lengths are checked
    // by `loadConfig` with one readable line each (and without echoing secrets).
    webhooks: T.Optional(
      T.Array(
        T.Object(
          {
            url: T.String({ description: 'http:// or https:// URL that receives the POSTs.' }),
            events: T.Array(T.String(), { minItems: 1, description: "Domain event types, 'message_sent', 'message_read', or ['*'] for all." }),
            secret: T.String({ description: 'HMAC-SHA256 signing secret, 16+ characters.' }),
            description: T.Optional(T.String()),
          },
          { additionalProperties: false },
        ),
        { description: 'Endpoints that receive signed JSON POSTs for chosen events.' },
      ),
    ),
    webhookMaxAttempts: T.Optional(T.Integer({ minimum: 1, maximum: 100, description: 'Attempts per webhook delivery before it is marked failed (default 8).' })),
    webhookTimeoutMs: T.Optional(T.Integer({ minimum: 100, maximum: 600_000, description: 'Timeout of one webhook POST in milliseconds (default 10000).' })),

    // Attachments (docs/attachments.md).
    uploads: T.Optional(
      T.Object(
        {
          maxBytes: T.Optional(T.Integer({ minimum: 1, description: 'Largest upload in bytes (default 10485760, 10 MiB); larger → 413.' })),
          allowedTypes: T.Optional(
            T.Array(T.String({ pattern: '^[a-z0-9][a-z0-9!#$&^_.+-]*/([a-z0-9][a-z0-9!#$&^_.+-]*|\\*)$' }), {
              description: 'MIME types or `type/*` patterns accepted, judged from the file bytes (default: images, PDF, plain text, common audio/video, zip).',
            }),
          ),
          urlTtlSeconds: T.Optional(T.Integer({ minimum: 1, maximum: 604_800, description: 'Lifetime of signed file URLs in seconds (default 300).' })),
          unattachedTtlHours: T.Optional(T.Number({ exclusiveMinimum: 0, description: 'Uploads never attached to a message are deleted after this many hours (default 24).' })),
        },
        { additionalProperties: false, description: 'File uploads and attachments.' },
      ),
    ),

    // Operations (docs/operations.md).
    metrics: T.Optional(T.Boolean({ description: 'Serve Prometheus metrics at /metrics (env PARLEY_METRICS; default false).' })),
    metricsToken: T.Optional(T.String({ minLength: 16, description: 'Bearer token /metrics requires (env PARLEY_METRICS_TOKEN); setting it turns metrics on.' })),
    shutdownTimeoutSeconds: T.Optional(T.Number({ exclusiveMinimum: 0, maximum: 3600, description: 'How long a stopping server waits for requests and sockets to finish (default 10).' })),
  },
  { additionalProperties: false },
);

export type ConfigFile = Static<typeof ConfigFileSchema>;

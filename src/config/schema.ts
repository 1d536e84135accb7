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
    demoPage: T.Optional(T.Boolean({ description: 'Serve the demo page with both widgets at /demo/.' })),
    allowedOrigins: T.Optional(T.Array(T.String(), { description: 'Origins allowed for browser clients and WebSocket upgrades.' })),
    bodyLimit: T.Optional(T.Integer({ minimum: 1024, description: 'Largest request body in bytes.' })),
    sessionTtlDays: T.Optional(T.Number({ exclusiveMinimum: 0 })),

    // realtime_chat_messaging
    messageSoftDelete: T.Optional(T.Boolean()),
    enableNotification: T.Optional(T.Boolean()),
    inactivityThreshold: T.Optional(T.Integer({ minimum: 1 })),
    websocketPath: T.Optional(T.String({ pattern: '^[A-Za-z0-9_\\-/]+/$', description: 'e.g. "messaging/"' })),
    eventRetentionHours: T.Optional(T.Number({ exclusiveMinimum: 0, description: 'How long clients can resume from a cursor.' })),
    typingTimeoutSeconds: T.Optional(T.Number({ exclusiveMinimum: 0, description: 'A typing indicator ends after this long without a refresh.' })),

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
  },
  { additionalProperties: false },
);

export type ConfigFile = Static<typeof ConfigFileSchema>;

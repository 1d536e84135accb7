import { Value } from '@sinclair/typebox/value';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CoreSettings } from '../core/index.js';
import { type ConfigFile, ConfigFileSchema } from './schema.js';
import { type JwtSettings, resolveJwtSettings } from '../auth/jwt.js';
import { webhookConfigProblems } from '../webhooks/index.js';
import { normalizePublicUrl } from '../core/public-url.js';

/** The resolved configuration: every value present and valid. */
export interface ParleyConfig {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string;
  /** null: the in-process broker (one process). */
  redisUrl: string | null;
  secret: string;
  logLevel: NonNullable<ConfigFile['logLevel']>;
  registrationEnabled: boolean;
  /** Built-in accounts (`/auth/register`, `/auth/login`, Parley tokens, the sign-up page). */
  builtInAccounts: boolean;
  /** Host-issued JWTs Parley accepts (`jwt`), checked and resolved; null when not configured. */
  jwt: JwtSettings | null;
  demoPage: boolean;
  allowedOrigins: string[];
  /** Where clients reach Parley, normalized without a trailing slash; null: URLs handed out stay relative. */
  publicUrl: string | null;
  bodyLimit: number;
  /** Honour X-Forwarded-* headers (Fastify `trustProxy`); false: the socket's address and scheme. */
  trustProxy: boolean | string[];
  /** How long a request body may take to arrive (408 after). */
  requestTimeoutSeconds: number;
  /** Sign-in throttling (`loginThrottle`); null = none. */
  loginThrottle: LoginThrottleSettings | null;
  /** scrypt cost for new password hashes, as log2 N. */
  passwordHashCost: number;
  sessionTtlDays: number;
  inactivityThreshold: number;
  websocketPath: string;
  eventRetentionHours: number;
  typingTimeoutSeconds: number;
  /** Live connections one user may hold on this process (WebSockets, SSE, waiting long-polls). */
  maxConnectionsPerUser: number;
  transport: 'websocket' | 'polling';
  messagesPerPage: number;
  chatsPerPage: number;
  /** Endpoints that receive signed webhook POSTs (validated; empty: none). */
  webhooks: WebhookEndpointConfig[];
  /** Attempts per webhook delivery before it is marked failed. */
  webhookMaxAttempts: number;
  /** Timeout of one webhook POST, milliseconds. */
  webhookTimeoutMs: number;
  /** Uploads and attachments (`uploads` in the config file), defaults filled in. */
  uploads: UploadSettings;
  /** Per-user send rate limit (`sendRateLimit`); null = none. */
  sendRateLimit: { messages: number; perSeconds: number } | null;
  /** Per-user upload rate limit (`uploadRateLimit`); null = none. */
  uploadRateLimit: { uploads: number; perSeconds: number } | null;
  /** JSON Schemas for `metadata` of messages and conversations; null: any JSON object. */
  metadataSchema: NonNullable<ConfigFile['metadataSchema']> | null;
  /** Prometheus metrics at /metrics: off, open, or behind a bearer token. */
  metrics: { enabled: boolean; token: string | null };
  /** How long a stopping server waits for in-flight work (seconds). */
  shutdownTimeoutSeconds: number;
  /** The settings handed to the core (flags plus the replaceable functions). */
  core: Partial<CoreSettings>;
}

/** Resolved `loginThrottle`. */
export type LoginThrottleSettings = NonNullable<ConfigFile['loginThrottle']>;

/** What `loginThrottle` is unless configured: slows guessing to a crawl, never a real user. */
export const DEFAULT_LOGIN_THROTTLE: LoginThrottleSettings = {
  perAccount: { failures: 10, perSeconds: 900 },
  perAddress: { attempts: 30, perSeconds: 60 },
};

/** One configured webhook endpoint. */
export type WebhookEndpointConfig = NonNullable<ConfigFile['webhooks']>[number];

/** Functions can only come from code, never from a JSON file or the environment. */
export type ConfigHooks = Partial<Pick<CoreSettings, 'canContact' | 'displayName' | 'avatarUrl'>>;

/** Resolved `uploads` settings (see docs/attachments.md). */
export interface UploadSettings {
  maxBytes: number;
  allowedTypes: string[];
  urlTtlSeconds: number;
  unattachedTtlHours: number;
}

/** What uploads accept unless `uploads.allowedTypes` says otherwise. */
export const DEFAULT_ALLOWED_TYPES: readonly string[] = [
  'image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf', 'text/plain',
  'audio/*', 'video/mp4', 'video/webm', 'video/quicktime', 'application/zip',
];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadConfigOptions {
  /** Directory the config file and relative paths are resolved from (default: process.cwd()). */
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Explicit config file; otherwise PARLEY_CONFIG, else ./parley.config.json if present. */
  file?: string;
  /** Values from code; they win over the file and the environment. */
  overrides?: ConfigFile;
  /** How error messages and `settingSource` name where `overrides` came from (default "code"). */
  overridesFrom?: string;
  hooks?: ConfigHooks;
}

const ENV_KEYS: Record<string, { key: keyof ConfigFile; parse: (v: string) => unknown }> = {
  PORT: { key: 'port', parse: (v) => (/^\d+$/.test(v) ? Number(v) : v) },
  HOST: { key: 'host', parse: (v) => v },
  DATABASE_URL: { key: 'databaseUrl', parse: (v) => v },
  REDIS_URL: { key: 'redisUrl', parse: (v) => v },
  PARLEY_DATA_DIR: { key: 'dataDir', parse: (v) => v },
  PARLEY_SECRET: { key: 'secret', parse: (v) => v },
  LOG_LEVEL: { key: 'logLevel', parse: (v) => v },
  PARLEY_REGISTRATION: { key: 'registrationEnabled', parse: (v) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v) },
  PARLEY_BUILT_IN_ACCOUNTS: { key: 'builtInAccounts', parse: (v) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v) },
  PARLEY_ALLOWED_ORIGINS: { key: 'allowedOrigins', parse: (v) => v.split(',').map((s) => s.trim()).filter(Boolean) },
  PARLEY_PUBLIC_URL: { key: 'publicUrl', parse: (v) => v },
  PARLEY_METRICS: { key: 'metrics', parse: (v) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v) },
  PARLEY_METRICS_TOKEN: { key: 'metricsToken', parse: (v) => v },
  PARLEY_TRUST_PROXY: {
    key: 'trustProxy',
    parse: (v) => (v === 'true' ? true : v === 'false' ? false : v.split(',').map((s) => s.trim()).filter(Boolean)),
  },
};

/**
 * Reads the configuration from the file, the environment and code (in that order of
 * precedence, lowest first), validates it, and fills the defaults. Throws `ConfigError` with
 * one line per bad value.
 */
export function loadConfig(options: LoadConfigOptions = {}): ParleyConfig {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const problems: string[] = [];

  let fromFile: Record<string, unknown> = {};
  const explicit = options.file ?? env.PARLEY_CONFIG;
  const filePath = explicit ? resolve(cwd, explicit) : join(cwd, 'parley.config.json');
  const fileFrom = options.file ? '--config' : 'PARLEY_CONFIG';
  if (explicit || existsSync(filePath)) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(filePath, 'utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) problems.push(`config file ${filePath}: expected a JSON object like {"port": 3000}`);
      else fromFile = parsed as Record<string, unknown>;
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (code === 'ENOENT') problems.push(`config file ${filePath} (from ${fileFrom}): no such file; fix the path or leave ${fileFrom} out`);
      else if (e instanceof SyntaxError) problems.push(`config file ${filePath}: not valid JSON (${e.message})`);
      else problems.push(`config file ${filePath}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  const fromEnv: Record<string, unknown> = {};
  for (const [name, { key, parse }] of Object.entries(ENV_KEYS)) {
    const v = env[name];
    if (v !== undefined && v !== '') fromEnv[key] = parse(v);
  }

  // The JWT key may come from the environment while the rest of `jwt` is in the file.
  const jwtFromEnv = {
    ...(env.PARLEY_JWT_SECRET ? { secret: env.PARLEY_JWT_SECRET } : {}),
    ...(env.PARLEY_JWT_PUBLIC_KEY ? { publicKey: env.PARLEY_JWT_PUBLIC_KEY } : {}),
  };
  if (Object.keys(jwtFromEnv).length > 0) fromEnv.jwt = { ...(isObject(fromFile.jwt) ? fromFile.jwt : {}), ...jwtFromEnv };

  const merged: Record<string, unknown> = { ...fromFile, ...fromEnv, ...options.overrides };
  for (const err of Value.Errors(ConfigFileSchema, merged)) {
    const key = err.path.replace(/^\//, '').replaceAll('/', '.') || '(root)';
    const top = key.split('.')[0] ?? key;
    const envName = Object.entries(ENV_KEYS).find(([, v]) => v.key === top)?.[0];
    const where =
      options.overrides && top in options.overrides
        ? options.overridesFrom
          ? ` (from ${options.overridesFrom})`
          : ''
        : envName && top in fromEnv
          ? ` (from ${envName})`
          : top in fromFile
            ? ` (in ${filePath})`
            : '';
    // Secrets and keys are never echoed into logs.
    const shown = err.value !== undefined && !/(^|\.)(secret|publicKey|metricsToken)$/.test(key);
    const choices = literalChoices(err.schema);
    const message = choices ? `must be one of ${choices.join(', ')}` : top === key && !(top in ConfigFileSchema.properties) ? 'unknown setting (see docs/configuration.md)' : err.message;
    problems.push(`${key}${where}: ${message}${shown ? ` (got ${JSON.stringify(err.value)})` : ''}`);
  }
  const jwt = isObject(merged.jwt) && !problems.some((p) => p.startsWith('jwt')) ? resolveJwtSettings(merged.jwt as NonNullable<ConfigFile['jwt']>) : null;
  if (jwt) problems.push(...jwt.problems);
  problems.push(...webhookConfigProblems(merged.webhooks));
  // Only once the schema's http(s) check passed, so a bad value is reported once.
  const publicUrl = typeof merged.publicUrl === 'string' && /^https?:\/\//.test(merged.publicUrl) ? normalizePublicUrl(merged.publicUrl) : null;
  if (publicUrl && 'problem' in publicUrl) problems.push(`publicUrl${'publicUrl' in fromEnv ? ' (from PARLEY_PUBLIC_URL)' : ''}: ${publicUrl.problem} (got ${JSON.stringify(merged.publicUrl)})`);
  problems.push(...originProblems(merged.allowedOrigins));
  if (problems.length > 0) throw new ConfigError([...new Set(problems)]);
  const c = merged as ConfigFile;

  const sources: Record<string, string> = {};
  for (const key of Object.keys(fromFile)) sources[key] = filePath;
  for (const key of Object.keys(fromEnv)) sources[key] = Object.entries(ENV_KEYS).find(([, v]) => v.key === key)?.[0] ?? 'environment';
  for (const key of Object.keys(options.overrides ?? {})) sources[key] = options.overridesFrom ?? 'code';

  const dataDir = resolve(cwd, c.dataDir ?? './data');
  const databaseUrl = c.databaseUrl ?? `sqlite:${join(dataDir, 'parley.sqlite3')}`;
  const websocketPath = c.websocketPath ?? 'messaging/';
  const config: ParleyConfig = {
    port: c.port ?? 3000,
    host: c.host ?? '127.0.0.1',
    dataDir,
    databaseUrl,
    redisUrl: c.redisUrl ?? null,
    secret: c.secret ?? secretIn(dataDir, databaseUrl, sources.dataDir ?? 'default'),
    logLevel: c.logLevel ?? 'info',
    registrationEnabled: c.registrationEnabled ?? true,
    builtInAccounts: c.builtInAccounts ?? true,
    jwt: jwt?.settings ?? null,
    demoPage: c.demoPage ?? true,
    allowedOrigins: c.allowedOrigins ?? [],
    publicUrl: publicUrl && 'url' in publicUrl ? publicUrl.url : null,
    bodyLimit: c.bodyLimit ?? 1024 * 1024,
    trustProxy: c.trustProxy ?? false,
    requestTimeoutSeconds: c.requestTimeoutSeconds ?? 60,
    loginThrottle: c.loginThrottle === undefined ? DEFAULT_LOGIN_THROTTLE : c.loginThrottle,
    passwordHashCost: c.passwordHashCost ?? 17,
    sessionTtlDays: c.sessionTtlDays ?? 30,
    inactivityThreshold: c.inactivityThreshold ?? 60,
    websocketPath,
    eventRetentionHours: c.eventRetentionHours ?? 72,
    typingTimeoutSeconds: c.typingTimeoutSeconds ?? 6,
    maxConnectionsPerUser: c.maxConnectionsPerUser ?? 100,
    transport: c.transport ?? 'websocket',
    messagesPerPage: c.messagesPerPage ?? 50,
    chatsPerPage: c.chatsPerPage ?? 10,
    webhooks: c.webhooks ?? [],
    webhookMaxAttempts: c.webhookMaxAttempts ?? 8,
    webhookTimeoutMs: c.webhookTimeoutMs ?? 10_000,
    uploads: {
      maxBytes: c.uploads?.maxBytes ?? 10 * 1024 * 1024,
      allowedTypes: c.uploads?.allowedTypes ?? [...DEFAULT_ALLOWED_TYPES],
      urlTtlSeconds: c.uploads?.urlTtlSeconds ?? 300,
      unattachedTtlHours: c.uploads?.unattachedTtlHours ?? 24,
    },
    sendRateLimit: c.sendRateLimit ?? null,
    uploadRateLimit: c.uploadRateLimit ?? null,
    metadataSchema: c.metadataSchema ?? null,
    metrics: { enabled: c.metrics ?? c.metricsToken !== undefined, token: c.metricsToken ?? null },
    shutdownTimeoutSeconds: c.shutdownTimeoutSeconds ?? 10,
    core: {
      ...pick(c, [
        'messageSoftDelete',
        'enableNotification',
        'allowedRecipients',
        'enableDms',
        'enableChatRooms',
        'showDeletedMessageIndicators',
        'allowRenamingChatRooms',
        'allowRenamingDms',
        'allowEditingOwnMessages',
        'allowDeletingOwnMessages',
        'allowAddingReactions',
        'messageMaxLength',
        'maxMembers',
      ]),
      ...options.hooks,
    },
  };
  configSources.set(config, sources);
  return config;
}

const configSources = new WeakMap<ParleyConfig, Record<string, string>>();

/**
 * Where a setting of a loaded configuration came from, for messages that name it: an
 * environment variable ("PORT"), the config file's path, the `overridesFrom` label, or "default".
 */
export function settingSource(config: ParleyConfig, key: keyof ConfigFile): string {
  return configSources.get(config)?.[key] ?? 'default';
}

/** The allowed values when a schema is a choice between literals (`logLevel`, `transport`). */
function literalChoices(schema: unknown): string[] | null {
  const anyOf = (schema as { anyOf?: unknown } | null)?.anyOf;
  if (!Array.isArray(anyOf) || anyOf.length === 0) return null;
  const values = anyOf.map((s) => (s as { const?: unknown }).const);
  return values.every((v) => typeof v === 'string') ? (values as string[]) : null;
}

/**
 * `allowedOrigins` entries are compared with the browser's `Origin` header byte for byte, so
 * each must be exactly an origin (`https://app.example.com`, no path or trailing slash), or "*".
 */
function originProblems(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  const problems: string[] = [];
  for (const entry of value) {
    if (typeof entry !== 'string' || entry === '*') continue;
    let origin: string | null = null;
    try {
      const u = new URL(entry);
      origin = u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : null;
    } catch {
      origin = null;
    }
    if (origin !== entry) {
      const hint = origin ? ` (did you mean ${JSON.stringify(origin)}?)` : ' (write scheme://host[:port], e.g. "https://app.example.com")';
      problems.push(`allowedOrigins: ${JSON.stringify(entry)} is not an origin${hint}`);
    }
  }
  return problems;
}

function pick<K extends keyof ConfigFile>(c: ConfigFile, keys: readonly K[]): Partial<Pick<ConfigFile, K>> {
  const out: Partial<Pick<ConfigFile, K>> = {};
  for (const k of keys) if (c[k] !== undefined) out[k] = c[k];
  return out;
}

/**
 * Without PARLEY_SECRET, a random secret is made once and kept in the data directory, so
 * restarts keep it. For an in-memory database a fresh one per process is enough.
 */
function persistentSecret(dataDir: string, databaseUrl: string): string {
  if (databaseUrl.includes(':memory:')) return randomBytes(32).toString('base64url');
  const file = join(dataDir, 'secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/** `persistentSecret`, with a data directory it cannot write reported as a configuration problem. */
function secretIn(dataDir: string, databaseUrl: string, source: string): string {
  try {
    return persistentSecret(dataDir, databaseUrl);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'string') throw e;
    const from = source === 'default' ? 'default ./data' : `from ${source}`;
    throw new ConfigError([
      `dataDir (${from}): cannot write ${dataDir} (${code}: ${(e as Error).message.replace(/^[A-Z]+: /, '')}); set PARLEY_DATA_DIR (or dataDir) to a writable directory, or PARLEY_SECRET`,
    ]);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

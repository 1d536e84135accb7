import { Value } from '@sinclair/typebox/value';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CoreSettings } from '../core/index.js';
import { type ConfigFile, ConfigFileSchema } from './schema.js';

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
  demoPage: boolean;
  allowedOrigins: string[];
  bodyLimit: number;
  sessionTtlDays: number;
  inactivityThreshold: number;
  websocketPath: string;
  eventRetentionHours: number;
  typingTimeoutSeconds: number;
  transport: 'websocket' | 'polling';
  messagesPerPage: number;
  chatsPerPage: number;
  /** The settings handed to the core (flags plus the replaceable functions). */
  core: Partial<CoreSettings>;
}

/** Functions can only come from code, never from a JSON file or the environment. */
export type ConfigHooks = Partial<Pick<CoreSettings, 'canContact' | 'displayName' | 'avatarUrl'>>;

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
  PARLEY_ALLOWED_ORIGINS: { key: 'allowedOrigins', parse: (v) => v.split(',').map((s) => s.trim()).filter(Boolean) },
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
  if (explicit || existsSync(filePath)) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(filePath, 'utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) problems.push(`${filePath}: expected a JSON object`);
      else fromFile = parsed as Record<string, unknown>;
    } catch (e) {
      problems.push(`${filePath}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  const fromEnv: Record<string, unknown> = {};
  for (const [name, { key, parse }] of Object.entries(ENV_KEYS)) {
    const v = env[name];
    if (v !== undefined && v !== '') fromEnv[key] = parse(v);
  }

  const merged: Record<string, unknown> = { ...fromFile, ...fromEnv, ...options.overrides };
  for (const err of Value.Errors(ConfigFileSchema, merged)) {
    const key = err.path.replace(/^\//, '').replaceAll('/', '.') || '(root)';
    const top = key.split('.')[0] ?? key;
    const envName = Object.entries(ENV_KEYS).find(([, v]) => v.key === top)?.[0];
    const where = envName && top in fromEnv ? ` (from ${envName})` : '';
    problems.push(`${key}${where}: ${err.message}${err.value !== undefined ? ` (got ${JSON.stringify(err.value)})` : ''}`);
  }
  if (problems.length > 0) throw new ConfigError([...new Set(problems)]);
  const c = merged as ConfigFile;

  const dataDir = resolve(cwd, c.dataDir ?? './data');
  const databaseUrl = c.databaseUrl ?? `sqlite:${join(dataDir, 'parley.sqlite3')}`;
  const websocketPath = c.websocketPath ?? 'messaging/';
  return {
    port: c.port ?? 3000,
    host: c.host ?? '127.0.0.1',
    dataDir,
    databaseUrl,
    redisUrl: c.redisUrl ?? null,
    secret: c.secret ?? persistentSecret(dataDir, databaseUrl),
    logLevel: c.logLevel ?? 'info',
    registrationEnabled: c.registrationEnabled ?? true,
    demoPage: c.demoPage ?? true,
    allowedOrigins: c.allowedOrigins ?? [],
    bodyLimit: c.bodyLimit ?? 1024 * 1024,
    sessionTtlDays: c.sessionTtlDays ?? 30,
    inactivityThreshold: c.inactivityThreshold ?? 60,
    websocketPath,
    eventRetentionHours: c.eventRetentionHours ?? 72,
    typingTimeoutSeconds: c.typingTimeoutSeconds ?? 6,
    transport: c.transport ?? 'websocket',
    messagesPerPage: c.messagesPerPage ?? 50,
    chatsPerPage: c.chatsPerPage ?? 10,
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

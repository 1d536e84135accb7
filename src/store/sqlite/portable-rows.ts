import type Database from 'better-sqlite3';
import type { PortableRow, PortableTable, PortableValue, TokenInfo } from '../../core/ports/store.js';
import { PORTABLE_SHAPES, type PortableKind } from '../portable-tables.js';

type Db = Database.Database;

// Table and column names come from PORTABLE_SHAPES only, never from input.
const shapeOf = (table: PortableTable) => PORTABLE_SHAPES[table];

function toPortable(kind: PortableKind, v: unknown): PortableValue {
  if (v === null || v === undefined) return null;
  switch (kind) {
    case 'int':
      return Number(v);
    case 'bool':
      return v !== 0;
    case 'time':
      return new Date(Number(v)).toISOString();
    case 'json':
      return JSON.parse(String(v)) as PortableValue;
    default:
      return String(v);
  }
}

function fromPortable(kind: PortableKind, v: PortableValue | undefined): unknown {
  if (v === null || v === undefined) return null;
  switch (kind) {
    case 'bool':
      return v ? 1 : 0;
    case 'time':
      return Date.parse(String(v));
    case 'json':
      return JSON.stringify(v);
    default:
      return v;
  }
}

export function sqliteCountRows(db: Db, table: PortableTable): number {
  return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
}

export function sqliteExportRows(db: Db, table: PortableTable, after: PortableRow | null, limit: number): PortableRow[] {
  const { key, columns } = shapeOf(table);
  const names = Object.keys(columns);
  const where = after ? `WHERE (${key.join(', ')}) > (${key.map(() => '?').join(', ')})` : '';
  const keyValues = after ? key.map((k) => fromPortable(columns[k] ?? 'text', after[k])) : [];
  const rows = db
    .prepare(`SELECT ${names.join(', ')} FROM ${table} ${where} ORDER BY ${key.join(', ')} LIMIT ?`)
    .all(...keyValues, limit) as Record<string, unknown>[];
  return rows.map((r) => Object.fromEntries(names.map((n) => [n, toPortable(columns[n] ?? 'text', r[n])])));
}

export function sqliteImportRows(db: Db, table: PortableTable, rows: readonly PortableRow[]): number {
  const { columns } = shapeOf(table);
  const names = Object.keys(columns);
  // SQLite keeps the lower-cased username for its case-insensitive unique index.
  const extra = table === 'users' ? ['username_lower'] : [];
  const insert = db.prepare(`INSERT INTO ${table} (${[...names, ...extra].join(', ')}) VALUES (${[...names, ...extra].map(() => '?').join(', ')})`);
  const all = db.transaction(() => {
    for (const row of rows) {
      const values = names.map((n) => fromPortable(columns[n] ?? 'text', row[n]));
      if (table === 'users') values.push(String(row.username).toLowerCase());
      insert.run(...values);
    }
  });
  all();
  return rows.length;
}

type TokenDbRow = { token_hash: string; user_id: number; kind: 'api' | 'session'; created_at: number; expires_at: number | null };

export function sqliteTokenInfo(db: Db, tokenHash: string): TokenInfo | null {
  const row = db.prepare('SELECT token_hash, user_id, kind, created_at, expires_at FROM auth_tokens WHERE token_hash = ?').get(tokenHash) as TokenDbRow | undefined;
  return row ? toTokenInfo(row) : null;
}

export function sqliteListTokens(db: Db, userId: number | null): TokenInfo[] {
  const rows = db
    .prepare(`SELECT token_hash, user_id, kind, created_at, expires_at FROM auth_tokens ${userId === null ? '' : 'WHERE user_id = ?'} ORDER BY created_at, token_hash`)
    .all(...(userId === null ? [] : [userId])) as TokenDbRow[];
  return rows.map(toTokenInfo);
}

function toTokenInfo(r: TokenDbRow): TokenInfo {
  return {
    tokenHash: r.token_hash,
    userId: r.user_id,
    kind: r.kind,
    createdAt: new Date(r.created_at),
    expiresAt: r.expires_at === null ? null : new Date(r.expires_at),
  };
}

import type pg from 'pg';
import type { PortableRow, PortableTable, PortableValue, TokenInfo } from '../../core/ports/store.js';
import { PORTABLE_SHAPES, type PortableKind } from '../portable-tables.js';

type Db = pg.Pool | pg.PoolClient;

// Table and column names come from PORTABLE_SHAPES only, never from input.
const shapeOf = (table: PortableTable) => PORTABLE_SHAPES[table];

function toPortable(kind: PortableKind, v: unknown): PortableValue {
  if (v === null || v === undefined) return null;
  switch (kind) {
    case 'int':
      return Number(v);
    case 'bool':
      return Boolean(v);
    case 'time':
      return (v instanceof Date ? v : new Date(String(v))).toISOString();
    case 'json':
      return v as PortableValue;
    default:
      return String(v);
  }
}

function fromPortable(kind: PortableKind, v: PortableValue | undefined): unknown {
  if (v === null || v === undefined) return null;
  // JSON as text: the driver would send a JavaScript array as a PostgreSQL array.
  return kind === 'json' ? JSON.stringify(v) : v;
}

const cast = (kind: PortableKind): string => (kind === 'json' ? '::jsonb' : kind === 'time' ? '::timestamptz' : '');

export async function pgCountRows(db: Db, table: PortableTable): Promise<number> {
  return Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]?.n ?? 0);
}

export async function pgExportRows(db: Db, table: PortableTable, after: PortableRow | null, limit: number): Promise<PortableRow[]> {
  const { key, columns } = shapeOf(table);
  const names = Object.keys(columns);
  const keyValues = after ? key.map((k) => fromPortable(columns[k] ?? 'text', after[k])) : [];
  const where = after ? `WHERE (${key.join(', ')}) > (${key.map((k, i) => `$${i + 1}${cast(columns[k] ?? 'text')}`).join(', ')})` : '';
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT ${names.join(', ')} FROM ${table} ${where} ORDER BY ${key.join(', ')} LIMIT $${keyValues.length + 1}`,
    [...keyValues, limit],
  );
  return rows.map((r) => Object.fromEntries(names.map((n) => [n, toPortable(columns[n] ?? 'text', r[n])])));
}

/** Inserts in statements of at most 500 rows, inside the caller's transaction. */
export async function pgImportRows(client: pg.PoolClient, table: PortableTable, rows: readonly PortableRow[]): Promise<number> {
  const { columns, identity } = shapeOf(table);
  const names = Object.keys(columns);
  for (let start = 0; start < rows.length; start += 500) {
    const chunk = rows.slice(start, start + 500);
    const values: unknown[] = [];
    const tuples = chunk.map((row) => {
      const slots = names.map((n) => {
        values.push(fromPortable(columns[n] ?? 'text', row[n]));
        return `$${values.length}${cast(columns[n] ?? 'text')}`;
      });
      return `(${slots.join(', ')})`;
    });
    await client.query(`INSERT INTO ${table} (${names.join(', ')}) ${identity ? 'OVERRIDING SYSTEM VALUE' : ''} VALUES ${tuples.join(', ')}`, values);
  }
  return rows.length;
}

/** Identity columns continue after the highest imported id. */
export async function pgFinishImport(db: Db): Promise<void> {
  for (const [table, shape] of Object.entries(PORTABLE_SHAPES)) {
    if (!shape.identity) continue;
    await db.query(`SELECT setval(pg_get_serial_sequence('${table}', 'id'), coalesce((SELECT max(id) FROM ${table}), 0) + 1, false)`);
  }
}

export async function pgListTokens(db: Db, userId: number | null): Promise<TokenInfo[]> {
  const { rows } = await db.query<{ token_hash: string; user_id: number; kind: 'api' | 'session'; created_at: Date; expires_at: Date | null }>(
    `SELECT token_hash, user_id, kind, created_at, expires_at FROM auth_tokens ${userId === null ? '' : 'WHERE user_id = $1'} ORDER BY created_at, token_hash`,
    userId === null ? [] : [userId],
  );
  return rows.map((r) => ({ tokenHash: r.token_hash, userId: Number(r.user_id), kind: r.kind, createdAt: r.created_at, expiresAt: r.expires_at }));
}

export async function pgTokenInfo(db: Db, tokenHash: string): Promise<TokenInfo | null> {
  const { rows } = await db.query<{ token_hash: string; user_id: number; kind: 'api' | 'session'; created_at: Date; expires_at: Date | null }>(
    'SELECT token_hash, user_id, kind, created_at, expires_at FROM auth_tokens WHERE token_hash = $1',
    [tokenHash],
  );
  const r = rows[0];
  return r ? { tokenHash: r.token_hash, userId: Number(r.user_id), kind: r.kind, createdAt: r.created_at, expiresAt: r.expires_at } : null;
}

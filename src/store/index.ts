import { ParleyError } from '../core/errors.js';
import type { Store } from '../core/ports/store.js';
import { openPostgresStore } from './postgres/postgres-store.js';
import { openSqliteStore } from './sqlite/sqlite-store.js';

export { openPostgresStore, type PostgresStoreOptions } from './postgres/postgres-store.js';
export { openSqliteStore } from './sqlite/sqlite-store.js';

/**
 * Opens the store a `DATABASE_URL` names: `sqlite:<path>` / a bare path / `:memory:` for
 * SQLite, `postgres://…` / `postgresql://…` for PostgreSQL (tables in the server's default
 * schema; call `migrate()` before use either way).
 */
export function openStore(databaseUrl: string): Store {
  if (databaseUrl === ':memory:' || databaseUrl === 'sqlite::memory:') return openSqliteStore({ filename: ':memory:' });
  if (databaseUrl.startsWith('sqlite:')) return openSqliteStore({ filename: databaseUrl.slice('sqlite:'.length).replace(/^\/\//, '') });
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) return openPostgresStore({ connectionString: databaseUrl });
  if (/^[a-z]+:\/\//i.test(databaseUrl)) {
    throw new ParleyError('validation', `Unsupported DATABASE_URL scheme: ${databaseUrl.split(':')[0]}`, {
      DATABASE_URL: ['unsupported scheme'],
    });
  }
  return openSqliteStore({ filename: databaseUrl });
}

import { ParleyError } from '../core/errors.js';
import type { Store } from '../core/ports/store.js';
import { type PostgresStoreOptions, openPostgresStore } from './postgres/postgres-store.js';
import { openSqliteStore } from './sqlite/sqlite-store.js';

export { openPostgresStore, type PostgresStoreOptions } from './postgres/postgres-store.js';
export { openSqliteStore } from './sqlite/sqlite-store.js';

/**
 * Opens the store a `DATABASE_URL` names: `sqlite:<path>` / a bare path / `:memory:` for
 * SQLite, `postgres://…` / `postgresql://…` for PostgreSQL (call `migrate()` before use
 * either way).
 *
 * A PostgreSQL URL may carry two Parley options as query parameters, taken out of the URL
 * before it reaches the driver:
 * - `schema=NAME`: the schema holding every table (created by `migrate()`); otherwise the
 *   server's default (`search_path`).
 * - `application_name=NAME`: how the connections show in `pg_stat_activity` (default `parley`).
 *
 * ```ts
 * openStore('postgres://parley:secret@db:5432/parley?schema=chat&application_name=parley-web-1');
 * ```
 */
export function openStore(databaseUrl: string): Store {
  if (databaseUrl === ':memory:' || databaseUrl === 'sqlite::memory:') return openSqliteStore({ filename: ':memory:' });
  if (databaseUrl.startsWith('sqlite:')) return openSqliteStore({ filename: databaseUrl.slice('sqlite:'.length).replace(/^\/\//, '') });
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) return openPostgresStore(postgresOptions(databaseUrl));
  if (/^[a-z]+:\/\//i.test(databaseUrl)) {
    throw new ParleyError('validation', `Unsupported DATABASE_URL scheme: ${databaseUrl.split(':')[0]}`, {
      DATABASE_URL: ['unsupported scheme'],
    });
  }
  return openSqliteStore({ filename: databaseUrl });
}

/** Splits Parley's own query parameters off a PostgreSQL URL; the rest goes to the driver as is. */
function postgresOptions(databaseUrl: string): PostgresStoreOptions {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    // Not parsable as a WHATWG URL (some libpq forms are not): the driver gets it untouched.
    return { connectionString: databaseUrl };
  }
  const schema = url.searchParams.get('schema');
  const applicationName = url.searchParams.get('application_name');
  if (schema === null && applicationName === null) return { connectionString: databaseUrl };
  url.searchParams.delete('schema');
  url.searchParams.delete('application_name');
  return {
    connectionString: url.toString(),
    ...(schema !== null && schema !== '' ? { schema } : {}),
    ...(applicationName !== null && applicationName !== '' ? { applicationName } : {}),
  };
}

import { type ParleyConfig, settingSource } from '../config/index.js';

/**
 * Turns what can go wrong while `parley serve` starts (and while other commands open the
 * database) into one or two lines: the setting, where it came from, the bad value, the fix.
 * Returns null for errors it does not know; those are printed as they are.
 */
export function explainStartupError(err: unknown, config: ParleyConfig): string | null {
  const from = (key: Parameters<typeof settingSource>[1]): string => {
    const source = settingSource(config, key);
    return source === 'default' ? 'default' : `from ${source}`;
  };
  const e = driverError(err);
  const code = typeof e.code === 'string' ? e.code : '';
  const syscall = typeof e.syscall === 'string' ? e.syscall : '';

  if (syscall === 'listen' || code === 'EADDRINUSE') {
    const where = `${config.host}:${config.port}`;
    if (code === 'EADDRINUSE') {
      return `port ${config.port} (${from('port')}) is already in use on ${config.host}: another process listens on ${where}.\nStop it, or choose a free port: --port 3001 or PORT=3001.`;
    }
    if (code === 'EACCES') return `port ${config.port} (${from('port')}) needs privileges to listen on ${where}.\nUse a port above 1023 (--port 3000 or PORT=3000), or a reverse proxy on port ${config.port}.`;
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return `host ${config.host} (${from('host')}) is not an address of this machine (${code}).\nUse 127.0.0.1, 0.0.0.0 (every interface) or one of this machine's addresses: --host or HOST.`;
  }

  if (/^postgres(ql)?:/.test(config.databaseUrl)) {
    const url = safeUrl(config.databaseUrl);
    const target = url ? `${url.hostname || 'localhost'}:${url.port || '5432'}` : 'the configured server';
    const database = url ? decodeURIComponent(url.pathname.replace(/^\//, '')) || (url.username || 'postgres') : '';
    const shown = `DATABASE_URL (${from('databaseUrl')})`;
    if (code === '3D000') return `${shown}: database "${database}" does not exist on PostgreSQL at ${target}.\nCreate it (createdb -h ${url?.hostname || 'localhost'} -p ${url?.port || '5432'} ${database}) or point DATABASE_URL at an existing database.`;
    if (code === '28P01' || code === '28000') return `${shown}: PostgreSQL at ${target} refused user "${url?.username ?? ''}" (${String(e.message ?? code)}).\nFix the user and password in DATABASE_URL.`;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'ETIMEDOUT' || code === 'EAI_AGAIN' || /timeout|terminated/i.test(String(e.message ?? ''))) {
      const cause = code === 'ECONNREFUSED' ? 'connection refused: nothing listens there' : code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'unknown host' : String(e.message ?? code);
      return `${shown}: cannot reach PostgreSQL at ${target} (${cause}).\nCheck the host and port in DATABASE_URL and that PostgreSQL is running.`;
    }
  } else if (code === 'SQLITE_CANTOPEN' || ['ENOTDIR', 'EACCES', 'EROFS', 'EEXIST', 'ENOENT', 'EPERM'].includes(code)) {
    const path = typeof e.path === 'string' ? e.path : config.databaseUrl.replace(/^sqlite:/, '');
    const setting = settingSource(config, 'databaseUrl') !== 'default' ? `DATABASE_URL (${from('databaseUrl')})` : `the data directory ${config.dataDir} (dataDir, ${from('dataDir')})`;
    return `${setting}: cannot create or open the SQLite database at ${path} (${code}: ${String(e.message ?? '').replace(/^[A-Z_]+: /, '')}).\nSet PARLEY_DATA_DIR (or DATABASE_URL=sqlite:<path>) to a directory Parley can write.`;
  }
  if (code === 'ECONNREFUSED' && config.redisUrl) {
    return `REDIS_URL (${from('redisUrl')}): cannot reach Redis at ${config.redisUrl} (connection refused).\nStart Redis or fix REDIS_URL; leave it unset for a single process.`;
  }
  return null;
}

interface DriverError {
  code?: unknown;
  syscall?: unknown;
  path?: unknown;
  message?: unknown;
}

/** The driver's own error under Parley's wrappers (`cause`), and under an AggregateError's first. */
function driverError(err: unknown): DriverError {
  let e = err as DriverError & { cause?: unknown; errors?: unknown };
  for (let depth = 0; depth < 5 && e && typeof e === 'object'; depth++) {
    if (typeof e.code === 'string' && !['unavailable', 'validation'].includes(e.code)) return e;
    if (Array.isArray(e.errors) && e.errors.length > 0) e = e.errors[0] as typeof e;
    else if (e.cause) e = e.cause as typeof e;
    else break;
  }
  return (e ?? {}) as DriverError;
}

function safeUrl(text: string): URL | null {
  try {
    return new URL(text);
  } catch {
    return null;
  }
}

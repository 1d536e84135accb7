import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import net from 'node:net';

/**
 * Open file descriptors of this process (the server runs in it), not counting connections to
 * PostgreSQL (5432) and Redis (6379): their pools grow to their bounded size on demand, which
 * is not a leak.
 */
export function openFds(): number {
  const pooled = servicesSockets();
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    let target = '';
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    if (!pooled.has(target)) n += 1;
  }
  return n;
}

/** `socket:[inode]` of every TCP connection to PostgreSQL or Redis. */
function servicesSockets(): Set<string> {
  const out = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const remotePort = parseInt((cols[2] ?? '').split(':')[1] ?? '', 16);
      if (remotePort === 5432 || remotePort === 6379) out.add(`socket:[${cols[9]}]`);
    }
  }
  return out;
}

/** What each open descriptor points at (`socket:[…]`, a path…), for a failure message. */
export function fdTargets(): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      out.push(readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      /* closed meanwhile */
    }
  }
  return out.sort();
}

/** Heap in use after a full collection when the process runs with --expose-gc (MiB). */
export function heapMiB(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

/** Resources of the process, to compare before and after an attack. */
export interface Snapshot {
  fds: number;
  heapMiB: number;
}

export const snapshot = (): Snapshot => ({ fds: openFds(), heapMiB: heapMiB() });

/**
 * Waits until open descriptors are back to `baseline + slack` (sockets close asynchronously),
 * at most `timeoutMs`; returns the last count.
 */
export async function fdsSettle(baseline: number, slack: number, timeoutMs = 10_000): Promise<number> {
  const end = Date.now() + timeoutMs;
  let n = openFds();
  while (n > baseline + slack && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    n = openFds();
  }
  return n;
}

/** What a raw HTTP exchange came to: the status line's code, or how it ended without one. */
export interface RawOutcome {
  status: number | null;
  /** 'answered', 'closed' (by the server, without an answer), or 'hung' (nothing within the bound). */
  end: 'answered' | 'closed' | 'hung';
  text: string;
}

/**
 * Sends bytes on a fresh connection (optionally in parts, `pauseMs` apart) and waits for the
 * first response, at most `boundMs`, then closes the connection.
 */
export function rawExchange(port: number, parts: (string | Buffer)[], boundMs: number, pauseMs = 0): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    let settled = false;
    const finish = (end: RawOutcome['end']) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : null, end: m ? 'answered' : end, text });
    };
    const timer = setTimeout(() => finish('hung'), boundMs);
    socket.on('data', (d) => {
      text += d.toString('latin1');
      if (/\r\n\r\n/.test(text)) finish('answered');
    });
    socket.on('close', () => finish('closed'));
    socket.on('error', () => finish('closed'));
    socket.on('connect', async () => {
      for (const [i, p] of parts.entries()) {
        if (i > 0 && pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
        if (!socket.destroyed) socket.write(p);
      }
    });
  });
}

/** A multipart upload request as bytes; `truncate` leaves off the closing boundary. */
export function multipartRequest(token: string, opts: { truncate?: boolean; boundary?: string | null; name?: string } = {}): string {
  const boundary = opts.boundary === undefined ? 'XbOuNdArY' : opts.boundary;
  const b = boundary ?? 'XbOuNdArY';
  const part = `--${b}\r\nContent-Disposition: form-data; name="file"; filename="${opts.name ?? 'a.txt'}"\r\nContent-Type: text/plain\r\n\r\nhello world`;
  const body = opts.truncate ? part : `${part}\r\n--${b}--\r\n`;
  const type = boundary === null ? 'multipart/form-data' : `multipart/form-data; boundary=${b}`;
  return `POST /messages/api/uploads/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token ${token}\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/** The `.tmp-*` files left under a directory. */
export function tempFiles(dir: string): string[] {
  try {
    return (readdirSync(dir, { recursive: true }) as string[]).filter((p) => p.split('/').pop()?.startsWith('.tmp-'));
  } catch {
    return [];
  }
}

/** Resolves `p`, or `'hung'` after `ms`. */
export function within<T>(p: Promise<T>, ms: number): Promise<T | 'hung'> {
  return Promise.race([p, new Promise<'hung'>((r) => setTimeout(() => r('hung'), ms).unref())]);
}

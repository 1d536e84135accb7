import { WebSocket } from 'ws';
import type { Res, TestServer, TestUser } from './harness.js';
import { API } from './rest-fixtures.js';

/** Helpers shared by the live-*.test.ts black-box tests (`/messages/ws/`, long-poll, SSE). */

export const EVENTS = `${API}/events/`;
const DEFAULT_WAIT_MS = 10_000;

/**
 * Items arriving over time (frames of a socket, events of a stream). `until` waits, bounded,
 * for a predicate over everything received so far; it never sleeps blindly.
 */
export class Collector<T> {
  readonly items: T[] = [];
  private waiters = new Set<() => void>();
  private ended: string | null = null;

  push(item: T): void {
    this.items.push(item);
    for (const w of [...this.waiters]) w();
  }

  /** No more items will come (the connection closed). Pending waits fail at once. */
  end(why: string): void {
    this.ended = why;
    for (const w of [...this.waiters]) w();
  }

  get isEnded(): boolean {
    return this.ended !== null;
  }

  /** Resolves with the items once `pred(items)` holds; rejects after `timeoutMs`. */
  until(pred: (items: readonly T[]) => boolean, what = 'condition', timeoutMs = DEFAULT_WAIT_MS): Promise<readonly T[]> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (pred(this.items)) {
          done();
          resolve(this.items);
        } else if (this.ended !== null) {
          done();
          reject(new Error(`${what}: connection ended (${this.ended}) after ${this.items.length} items: ${this.show()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${what}; got ${this.items.length} items: ${this.show()}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** The first item at index ≥ `from` that matches, waiting for it if needed. */
  async next(match: (item: T) => boolean, what = 'item', from = 0, timeoutMs = DEFAULT_WAIT_MS): Promise<T> {
    const found = () => this.items.slice(from).find(match);
    await this.until(() => found() !== undefined, what, timeoutMs);
    return found() as T;
  }

  private show(): string {
    return JSON.stringify(this.items.slice(-10)).slice(0, 2000);
  }
}

// ── /messages/ws/ ──────────────────────────────────────────────────────────

export interface WsClient {
  ws: WebSocket;
  frames: Collector<any>;
  /** Resolves with the close code once the socket closes. */
  closed: Promise<number>;
  send(frame: unknown): void;
  /** The first frame of `type` (and matching `match`) at or after index `from`. */
  next(type: string, match?: (f: any) => boolean, from?: number): Promise<any>;
  close(): Promise<void>;
}

export function wsUrl(s: TestServer, query: Record<string, string> = {}): string {
  const u = new URL('/messages/ws/', s.url.replace(/^http/, 'ws'));
  for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
  return u.toString();
}

/** Opens `/messages/ws/` as `user` (token in the query) and collects every frame. */
export function openWs(s: TestServer, user: TestUser | null, query: Record<string, string> = {}): WsClient {
  const ws = new WebSocket(wsUrl(s, user ? { token: user.token, ...query } : query));
  const frames = new Collector<any>();
  ws.on('message', (data) => frames.push(JSON.parse(data.toString())));
  const closed = new Promise<number>((resolve) => {
    ws.on('close', (code) => {
      frames.end(`closed ${code}`);
      resolve(code);
    });
  });
  ws.on('error', () => {});
  const opened = new Promise<void>((resolve) => (ws.readyState === ws.OPEN ? resolve() : ws.once('open', () => resolve())));
  return {
    ws,
    frames,
    closed,
    send(frame) {
      void opened.then(() => ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)));
    },
    next: (type, match = () => true, from = 0) => frames.next((f) => f.type === type && match(f), `frame ${type}`, from),
    async close() {
      if (ws.readyState !== ws.CLOSED) {
        ws.close();
        await within(closed, 'the socket to close');
      }
    },
  };
}

/** Opens the socket and waits for `ready`. */
export async function connectWs(s: TestServer, user: TestUser, query: Record<string, string> = {}): Promise<WsClient> {
  const c = openWs(s, user, query);
  await c.next('ready');
  return c;
}

// ── long-poll ──────────────────────────────────────────────────────────────

export function pollUrl(query: { cursor?: string; timeout?: number } = {}): string {
  const q = new URLSearchParams();
  if (query.cursor !== undefined) q.set('cursor', query.cursor);
  if (query.timeout !== undefined) q.set('timeout', String(query.timeout));
  const qs = q.toString();
  return qs ? `${EVENTS}?${qs}` : EVENTS;
}

export const longPoll = (user: TestUser, query: { cursor?: string; timeout?: number } = {}): Promise<Res> => user.client.get(pollUrl(query));

/** The current cursor, from a long-poll without one. */
export async function headCursor(user: TestUser): Promise<string> {
  const r = await longPoll(user);
  if (r.status !== 200) throw new Error(`head cursor: ${r.status} ${r.text}`);
  return r.body.cursor;
}

/**
 * Polls from `cursor` until `pred` holds over all events collected, bounded by `maxPolls`.
 * Returns the events and the last cursor.
 */
export async function pollUntil(
  user: TestUser,
  cursor: string,
  pred: (events: readonly any[]) => boolean,
  maxPolls = 50,
): Promise<{ events: any[]; cursor: string; polls: number }> {
  const events: any[] = [];
  let polls = 0;
  while (!pred(events)) {
    if (++polls > maxPolls) throw new Error(`pollUntil: not done after ${maxPolls} polls; got ${events.length} events`);
    const r = await longPoll(user, { cursor, timeout: 5 });
    if (r.status !== 200 || r.body.resync) throw new Error(`poll: ${r.status} ${r.text}`);
    events.push(...r.body.events);
    cursor = r.body.cursor;
  }
  return { events, cursor, polls };
}

// ── SSE ────────────────────────────────────────────────────────────────────

export interface SseEvent {
  id: string | null;
  event: string;
  data: any;
}

export interface SseClient {
  status: number;
  headers: Headers;
  events: Collector<SseEvent>;
  /** Comment lines (`: ping`). */
  comments: Collector<string>;
  next(type: string, match?: (e: SseEvent) => boolean, from?: number): Promise<SseEvent>;
  close(): Promise<void>;
}

/** Opens the SSE stream with fetch and parses events as they arrive. */
export async function openSse(
  s: TestServer,
  user: TestUser,
  opts: { cursor?: string; lastEventId?: string } = {},
): Promise<SseClient> {
  const abort = new AbortController();
  const headers: Record<string, string> = { accept: 'text/event-stream', authorization: `Token ${user.token}` };
  if (opts.lastEventId !== undefined) headers['last-event-id'] = opts.lastEventId;
  const r = await fetch(s.url + pollUrl(opts.cursor !== undefined ? { cursor: opts.cursor } : {}), { headers, signal: abort.signal });
  const events = new Collector<SseEvent>();
  const comments = new Collector<string>();
  let reading: Promise<void> = Promise.resolve();
  if (r.body && (r.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
    reading = (async () => {
      let buf = '';
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let cut: number;
          while ((cut = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, cut);
            buf = buf.slice(cut + 2);
            const e: { id: string | null; event: string; data: string[] } = { id: null, event: 'message', data: [] };
            let isEvent = false;
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) comments.push(line.slice(1).trim());
              else {
                const colon = line.indexOf(':');
                const field = colon < 0 ? line : line.slice(0, colon);
                const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
                isEvent = true;
                if (field === 'id') e.id = val;
                else if (field === 'event') e.event = val;
                else if (field === 'data') e.data.push(val);
              }
            }
            if (isEvent) events.push({ id: e.id, event: e.event, data: JSON.parse(e.data.join('\n')) });
          }
        }
        events.end('stream ended');
      } catch (err) {
        events.end(`stream error: ${String(err)}`);
      }
    })();
  } else {
    events.end(`not a stream: ${r.status}`);
  }
  return {
    status: r.status,
    headers: r.headers,
    events,
    comments,
    next: (type, match = () => true, from = 0) => events.next((e) => e.event === type && match(e), `SSE ${type}`, from),
    async close() {
      abort.abort();
      await reading;
    },
  };
}

/** Waits, bounded, until `check()` holds (for server-side state such as open connections). */
export async function eventually(check: () => boolean, what: string, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Starts a long-poll and resolves once it is waiting on the server (registered with the hub),
 * so a test can then make the event happen and know it is delivered live, not replayed.
 */
export async function startPoll(s: TestServer, user: TestUser, cursor: string, timeout = 20): Promise<{ response: Promise<Res> }> {
  const before = s.app.hub.connectionsOf(user.id).size;
  const response = longPoll(user, { cursor, timeout });
  await eventually(() => s.app.hub.connectionsOf(user.id).size > before, 'the long-poll to be waiting');
  return { response };
}

/**
 * Sends `count` messages through the core (not HTTP), for tests that need more events than
 * one replay page holds. Returns their ids in order.
 */
export async function bulkSend(s: TestServer, sender: TestUser, chatId: number, count: number, prefix: string): Promise<number[]> {
  const actor = await s.app.core.users.get(sender.id);
  if (!actor) throw new Error('no such user');
  const ids: number[] = [];
  for (let i = 1; i <= count; i++) ids.push((await s.app.core.messages.send(actor, chatId, { content: `${prefix} ${i}` })).message.id);
  await s.app.hub.flush();
  return ids;
}

/** `promise`, or a rejection naming `what` after `timeoutMs`. */
export function within<T>(promise: Promise<T>, what: string, timeoutMs = DEFAULT_WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

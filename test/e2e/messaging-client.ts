import WebSocket from 'ws';
import type { TestServer } from './harness.js';

/**
 * A `/messaging/` test client over a real `ws` WebSocket. Every frame received is kept until
 * a test takes it with `next(pred)`, which waits (with a timeout) when none matches yet, so
 * tests never sleep blindly. To assert that a frame did NOT come, `settle()` first: it waits
 * for the hub to publish everything emitted so far and then round-trips a heartbeat, which
 * the server answers after any frame it already sent.
 */

export type Frame = Record<string, any>;
type Pred = (f: Frame) => boolean;

export const ev =
  (eventType: string, where: (data: any) => boolean = () => true): Pred =>
  (f) =>
    f.eventType === eventType && where(f.data);
export const isError = (code?: number): Pred => (f) => f.error !== undefined && (code === undefined || f.error.code === code);

const WAIT_MS = 5000;

export class Peer {
  /** Received and not taken yet, in arrival order. */
  readonly pending: Frame[] = [];
  private readonly waiters: { pred: Pred; resolve: (f: Frame) => void }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Frames taken by `open()`: `session.ready` and, when enabled, `chat.notifications`. */
  ready!: Frame;
  notifications: Frame | undefined;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.push(JSON.parse(data.toString()) as Frame));
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  private push(f: Frame): void {
    const i = this.waiters.findIndex((w) => w.pred(f));
    if (i >= 0) {
      const [w] = this.waiters.splice(i, 1);
      w?.resolve(f);
    } else {
      this.pending.push(f);
    }
  }

  /** Takes the first frame matching `pred`, waiting for it if needed. */
  next(pred: Pred, what = 'a matching frame', timeoutMs = WAIT_MS): Promise<Frame> {
    const i = this.pending.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.pending.splice(i, 1)[0] as Frame);
    return new Promise((resolve, reject) => {
      const waiter = {
        pred,
        resolve: (f: Frame) => {
          clearTimeout(timer);
          resolve(f);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`timed out waiting for ${what}; pending: ${JSON.stringify(this.pending)}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  event(eventType: string, where?: (data: any) => boolean): Promise<Frame> {
    return this.next(ev(eventType, where), eventType);
  }

  error(code?: number): Promise<Frame> {
    return this.next(isError(code), `error ${code ?? ''}`);
  }

  send(eventType: string, data: unknown): void {
    this.ws.send(JSON.stringify({ event_type: eventType, data }));
  }

  /** Sends an event and takes the first frame matching `pred` (the reply or an error). */
  async request(eventType: string, data: unknown, pred: Pred): Promise<Frame> {
    this.send(eventType, data);
    return this.next((f) => pred(f) || f.error !== undefined, `reply to ${eventType}`);
  }

  /** Sends an event that must fail; returns the error object. */
  async fail(eventType: string, data: unknown): Promise<{ code: number; detail: string }> {
    this.send(eventType, data);
    return (await this.error()).error;
  }

  async heartbeat(): Promise<void> {
    this.send('session.heartbeat', {});
    await this.next((f) => f.status === 'success', 'heartbeat reply');
  }

  /** Waits until every frame the server would send for what happened so far has arrived. */
  async settle(s: TestServer): Promise<void> {
    await s.app.hub.flush();
    await this.heartbeat();
  }

  /** Frames not taken yet, after `settle`. */
  async leftovers(s: TestServer): Promise<Frame[]> {
    await this.settle(s);
    return [...this.pending];
  }

  close(): void {
    this.ws.close();
  }
}

export interface ConnectOptions {
  token?: string | null;
  /** Query string without `token`, e.g. `cursor=...`. */
  query?: Record<string, string>;
  origin?: string;
  path?: string;
}

export function wsUrl(s: TestServer, o: ConnectOptions = {}): string {
  const q = new URLSearchParams(o.query ?? {});
  if (o.token) q.set('token', o.token);
  const qs = q.toString();
  return `${s.url.replace(/^http/, 'ws')}${o.path ?? '/messaging/'}${qs ? `?${qs}` : ''}`;
}

/**
 * Opens a raw socket; resolves once open, or rejects with the HTTP status of a refused
 * upgrade. `onCreate` runs before any frame can arrive (attach listeners there).
 */
export function openSocket(s: TestServer, o: ConnectOptions = {}, onCreate: (ws: WebSocket) => void = () => {}): Promise<WebSocket> {
  const ws = new WebSocket(wsUrl(s, o), o.origin ? { origin: o.origin } : {});
  onCreate(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode })));
    ws.once('error', reject);
  });
}

/** Connects and waits for `session.ready` (taking it and `chat.notifications`). */
export async function connect(s: TestServer, token: string, o: Omit<ConnectOptions, 'token'> = {}): Promise<Peer> {
  let peer!: Peer;
  await openSocket(s, { ...o, token }, (ws) => (peer = new Peer(ws)));
  peer.ready = await peer.event('session.ready');
  const i = peer.pending.findIndex(ev('chat.notifications'));
  if (i >= 0) peer.notifications = peer.pending.splice(i, 1)[0];
  return peer;
}

/** A clock tests move by hand: pass `now` to `startServer`, then `advance(ms)` and `s.app.sweep()`. */
export function manualClock(start = '2030-01-01T00:00:00.000Z') {
  let t = new Date(start).getTime();
  return {
    now: () => new Date(t),
    advance(ms: number) {
      t += ms;
    },
    get time() {
      return t;
    },
  };
}

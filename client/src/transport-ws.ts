import type { MessagesClientFrame, MessagesFrame } from '../../src/protocol/index.js';
import type { Transport, TransportSink } from './transport.js';

/**
 * The part of a WebSocket the SDK uses. The browser's `WebSocket` and the `ws` package's are
 * both assignable; the event handlers are typed loosely here because the two libraries type
 * their event objects differently.
 */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: unknown;
  onmessage: unknown;
  onclose: unknown;
  onerror: unknown;
}

/** A WebSocket constructor: `globalThis.WebSocket` in browsers, `WebSocket` from `ws` in Node 20. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface WebSocketTransportOptions {
  /** `ws(s)://…/messages/ws/` with the token, if any; the cursor is added per connection. */
  url: URL;
  WebSocket: WebSocketConstructor;
  /** A `ping` frame goes out after this long without traffic. */
  pingIntervalMs: number;
  /** With no frame at all this long after a ping, the connection counts as dead. */
  pongTimeoutMs: number;
}

const OPEN = 1;
/** Close codes after which reconnecting cannot help: the credentials were refused. */
const FATAL_CODES = new Set([4001, 4003]);
/** What the client uses when it gives up on a silent connection (4000–4999: application codes). */
export const CLOSE_DEAD = 4000;

/**
 * `/messages/ws/`: one WebSocket. Frames are parsed and handed to the sink; the client's
 * `ping` frames, answered by `pong`, detect a connection that died silently (a browser cannot
 * see the protocol-level pings the server sends).
 */
export class WebSocketTransport implements Transport {
  readonly name = 'websocket' as const;
  private ws: WebSocketLike | null = null;
  private opened = false;
  private done = false;
  private lastFrameAt = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private pingSentAt: number | null = null;

  constructor(
    private readonly o: WebSocketTransportOptions,
    private readonly sink: TransportSink,
  ) {}

  start(): void {
    const url = new URL(this.o.url.href);
    const cursor = this.sink.cursor();
    if (cursor !== null) url.searchParams.set('cursor', cursor);
    let ws: WebSocketLike;
    try {
      ws = new this.o.WebSocket(url.href);
    } catch {
      // A constructor can throw (a blocked URL, a bad scheme): treat it as a failed attempt,
      // reported asynchronously like every other end.
      queueMicrotask(() => this.finish({ opened: false, fatal: null }));
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.opened = true;
      this.lastFrameAt = Date.now();
      this.timer = setInterval(() => this.checkAlive(), Math.min(this.o.pingIntervalMs, this.o.pongTimeoutMs) / 2);
    };
    ws.onmessage = (e: { data: unknown }) => {
      this.lastFrameAt = Date.now();
      this.pingSentAt = null;
      if (typeof e.data === 'string') this.onFrame(e.data);
    };
    ws.onclose = (e: { code?: number }) => {
      const code = typeof e.code === 'number' ? e.code : 1006;
      this.finish({ opened: this.opened, fatal: FATAL_CODES.has(code) ? `connection refused by the server (${code})` : null, code });
    };
    // An error is always followed by a close, which reports it.
    ws.onerror = () => {};
  }

  stop(): void {
    this.done = true;
    this.detach(1000, 'client closed');
  }

  send(frame: MessagesClientFrame): boolean {
    if (this.done || !this.ws || this.ws.readyState !== OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  private onFrame(text: string): void {
    let frame: MessagesFrame;
    try {
      frame = JSON.parse(text) as MessagesFrame;
    } catch {
      return; // not ours to interpret; the server only sends JSON
    }
    if (typeof frame !== 'object' || frame === null || typeof frame.type !== 'string') return;
    switch (frame.type) {
      case 'ready':
        this.sink.ready(frame.cursor, frame.user_id);
        return;
      case 'resync':
        this.sink.resync(frame.reason, frame.cursor);
        return;
      case 'pong':
        return;
      case 'error':
        this.sink.serverError(frame.detail);
        return;
      default:
        this.sink.event(frame);
    }
  }

  private checkAlive(): void {
    if (this.done || !this.ws) return;
    const now = Date.now();
    if (this.pingSentAt !== null) {
      if (now - this.pingSentAt >= this.o.pongTimeoutMs) {
        // Dead: do not wait for a close handshake that will never complete.
        this.detach(CLOSE_DEAD, 'no answer to ping');
        this.finish({ opened: true, fatal: null, code: CLOSE_DEAD });
      }
      return;
    }
    if (now - this.lastFrameAt >= this.o.pingIntervalMs && this.send({ type: 'ping' })) this.pingSentAt = now;
  }

  private detach(code: number, reason: string): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    const ws = this.ws;
    this.ws = null;
    if (!ws) return;
    ws.onopen = null;
    ws.onmessage = null;
    ws.onclose = null;
    ws.onerror = () => {}; // a late error must not become an uncaught one
    try {
      ws.close(code, reason);
    } catch {
      // already closing or never opened
    }
  }

  private finish(end: Parameters<TransportSink['ended']>[0]): void {
    if (this.done) return;
    this.done = true;
    this.detach(1000, 'ended');
    this.sink.ended(end);
  }
}

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Credentials, RequestAuthenticator } from '../../auth/index.js';
import type { User } from '../../core/index.js';
import type { ConnectionCap } from '../../realtime/connection-cap.js';
import type { FaceName, RealtimeHub } from '../../realtime/hub.js';
import { SESSION_COOKIE } from '../http/authenticate.js';
import { OriginPolicy } from '../http/origins.js';
import { CLOSE, LiveSocket } from './live-socket.js';
import type { SessionGuard } from './session-guard.js';

/** What a WebSocket face is told about a new, authenticated connection. */
export interface WsConnectionContext {
  user: User;
  url: URL;
  request: IncomingMessage;
  /** Removes the connection from the hub; called on close, may be called earlier. */
  unregister: () => void;
}

export interface WsRoute {
  /** Path with a trailing slash, e.g. `/messaging/`; matched with or without it. */
  path: string;
  face: FaceName;
  /** The face's close code for "not authenticated" (4001 in both protocols). */
  unauthenticatedCloseCode: number;
  onConnection(socket: LiveSocket, ctx: WsConnectionContext): void | Promise<void>;
  /** Periodic housekeeping (e.g. expiring sessions); runs every second, and when tests ask. */
  sweep?(): void;
}

export interface WsServerOptions {
  /** Decides who an upgrade is (host `authenticate`, JWT, Parley token), as for HTTP requests. */
  authenticator: RequestAuthenticator;
  hub: RealtimeHub;
  /** Live connections per user on this process, shared with SSE and long-poll. */
  connections: ConnectionCap;
  /** Origins allowed besides the server's own ("*": any, but then without the cookie). */
  allowedOrigins: readonly string[];
  /** Ends sockets whose credentials are revoked, expire or stop counting. */
  sessions?: SessionGuard;
  /** Hard frame limit: a larger frame closes the socket with 1009. */
  maxPayloadBytes: number;
  maxBufferedBytes: number;
  pingIntervalMs: number;
  parseCookie: (header: string) => Record<string, string | undefined>;
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

const stripSlash = (p: string): string => (p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p);

/**
 * Serves WebSocket faces on an HTTP server's `upgrade` event: path routing, the Origin
 * allow-list (checked before the upgrade, 403), authentication by the host's `authenticate`,
 * then `?token=`, the `Authorization` header or the session cookie, each a Parley token or a
 * JWT (after the upgrade, so the client sees close code 4001), ping/pong liveness and the
 * per-socket buffer bound.
 */
export class WsServer {
  private readonly wss: WebSocketServer;
  private readonly routes = new Map<string, WsRoute>();
  private readonly sockets = new Set<LiveSocket>();
  private timer: NodeJS.Timeout | null = null;
  private readonly origins: OriginPolicy;

  constructor(private readonly o: WsServerOptions) {
    this.origins = new OriginPolicy(o.allowedOrigins);
    this.wss = new WebSocketServer({ noServer: true, maxPayload: o.maxPayloadBytes, perMessageDeflate: false });
  }

  route(route: WsRoute): void {
    this.routes.set(stripSlash(route.path), route);
  }

  /** Open sockets per face (for /metrics). */
  connectionCounts(): Record<FaceName, number> {
    const counts: Record<FaceName, number> = { messaging: 0, messages: 0 };
    for (const s of this.sockets) counts[s.face] += 1;
    return counts;
  }

  /** Whether a request path belongs to a WebSocket face. */
  handles(pathname: string): boolean {
    return this.routes.has(stripSlash(pathname));
  }

  start(): void {
    this.timer = setInterval(() => {
      for (const s of this.sockets) s.heartbeat();
    }, this.o.pingIntervalMs);
    this.timer.unref();
  }

  /** Runs every route's housekeeping. */
  sweep(): void {
    for (const r of this.routes.values()) r.sweep?.();
  }

  /** Closes every socket (1012, service restart: clients reconnect and resume) and stops the timers. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const s of this.sockets) s.ws.close(CLOSE.serviceRestart, 'server restarting: reconnect');
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  /** The HTTP server's `upgrade` listener. */
  handleUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = new URL(request.url ?? '/', `http://${request.headers.host ?? 'localhost'}`);
    const route = this.routes.get(stripSlash(url.pathname));
    if (!route) return reject(socket, 404, 'Not Found');
    if (!this.originAllowed(request)) return reject(socket, 403, 'Forbidden');
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      this.accept(ws, route, request, url).catch((err: unknown) => {
        this.o.log.error({ err }, 'websocket: connection setup failed');
        ws.close(CLOSE.internalError, 'internal error');
      });
    });
  };

  private async accept(ws: WebSocket, route: WsRoute, request: IncomingMessage, url: URL): Promise<void> {
    // Frames a client sends while its token is checked wait in the socket until the face
    // has attached its listeners, instead of being dropped.
    ws.pause();
    const { user, credentials, token } = await this.authenticate(request, url);
    if (!user) {
      ws.resume();
      ws.close(route.unauthenticatedCloseCode, 'Authentication credentials were not provided or are invalid.');
      return;
    }
    // Gone while its token was checked: no 'close' would come to give the slot back.
    if (ws.readyState !== ws.OPEN) return;
    const release = this.o.connections.acquire(user.id);
    if (!release) {
      ws.resume();
      ws.close(CLOSE.tooManyConnections, `too many connections: at most ${this.o.connections.max} per user`);
      return;
    }
    const socket = new LiveSocket(ws, user.id, route.face, { maxBufferedBytes: this.o.maxBufferedBytes });
    this.sockets.add(socket);
    const unregister = this.o.hub.register(socket);
    ws.on('close', () => {
      this.sockets.delete(socket);
      unregister();
      release();
    });
    ws.on('error', (err) => this.o.log.warn({ err }, 'websocket error'));
    this.o.sessions?.track({ ws, userId: user.id, closeCode: route.unauthenticatedCloseCode, request, credentials, token });
    try {
      await route.onConnection(socket, { user, url, request, unregister });
    } finally {
      ws.resume();
    }
  }

  private async authenticate(request: IncomingMessage, url: URL): Promise<{ user: User | null; credentials: Credentials; token: string | null }> {
    const header = request.headers.authorization;
    const fromHeader = header ? /^(?:Token|Bearer)\s+(\S+)\s*$/i.exec(header)?.[1] : undefined;
    const origin = request.headers.origin;
    // A site let in only by "*" may connect with a token, never as the visitor's cookie session.
    const cookieAllowed = origin === undefined || this.origins.verdict(origin, request.headers.host) !== 'any';
    const credentials: Credentials = {
      queryToken: url.searchParams.get('token') || null,
      headerToken: fromHeader ?? null,
      // A header Parley cannot read falls through to the cookie, as it always has here.
      badHeader: false,
      cookieToken: cookieAllowed ? (this.o.parseCookie(request.headers.cookie ?? '')[SESSION_COOKIE] ?? null) : null,
    };
    const outcome = await this.o.authenticator.authenticate(request, credentials);
    return { user: outcome.user, credentials, token: outcome.token };
  }

  /** No Origin (not a browser), the server's own origin, or one on the allow-list. */
  private originAllowed(request: IncomingMessage): boolean {
    const origin = request.headers.origin;
    return origin === undefined || this.origins.verdict(origin, request.headers.host) !== 'refused';
  }
}

function reject(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${text.length}\r\n\r\n${text}`);
}

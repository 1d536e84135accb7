import type { MessagesEvent, WireMessage } from '../../src/protocol/index.js';
import { Backoff, type BackoffOptions, defaultBackoff } from './backoff.js';
import { Emitter, type Handler } from './emitter.js';
import { isRetryable } from './errors.js';
import { PresenceMap, type PresenceState } from './presence.js';
import { randomId } from './random-id.js';
import { RecentKeys } from './recent-keys.js';
import { type FetchLike, RestClient } from './rest.js';
import type { Transport, TransportEnd, TransportName, TransportSink } from './transport.js';
import { type MessageRelations, type UploadBlob, type UploadOptions, type WireAttachment, upload } from './uploads.js';
import { PollingTransport } from './transport-poll.js';
import { type WebSocketConstructor, WebSocketTransport } from './transport-ws.js';
import { TypingController, type TypingControllerOptions } from './typing-controller.js';

/** Which transport carries live events. */
export type TransportChoice = 'auto' | 'websocket' | 'polling';

/** `connecting` covers the first attempt and every reconnect; `open` means live events flow. */
export type ConnectionState = 'connecting' | 'open' | 'closed';

export interface ParleyClientOptions {
  /** The server, e.g. `https://chat.example.com` (a path-relative URL is resolved against the page in a browser). */
  baseUrl: string;
  /** API token (`Authorization: Token …`, `?token=` on the socket). Without one, a browser's session cookie is used. */
  token?: string | null;
  /** WebSocket implementation. Default `globalThis.WebSocket`; in Node 20 pass `WebSocket` from `ws`. */
  WebSocket?: WebSocketConstructor;
  /**
   * `auto` (default) uses a WebSocket and falls back to long-polling when the socket cannot
   * open (no WebSocket implementation, or blocked by a proxy); `polling` forces long-polling.
   */
  transport?: TransportChoice;
  /** Resume from this cursor (one saved from `client.cursor`) instead of "now". */
  cursor?: string | null;
  /** Reconnect delays. Default `{ initialMs: 500, maxMs: 30_000 }`, with jitter. */
  backoff?: Partial<BackoffOptions>;
  /** `fetch` implementation. Default the global one. */
  fetch?: FetchLike;
  /** How `send()` retries: attempts in all (default 5) and the delays between them (default 250 ms → 5 s). */
  sendRetry?: { attempts?: number; backoff?: Partial<BackoffOptions> };
  /** How long the server holds a long-poll open, in seconds. Default 25. */
  pollTimeoutSeconds?: number;
  /** Socket liveness: a `ping` after this much silence (default 25 s); dead without an answer in `pongTimeoutMs` (default 10 s). */
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
  /** Where an exception thrown by an event handler goes. Default `console.error`. */
  onHandlerError?: (err: unknown) => void;
}

/** Sent when live events start flowing: after the first connect and after every reconnect. */
export interface ReadyEvent {
  /** The position now; events after it follow. */
  cursor: string;
  transport: TransportName;
  /** The authenticated user (the WebSocket says; a long-poll does not, so null). */
  user_id: number | null;
  /** True when this is a reconnect (missed events were replayed before it). */
  reconnected: boolean;
}

/** The cursor could not be resumed from: reload what you show over REST; events continue from `cursor`. */
export interface ResyncEvent {
  reason: 'expired' | 'invalid';
  cursor: string;
}

export interface StateEvent {
  state: ConnectionState;
  /** The transport in use (or being tried); null once closed. */
  transport: TransportName | null;
  /** Why the client closed itself (e.g. the token was refused); absent otherwise. */
  reason?: string;
}

/** An `error` frame from the server (about a frame this client sent), or why the client gave up. */
export interface ErrorEvent {
  detail: string;
  /** True when the client stopped because of it (it will not reconnect). */
  fatal: boolean;
}

/** The event of one wire type: `EventOf<'new_message'>` is `{type: 'new_message'; message; …}`. */
export type EventOf<K extends MessagesEvent['type']> = MessagesEvent & { type: K };

/** Everything `client.on()` can listen to: each live event type, plus connection events and `event` for all live events. */
export type ParleyClientEvents = { [K in MessagesEvent['type']]: EventOf<K> } & {
  /** Every live event, whatever its type. */
  event: MessagesEvent;
  ready: ReadyEvent;
  resync: ResyncEvent;
  state: StateEvent;
  error: ErrorEvent;
};

/** A message with its attachments and relations (`parent`, `parent_message_id`, `forwarded_from_id`). */
export type ChatMessage = WireMessage & MessageRelations;

export interface SendOptions {
  /** Reply to this message (sent as `parent_message_id`). A message cannot be both a reply and a forward. */
  parentId?: number | null;
  /** Ids of files uploaded with `uploadFile()` to attach; the text may then be empty. */
  attachmentIds?: number[];
  /** Send as a forward of this message (`forwarded_from_id`). */
  forwardedFromId?: number | null;
  /** Idempotency key; default a new UUID. Pass your own to match the echo (`new_message`) to an optimistic row. */
  clientId?: string;
  /** Cancels the send (and its retries). */
  signal?: AbortSignal;
}

/**
 * A client for Parley's `/messages/` API, in browsers and in Node 20.
 *
 * Live events arrive over a WebSocket (`/messages/ws/`) or long-polling
 * (`/messages/api/events/`). The client keeps the last cursor it saw, reconnects with
 * exponential backoff and jitter, and resumes from that cursor, so after a reconnect it gets
 * exactly what it missed; events it already has are dropped, so none arrives twice. Sending
 * goes through REST with a `client_id`, retried with the same id when the network or the
 * server fails, so a message is stored once however many times it is tried.
 *
 * @example
 * import WebSocket from 'ws'; // Node 20 only; browsers have one
 * const client = new ParleyClient({ baseUrl: 'http://localhost:8000', token, WebSocket });
 * client.on('new_message', (e) => render(e.message));
 * client.on('state', (s) => showBanner(s.state));
 * await client.connect();
 * const message = await client.send(chatId, 'Hello!');
 * localStorage.cursor = client.cursor; // resume here next time: new ParleyClient({ …, cursor })
 * client.close();
 */
export class ParleyClient {
  private readonly emitter: Emitter<ParleyClientEvents>;
  private readonly rest: RestClient;
  private readonly baseHref: string;
  private readonly backoff: Backoff;
  private readonly seen = new RecentKeys();
  private readonly presenceMap = new PresenceMap();
  private readonly WebSocketCtor: WebSocketConstructor | null;
  private readonly wsUrl: URL;
  private transportNow: Transport | null = null;
  private transportKind: TransportName;
  private lastCursor: string | null;
  private currentState: ConnectionState = 'closed';
  private stateTransport: TransportName | null = null;
  private wanted = false;
  private everReady = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private firstReady: { promise: Promise<ReadyEvent>; resolve: (r: ReadyEvent) => void; reject: (e: Error) => void } | null = null;

  constructor(private readonly options: ParleyClientOptions) {
    this.emitter = new Emitter<ParleyClientEvents>(options.onHandlerError);
    const base = resolveBase(options.baseUrl);
    // Called through a wrapper: browsers throw "Illegal invocation" when the global fetch is
    // called as a method of another object.
    const fetchImpl: FetchLike | undefined =
      options.fetch ?? (typeof globalThis.fetch === 'function' ? (input, init) => globalThis.fetch(input, init) : undefined);
    if (!fetchImpl) throw new Error('ParleyClient: no fetch implementation; pass options.fetch');
    this.baseHref = base.href;
    this.rest = new RestClient({ baseUrl: base.href, token: options.token ?? null, fetch: fetchImpl });
    this.backoff = new Backoff({ ...defaultBackoff, ...options.backoff });
    this.lastCursor = options.cursor ?? null;
    this.WebSocketCtor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket ?? null;
    const choice = options.transport ?? 'auto';
    if (choice === 'websocket' && !this.WebSocketCtor) {
      throw new Error('ParleyClient: no WebSocket implementation; pass options.WebSocket (in Node 20, WebSocket from "ws")');
    }
    this.transportKind = choice === 'polling' || !this.WebSocketCtor ? 'polling' : 'websocket';
    this.wsUrl = new URL('/messages/ws/', base);
    this.wsUrl.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
    if (options.token) this.wsUrl.searchParams.set('token', options.token);
  }

  // ── connection ───────────────────────────────────────────────────────────

  /**
   * Starts receiving live events (and keeps reconnecting until `close()`). Resolves once they
   * flow (the first `ready`); rejects if the server refuses the credentials or `close()` comes
   * first. Awaiting it is optional. Calling it while connected returns the same promise.
   */
  connect(): Promise<ReadyEvent> {
    if (this.wanted && this.firstReady) return this.firstReady.promise;
    this.wanted = true;
    let resolve!: (r: ReadyEvent) => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<ReadyEvent>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Callers may ignore the promise: a rejection nobody awaits must not become "unhandled".
    promise.catch(() => {});
    this.firstReady = { promise, resolve, reject };
    this.backoff.reset();
    this.startTransport();
    return promise;
  }

  /** Stops receiving events and reconnecting. `connect()` may be called again later (it resumes from `cursor`). */
  close(): void {
    this.shutdown('closed by the client');
  }

  /** The connection's state. */
  get state(): ConnectionState {
    return this.currentState;
  }

  /** The transport in use, or the one the next attempt will use. */
  get transport(): TransportName {
    return this.transportKind;
  }

  /**
   * The last position seen (from an event, `ready` or a poll). Opaque: store it and pass it as
   * the `cursor` option to resume later. Null until the first `ready` unless one was given.
   */
  get cursor(): string | null {
    return this.lastCursor;
  }

  // ── events ───────────────────────────────────────────────────────────────

  /**
   * Listens to a live event type (`new_message`, `typing`, `presence`, …), to `event` for
   * all of them, or to `ready`, `resync`, `state` and `error`. Returns the unsubscribe function.
   *
   * @example
   * const off = client.on('typing', (e) => showTyping(e.chat_id, e.username, e.is_typing));
   * off();
   */
  on<K extends keyof ParleyClientEvents>(type: K, handler: Handler<ParleyClientEvents[K]>): () => void {
    return this.emitter.on(type, handler);
  }

  /** Like `on`, for the next event of that type only. */
  once<K extends keyof ParleyClientEvents>(type: K, handler: Handler<ParleyClientEvents[K]>): () => void {
    return this.emitter.once(type, handler);
  }

  /**
   * What the client knows about a user's presence: the server sends the contacts online right
   * after `ready` (a snapshot, as `presence` events), then every change.
   */
  presence(userId: number): PresenceState | undefined {
    return this.presenceMap.get(userId);
  }

  /** Ids of the users known to be online. */
  onlineUsers(): number[] {
    return this.presenceMap.online();
  }

  // ── actions (REST) ───────────────────────────────────────────────────────

  /**
   * Sends a message and resolves with it as the server stored it. A network failure or a 5xx
   * is retried with backoff and the same `client_id`, so however many tries reach the server
   * the message is stored once (the server answers a repeated `client_id` with the original).
   * A 4xx is not retried: it rejects at once with a `ParleyHttpError`.
   *
   * @example
   * const m = await client.send(chatId, 'On my way', { parentId: question.id });
   * const photo = await client.uploadFile(file);
   * await client.send(chatId, '', { attachmentIds: [photo.id] });
   */
  async send(chatId: number, content: string, options: SendOptions = {}): Promise<ChatMessage> {
    const body: { content: string; client_id: string; parent_message_id?: number | null; attachment_ids?: number[]; forwarded_from_id?: number | null } = {
      content,
      client_id: options.clientId ?? randomId(),
    };
    if (options.parentId !== undefined) body.parent_message_id = options.parentId;
    if (options.attachmentIds?.length) body.attachment_ids = options.attachmentIds;
    if (options.forwardedFromId !== undefined && options.forwardedFromId !== null) body.forwarded_from_id = options.forwardedFromId;
    const attempts = Math.max(1, this.options.sendRetry?.attempts ?? 5);
    const backoff = new Backoff({ initialMs: 250, maxMs: 5000, ...this.options.sendRetry?.backoff });
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await this.rest.request<ChatMessage>('POST', `/messages/api/chats/${chatId}/messages/`, body, options.signal);
        return r.body;
      } catch (err) {
        if (attempt >= attempts || !isRetryable(err) || options.signal?.aborted) throw err;
        await sleep(backoff.next(), options.signal);
      }
    }
  }

  /**
   * Uploads a file (`POST /messages/api/uploads/`, multipart) and resolves with the stored
   * attachment; pass its `id` in `send(…, { attachmentIds })`. Files never attached are removed
   * by the server after a while. Too large or a type the server refuses: rejects with a
   * `ParleyHttpError` of status 413 or 415 whose `body.detail` says why. Not retried.
   *
   * @example
   * const a = await client.uploadFile(input.files[0], { onProgress: (p) => (bar.value = p.loaded / p.total) });
   */
  async uploadFile(file: UploadBlob, options: UploadOptions = {}): Promise<WireAttachment> {
    const a = await upload({ url: new URL('/messages/api/uploads/', this.baseHref).href, token: this.options.token ?? null }, file, options);
    // The server's URLs may be paths: absolute ones work from any page (and in Node).
    const abs = (u: string | null) => (u === null ? null : new URL(u, this.baseHref).href);
    return { ...a, url: abs(a.url), thumbnail_url: abs(a.thumbnail_url) };
  }

  /**
   * Says whether you are typing in a chat: over the socket when it is open, else over REST.
   * For an input box, `typingController()` decides when to call this.
   */
  async typing(chatId: number, isTyping: boolean): Promise<void> {
    if (this.transportNow?.send({ type: 'typing', chat_id: chatId, is_typing: isTyping })) return;
    await this.rest.request('POST', `/messages/api/chats/${chatId}/typing/`, { is_typing: isTyping });
  }

  /**
   * A controller for one input box: call `keystroke()` on input and `stop()` on send; it
   * sends "typing" once, refreshes it while typing continues and "stopped" when it pauses.
   *
   * @example
   * const typing = client.typingController(chatId);
   * textarea.oninput = () => typing.keystroke();
   */
  typingController(chatId: number, options?: TypingControllerOptions): TypingController {
    return new TypingController((isTyping) => this.typing(chatId, isTyping), options);
  }

  /** Any other call of the REST API under the server's base URL, with the client's credentials. */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    return (await this.rest.request<T>(method, path, body)).body;
  }

  // ── internals ────────────────────────────────────────────────────────────

  private setState(state: ConnectionState, reason?: string): void {
    const transport = state === 'closed' ? null : this.transportKind;
    if (state === this.currentState && transport === this.stateTransport && reason === undefined) return;
    this.currentState = state;
    this.stateTransport = transport;
    this.emitter.emit('state', { state, transport, ...(reason !== undefined ? { reason } : {}) });
  }

  private startTransport(): void {
    this.retryTimer = null;
    if (!this.wanted) return;
    this.setState('connecting');
    const sink = this.sinkFor(() => transport);
    const transport: Transport =
      this.transportKind === 'websocket' && this.WebSocketCtor
        ? new WebSocketTransport(
            { url: this.wsUrl, WebSocket: this.WebSocketCtor, pingIntervalMs: this.options.pingIntervalMs ?? 25_000, pongTimeoutMs: this.options.pongTimeoutMs ?? 10_000 },
            sink,
          )
        : new PollingTransport({ rest: this.rest, timeoutSeconds: this.options.pollTimeoutSeconds ?? 25 }, sink);
    this.transportNow = transport;
    transport.start();
  }

  /** A sink that ignores a transport once it is no longer the current one. */
  private sinkFor(self: () => Transport): TransportSink {
    const current = () => this.transportNow === self();
    return {
      cursor: () => this.lastCursor,
      ready: (cursor, userId) => {
        if (!current()) return;
        this.lastCursor = cursor;
        this.backoff.reset();
        // A WebSocket `ready` is always followed by the server's presence snapshot: start from
        // it, so a contact who left while this client was away does not stay online. (A poll
        // carries the snapshot before its ready, and only when it starts a session: kept.)
        if (this.transportKind === 'websocket') this.presenceMap.clear();
        const ready: ReadyEvent = { cursor, transport: this.transportKind, user_id: userId, reconnected: this.everReady };
        this.everReady = true;
        this.setState('open');
        this.emitter.emit('ready', ready);
        this.firstReady?.resolve(ready);
      },
      resync: (reason, cursor) => {
        if (!current()) return;
        this.lastCursor = cursor;
        this.emitter.emit('resync', { reason, cursor });
      },
      event: (event) => {
        if (current()) this.deliver(event);
      },
      position: (cursor) => {
        if (current()) this.lastCursor = cursor;
      },
      serverError: (detail) => {
        if (current()) this.emitter.emit('error', { detail, fatal: false });
      },
      ended: (end) => {
        if (current()) this.onEnded(end);
      },
    };
  }

  private deliver(event: MessagesEvent): void {
    if ('cursor' in event) {
      if (this.seen.seen(`c:${event.cursor}`)) return;
      this.lastCursor = event.cursor;
    }
    // The same message under two cursors cannot come from one log, but can when a client is
    // resynced onto a new position: the message id is the second line of defence.
    if (event.type === 'new_message' && this.seen.seen(`m:${event.message.id}`)) return;
    if (event.type === 'presence') this.presenceMap.apply(event);
    this.emitter.emit(event.type, event as ParleyClientEvents[typeof event.type]);
    this.emitter.emit('event', event);
  }

  private onEnded(end: TransportEnd): void {
    this.transportNow = null;
    if (end.fatal !== null) {
      this.emitter.emit('error', { detail: end.fatal, fatal: true });
      this.shutdown(end.fatal);
      return;
    }
    const choice = this.options.transport ?? 'auto';
    if (choice === 'auto' && this.transportKind === 'websocket' && !end.opened && !this.everReady) {
      // The socket never opened and never worked: likely blocked on this network. Poll instead, now.
      this.transportKind = 'polling';
      this.startTransport();
      return;
    }
    this.setState('connecting');
    this.retryTimer = setTimeout(() => this.startTransport(), this.backoff.next());
  }

  private shutdown(reason: string): void {
    this.wanted = false;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const t = this.transportNow;
    this.transportNow = null;
    t?.stop();
    this.firstReady?.reject(new Error(`ParleyClient: ${reason}`));
    this.firstReady = null;
    if (this.currentState !== 'closed') this.setState('closed', reason);
  }
}

function resolveBase(baseUrl: string): URL {
  const page = (globalThis as { location?: { href: string } }).location?.href;
  return new URL(baseUrl, page);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

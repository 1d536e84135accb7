import { type Core, type DomainEvent, type UserId, isParleyError } from '../core/index.js';
import type { Broker } from '../core/ports/broker.js';
import type { Store } from '../core/ports/store.js';
import type { LiveEvent, LiveEventBody } from '../protocol/index.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { LiveViews } from './live-views.js';

/** The faces that hold live connections; each encodes an event its own way, once. */
export type FaceName = 'messaging' | 'messages';

/**
 * A face's encoding of an event: one frame for every recipient (the common case, serialized
 * once), a function when recipients see different frames, or null when the face does not
 * show this event.
 */
export type EncodedFrame = string | null | ((userId: UserId) => string | null);
export type Encoder = (event: LiveEvent) => EncodedFrame;

/** One live client: a WebSocket, an SSE stream or a waiting long-poll. */
export interface LiveConnection {
  readonly userId: UserId;
  readonly face: FaceName;
  /** Hands over a frame; the connection applies its own buffering limits. */
  deliver(frame: string, event: LiveEvent): void;
  /**
   * The log position this connection is complete up to from its own start (the end of the
   * replay it did on connect, or the head then). After a broker interruption the hub sends
   * it what it missed past this point. Absent: the connection is not caught up (long-poll).
   */
  readonly caughtUpTo?: number;
}

export interface HubOptions {
  core: Core;
  broker: Broker;
  log: { error(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /** How long the event log keeps events for resume. */
  retentionMs: number;
  /** A typing indicator without a refresh ends after this long. */
  typingTtlMs: number;
  /** Told of each event handed to at least one local connection (metrics). */
  onDelivered?: (event: LiveEvent) => void;
}

export type ReplayResult =
  | { ok: true; events: LiveEvent[]; cursor: string; more: boolean }
  | { ok: false; reason: 'invalid' | 'expired'; cursor: string };

const TOPIC = 'parley.events';
/** The second catch-up after a broker gap, for events published while subscriptions came back. */
const CATCH_UP_AGAIN_MS = 1000;
/** How many recent ids per connection are remembered for de-duplication. */
const REMEMBERED_IDS = 4096;

/** Adds an id to a bounded set, forgetting the oldest. */
function remember(ids: Set<number>, id: number): void {
  ids.add(id);
  if (ids.size > REMEMBERED_IDS) {
    const oldest = ids.values().next();
    if (!oldest.done) ids.delete(oldest.value);
  }
}
const REPLAY_PAGE = 1000;
/** How long a broker call may take before this process stops waiting for it (see `publish`). */
const BROKER_PATIENCE_MS = 2000;
/** While the broker is failing, how often a probe checks whether it is back. */
const PROBE_INTERVAL_MS = 500;
/** A topic nobody subscribes to: publishing there tells whether the broker is back. */
const PROBE_TOPIC = 'parley.probe';
/**
 * The most contacts a presence snapshot looks up (see `presenceSnapshot`): a user in a huge
 * conversation is told about this many of its members; the others show from their next change.
 */
export const PRESENCE_SNAPSHOT_MAX_CONTACTS = 1000;
/** How long a missing log id is waited for before the log is asked about it (see `receive`). */
const GAP_GRACE_MS = 250;
/** Retries of an event whose store reads or log append found the database unavailable (~13 s in all). */
const STORE_RETRIES = 10;

/**
 * The real-time hub. It turns domain events into `LiveEvent`s, appends the durable ones to
 * the event log (their id is the resume cursor), publishes them through the broker, and on
 * every process delivers them to the local connections of their recipients, encoding each
 * event once per face.
 *
 * Events are processed one at a time in emit order, so log order matches the order writes
 * happened and every client sees one conversation's events in order.
 *
 * The broker is best-effort: an event is in the log before it is published. When the broker
 * fails (Redis away), the hub delivers events to this process's own clients directly and stops
 * waiting for the broker until a probe gets through again; clients of other processes catch up
 * by cursor when they reconnect. Presence changes made meanwhile are told to the broker once it
 * is back.
 */
export class RealtimeHub {
  private readonly encoders = new Map<FaceName, Encoder>();
  private readonly byUser = new Map<UserId, Set<LiveConnection>>();
  private readonly typing = new Map<string, { until: number; event: Extract<DomainEvent, { type: 'typing' }> }>();
  private queue: Promise<void> = Promise.resolve();
  /** This process, in the broker's shared presence. */
  readonly nodeId = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  private unsubscribe: (() => Promise<void>) | null = null;
  private offCore: (() => void) | null = null;
  /** Set while the broker fails: events then reach this process's clients only (see `publish`). */
  private brokerDown = false;
  private probeTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  /** Broker publishes not answered yet (`flush` waits for them). */
  private readonly inFlight = new Set<Promise<void>>();
  /**
   * Every logged event with an id up to here has been dispatched on this process (or never
   * committed). Logged events are dispatched in id order, so the cursor of each frame a client
   * gets is a position with nothing missing before it.
   */
  private horizon = 0;
  /** Logged events received ahead of a missing id, waiting for it (see `receive`). */
  private readonly ahead = new Map<number, LiveEvent>();
  private gapTimer: ReturnType<typeof setTimeout> | null = null;
  /** Set while `closeGap` runs. */
  private closingGap = false;
  /** Log ids of events dispatched here whose broker publish has not been confirmed yet. */
  private readonly unconfirmed = new Set<number>();
  /** Users whose presence changed while the broker was down. */
  private readonly presenceDirty = new Set<UserId>();
  /** The newest log id this process has dispatched. */
  private lastSeenId = 0;
  /** Where a broker gap began (the newest id seen before it), while one is open. */
  private gapStart: number | null = null;
  /** Recent log ids given to each connection, so a catch-up never repeats one. */
  private readonly delivered = new WeakMap<LiveConnection, Set<number>>();
  private offInterruption: (() => void) | null = null;
  private offJournal: (() => void) | null = null;
  /** The logged form of each domain event journaled in its write's transaction, until published. */
  private readonly journaled = new WeakMap<DomainEvent, LiveEvent>();

  /** The canonical live views and the event builder. */
  readonly views: LiveViews;

  constructor(private readonly o: HubOptions) {
    this.views = new LiveViews(o.core, (event) => this.typingIsNews(event));
  }

  /** Keeps the typing state: a start while typing is a refresh (a later expiry), a stop while not typing is nothing. */
  private typingIsNews(event: Extract<DomainEvent, { type: 'typing' }>): boolean {
    const key = `${event.conversation.id}:${event.userId}`;
    if (!event.isTyping) return this.typing.delete(key);
    const wasTyping = this.typing.has(key);
    this.typing.set(key, { until: this.o.core.now().getTime() + this.o.typingTtlMs, event });
    return !wasTyping;
  }

  async start(): Promise<void> {
    this.unsubscribe = await this.o.broker.subscribe(TOPIC, (payload) => {
      // `<node id>|<event JSON>`: this process's own events were dispatched when published.
      const bar = payload.indexOf('|');
      if (payload.startsWith(this.nodeId) && bar === this.nodeId.length) return;
      this.receive(JSON.parse(payload.slice(bar + 1)) as LiveEvent);
    });
    this.offInterruption = this.o.broker.onInterruption((phase) => {
      if (phase === 'lost') this.gapBegan();
      else if (!this.brokerDown) this.gapEnded();
    });
    this.lastSeenId = (await this.o.core.store.eventLogBounds()).newest;
    this.horizon = this.lastSeenId;
    // Each write's event is built and logged inside the write's own transaction, so nothing
    // stored goes unannounced; once it has committed, the event only has to be published.
    this.offJournal = this.o.core.events.journal((tx, event) => this.record(tx, event));
    this.offCore = this.o.core.events.on((event) => {
      // Session events are for hooks and webhooks; no client is shown them.
      if (event.type === 'session.started' || event.type === 'session.ended') return;
      // A read that only marked messages one by one (the read position stayed): nothing to show.
      if (event.type === 'read.updated' && event.uptoSeq <= event.previousSeq) return;
      const logged = this.journaled.get(event);
      if (logged) {
        this.journaled.delete(event);
        // Emitted in commit order: published at once, in that order, with no store read.
        void this.publish(logged);
        return;
      }
      // Typing, and events emitted without a transaction (a host calling `emit`): built here.
      this.queue = this.queue
        .then(() => this.handleRetrying(event))
        .catch((err: unknown) => this.o.log.error({ err, event: event.type }, 'realtime: event lost'));
    });
  }

  /** Waits until every event emitted so far has been logged and published. */
  async flush(): Promise<void> {
    await this.queue;
    await Promise.all([...this.inFlight]);
  }

  async stop(): Promise<void> {
    this.offJournal?.();
    this.offCore?.();
    this.offInterruption?.();
    this.stopped = true;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    if (this.gapTimer) clearTimeout(this.gapTimer);
    await this.flush();
    await this.unsubscribe?.();
  }

  /** A face says how it shows events. */
  setEncoder(face: FaceName, encoder: Encoder): void {
    this.encoders.set(face, encoder);
  }

  /**
   * Adds a local connection. Returns the function that removes it. The first connection of
   * a user makes them online for the users they share a conversation with; the last one going
   * away makes them offline with a last-seen time.
   */
  register(conn: LiveConnection): () => void {
    let set = this.byUser.get(conn.userId);
    const first = !set || set.size === 0;
    if (!set) this.byUser.set(conn.userId, (set = new Set()));
    set.add(conn);
    if (first) this.enqueuePresence(conn.userId, true);
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      set.delete(conn);
      if (set.size === 0 && this.byUser.get(conn.userId) === set) {
        this.byUser.delete(conn.userId);
        this.enqueuePresence(conn.userId, false);
      }
    };
  }

  /** The users among `userIds` connected to any process. */
  async onlineUsers(userIds: readonly UserId[]): Promise<Set<UserId>> {
    return this.o.broker.onlineUsers(userIds);
  }

  /**
   * The current presence of the people `userId` shares a conversation with, for a connection
   * that just became ready: one ephemeral `presence` event (no log id, so no cursor moves) for
   * each contact online now, addressed to `userId` only. Strangers are never included. At most
   * `PRESENCE_SNAPSHOT_MAX_CONTACTS` contacts are looked up. Send the frames right after
   * `ready` and before any live frame held meanwhile, so a later change is never overwritten.
   * While the broker is failing, the users connected to this process are what is known.
   */
  async presenceSnapshot(userId: UserId): Promise<LiveEvent[]> {
    const contacts = (await this.o.core.store.listContactsOf(userId)).sort((x, y) => x - y).slice(0, PRESENCE_SNAPSHOT_MAX_CONTACTS);
    if (contacts.length === 0) return [];
    let online: Set<UserId>;
    const answer = this.brokerDown ? null : await patiently(this.o.broker.onlineUsers(contacts));
    if (answer?.ok) online = answer.value;
    else online = new Set(contacts.filter((id) => this.byUser.has(id)));
    const at = this.o.core.now().toISOString();
    return contacts
      .filter((id) => online.has(id))
      .map((id): LiveEvent => ({ id: null, conversation_id: null, at, recipients: [userId], body: { type: 'presence', user_id: id, online: true, last_seen: null } }));
  }

  connectionsOf(userId: UserId): ReadonlySet<LiveConnection> {
    return this.byUser.get(userId) ?? new Set();
  }

  /** The log position of "now". */
  async headId(): Promise<number> {
    return (await this.o.core.store.eventLogBounds()).newest;
  }

  /** The cursor of "now": a client starting fresh gets events after it. */
  async headCursor(): Promise<string> {
    return encodeCursor((await this.o.core.store.eventLogBounds()).newest);
  }

  /**
   * The events a user missed since `cursor`, in order, at most one page (`more` says whether
   * to ask again). Too old a cursor (the log was pruned past it) or a foreign one is refused,
   * with the current cursor so the client can refetch and continue from there. `limit` (at
   * most one page) keeps what a streamed replay holds per connection small.
   */
  async replay(userId: UserId, cursor: string, limit = REPLAY_PAGE): Promise<ReplayResult> {
    const page = Math.max(1, Math.min(limit, REPLAY_PAGE));
    const bounds = await this.o.core.store.eventLogBounds();
    const after = decodeCursor(cursor);
    if (after === null || after > bounds.newest) return { ok: false, reason: 'invalid', cursor: encodeCursor(bounds.newest) };
    // An empty log that has issued ids was pruned whole: it starts after `newest`.
    const oldest = bounds.oldest > 0 ? bounds.oldest : bounds.newest + 1;
    if (after < oldest - 1) return { ok: false, reason: 'expired', cursor: encodeCursor(bounds.newest) };
    const rows = await this.o.core.store.listEventsFor(userId, after, page);
    const events = rows.map(
      (r): LiveEvent => ({ ...(JSON.parse(r.payload) as Omit<LiveEvent, 'id' | 'recipients'>), id: r.id, recipients: [userId] }),
    );
    const last = rows[rows.length - 1];
    return { ok: true, events, cursor: encodeCursor(last ? last.id : after), more: rows.length === page };
  }

  /** Encodes an event for a face and a user, as live delivery would. */
  frameFor(face: FaceName, event: LiveEvent, userId: UserId): string | null {
    const encoded = this.encode(face, event);
    return typeof encoded === 'function' ? encoded(userId) : encoded;
  }

  /** Ends typing indicators that were not refreshed in time. Runs on a timer; tests call it. */
  sweepTyping(): void {
    const now = this.o.core.now().getTime();
    for (const [key, t] of this.typing) {
      if (t.until <= now) {
        // Left in the map until the stop event is processed, which removes it.
        t.until = Number.POSITIVE_INFINITY;
        this.o.core.events.emit({ ...t.event, isTyping: false });
      }
    }
  }

  /** Drops events older than the retention window. */
  async prune(): Promise<number> {
    return this.o.core.store.pruneEvents(new Date(this.o.core.now().getTime() - this.o.retentionMs));
  }

  // ── internals ────────────────────────────────────────────────────────────

  private readonly frameCache = new WeakMap<LiveEvent, Map<FaceName, EncodedFrame>>();

  private encode(face: FaceName, event: LiveEvent): EncodedFrame {
    let perFace = this.frameCache.get(event);
    if (!perFace) this.frameCache.set(event, (perFace = new Map()));
    if (perFace.has(face)) return perFace.get(face) ?? null;
    const encoder = this.encoders.get(face);
    const frame = encoder ? encoder(this.views.withFreshUrls(event)) : null;
    perFace.set(face, frame);
    return frame;
  }

  /** Delivers a published event to this process's connections of its recipients. */
  /**
   * Takes an event from this process or the broker and dispatches logged ones in id order.
   * Ids commit in order (see `Store.transaction`), but copies from other processes arrive in
   * their own time; an event ahead of a missing id waits for it. A missing id that has not come
   * within `GAP_GRACE_MS` is looked up in the log: an event whose process died before publishing
   * it is delivered from there, an id that was never committed is skipped.
   */
  private receive(event: LiveEvent): void {
    if (event.id === null) return this.dispatch(event);
    if (event.id <= this.horizon) return; // dispatched already (or delivered from the log)
    this.ahead.set(event.id, event);
    this.drainAhead();
  }

  private drainAhead(): void {
    for (let next = this.ahead.get(this.horizon + 1); next; next = this.ahead.get(this.horizon + 1)) {
      this.ahead.delete(this.horizon + 1);
      this.horizon += 1;
      this.dispatch(next);
    }
    if (this.ahead.size === 0) {
      if (this.gapTimer) clearTimeout(this.gapTimer);
      this.gapTimer = null;
    } else if (!this.gapTimer && !this.stopped) {
      // Not behind the event queue: whatever waits there (presence, typing), live delivery
      // must not wait for it.
      this.gapTimer = setTimeout(() => {
        this.gapTimer = null;
        void this.closeGap();
      }, GAP_GRACE_MS);
      this.gapTimer.unref();
    }
  }

  /** The ids before the oldest waiting event are final by now: delivers what the log has of them. */
  private async closeGap(): Promise<void> {
    if (this.closingGap || this.ahead.size === 0) return;
    this.closingGap = true;
    try {
      const firstAhead = Math.min(...this.ahead.keys());
      if (firstAhead > this.horizon + 1) {
        try {
          await this.catchUp(this.horizon, firstAhead);
        } catch (err) {
          // The events waiting are delivered all the same; a client missing the one looked
          // for finds it when it resumes from its cursor.
          this.o.log.error({ err }, 'realtime: gap lookup failed');
        }
      }
      this.horizon = Math.max(this.horizon, firstAhead - 1);
    } finally {
      this.closingGap = false;
    }
    this.drainAhead();
  }

  private dispatch(event: LiveEvent): void {
    if (event.id !== null && event.id > this.lastSeenId) this.lastSeenId = event.id;
    let delivered = false;
    for (const userId of event.recipients) {
      const conns = this.byUser.get(userId);
      if (!conns) continue;
      for (const conn of conns) this.deliverTo(conn, userId, event);
      delivered = true;
    }
    if (delivered) this.o.onDelivered?.(event);
  }

  private deliverTo(conn: LiveConnection, userId: UserId, event: LiveEvent): void {
    // A connection gets each logged event once, whichever way it came (live or from the log).
    if (event.id !== null && this.deliveredIds(conn).has(event.id)) return;
    const encoded = this.encode(conn.face, event);
    const frame = typeof encoded === 'function' ? encoded(userId) : encoded;
    if (frame === null) return;
    if (event.id !== null) remember(this.deliveredIds(conn), event.id);
    try {
      conn.deliver(frame, event);
    } catch (err) {
      this.o.log.warn({ err }, 'realtime: delivery failed');
    }
  }

  private deliveredIds(conn: LiveConnection): Set<number> {
    let ids = this.delivered.get(conn);
    if (!ids) this.delivered.set(conn, (ids = new Set()));
    return ids;
  }

  /** The broker lost messages from `since` on, or may have: remember where the gap began. */
  private gapBegan(): void {
    // Events dispatched here whose broker publish is not confirmed may not have reached the
    // other processes: the gap starts before the oldest of them.
    let start = this.lastSeenId;
    for (const id of this.unconfirmed) start = Math.min(start, id - 1);
    this.gapStart = this.gapStart === null ? start : Math.min(this.gapStart, start);
  }

  /**
   * The broker carries events again: every local connection gets, from the log, the events
   * of the gap it has not had (each exactly once: ids it was given are skipped). Runs twice,
   * the second time a moment later, for events published while subscriptions came back.
   */
  private gapEnded(): void {
    const from = this.gapStart;
    this.gapStart = null;
    if (from === null) return;
    const run = () => {
      this.queue = this.queue.then(() => this.catchUp(from)).catch((err: unknown) => this.o.log.error({ err }, 'realtime: catch-up failed'));
    };
    run();
    setTimeout(run, CATCH_UP_AGAIN_MS).unref();
  }

  /** Delivers to every caught-up local connection the logged events in (from, before) it has not had. */
  private async catchUp(from: number, before = Number.POSITIVE_INFINITY): Promise<void> {
    for (const [userId, conns] of [...this.byUser]) {
      const complete = [...conns].filter((c) => c.caughtUpTo !== undefined);
      if (complete.length === 0) continue;
      const start = Math.min(...complete.map((c) => Math.max(from, c.caughtUpTo ?? 0)));
      let cursor = encodeCursor(start);
      for (;;) {
        const r = await this.replay(userId, cursor);
        if (!r.ok) break;
        for (const event of r.events) {
          if (event.id !== null && event.id >= before) break;
          if (event.id !== null && event.id > this.lastSeenId) this.lastSeenId = event.id;
          for (const conn of complete) {
            if (event.id === null || event.id <= Math.max(from, conn.caughtUpTo ?? 0)) continue;
            if (this.deliveredIds(conn).has(event.id) || !this.byUser.get(userId)?.has(conn)) continue;
            this.deliverTo(conn, userId, event);
          }
        }
        cursor = r.cursor;
        if (!r.more || r.events.some((e) => e.id !== null && e.id >= before)) break;
      }
    }
  }

  /** `announce` false: only tells the broker (a user it forgot while it was away). */
  private enqueuePresence(userId: UserId, online: boolean, announce = true): void {
    this.queue = this.queue
      .then(async () => {
        const { store } = this.o.core;
        // The broker keeps presence across processes; without it, the change waits (brokerBack).
        if (this.brokerDown) {
          this.presenceDirty.add(userId);
          return;
        }
        const answer = await patiently(this.o.broker.setPresence(userId, this.nodeId, online));
        if (!answer.ok) {
          this.brokerFailed(answer.error);
          this.presenceDirty.add(userId);
          return;
        }
        // Another process may hold this user too: only the overall change is news.
        const holders = answer.value;
        if (!announce || (online ? holders !== 1 : holders !== 0)) return;
        const now = this.o.core.now();
        if (!online) await store.setLastSeen(userId, now);
        const contacts = await store.listContactsOf(userId);
        const body: LiveEventBody = { type: 'presence', user_id: userId, online, last_seen: online ? null : now.toISOString() };
        await this.publish({ id: null, conversation_id: null, at: now.toISOString(), recipients: contacts, body });
      })
      .catch((err: unknown) => this.o.log.error({ err }, 'realtime: presence lost'));
  }

  /**
   * Delivers to this process's clients at once, and through the broker to the other processes
   * (the broker's copy back to this one is dropped). Broker calls are made in call order and not
   * awaited one by one. When the broker fails or does not answer in time, later events skip it
   * until a probe gets through: a write never fails or stalls because of the broker; clients of
   * other processes catch up from the log.
   */
  private publish(event: LiveEvent): Promise<void> {
    this.receive(event);
    if (this.brokerDown) return Promise.resolve();
    const { id } = event;
    if (id !== null) this.unconfirmed.add(id);
    const sent = patiently(this.o.broker.publish(TOPIC, `${this.nodeId}|${JSON.stringify(event)}`)).then((answer) => {
      if (!answer.ok) this.brokerFailed(answer.error);
      if (id !== null) this.unconfirmed.delete(id);
    });
    this.inFlight.add(sent);
    void sent.finally(() => this.inFlight.delete(sent));
    return sent;
  }

  private brokerFailed(err: unknown): void {
    if (this.brokerDown || this.stopped) return;
    this.brokerDown = true;
    this.gapBegan();
    this.o.log.error({ err }, "realtime: broker unavailable; serving this process's clients only until it is back");
    this.probe();
  }

  /** Tries the broker again (a publish to a topic nobody reads) until it answers. */
  private probe(): void {
    this.probeTimer = setTimeout(() => {
      this.probeTimer = null;
      patiently(this.o.broker.publish(PROBE_TOPIC, this.nodeId)).then((answer) => {
        if (this.stopped) return;
        if (answer.ok) this.brokerBack();
        else this.probe();
      }, () => undefined);
    }, PROBE_INTERVAL_MS);
    this.probeTimer.unref();
  }

  private brokerBack(): void {
    this.brokerDown = false;
    this.o.log.warn({}, 'realtime: broker is back');
    this.gapEnded();
    // Users who came or went meanwhile are news; those here all along are only put back, as a
    // restarted Redis has forgotten them.
    const dirty = new Set(this.presenceDirty);
    this.presenceDirty.clear();
    for (const userId of dirty) this.enqueuePresence(userId, this.byUser.has(userId));
    for (const userId of this.byUser.keys()) if (!dirty.has(userId)) this.enqueuePresence(userId, true, false);
  }

  /**
   * The write behind an event is stored already; a database that is briefly away (a restart,
   * cut connections) delays its event rather than leaving it out of the log, where clients
   * resuming by cursor would never find it. Later events wait, so the log order holds.
   */
  private async handleRetrying(event: DomainEvent): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.handle(event);
        return;
      } catch (err) {
        if (!isParleyError(err) || err.code !== 'unavailable' || attempt >= STORE_RETRIES || this.stopped) throw err;
        if (attempt === 0) this.o.log.warn({ err, event: event.type }, 'realtime: database unavailable, retrying the event');
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** attempt, 2000)));
      }
    }
  }

  /** The journal writer: builds the event's logged form and appends it, inside the write's transaction. */
  private async record(tx: Store, event: DomainEvent): Promise<void> {
    if (event.type === 'typing' || event.type === 'session.started' || event.type === 'session.ended') return;
    if (event.type === 'read.updated' && event.uptoSeq <= event.previousSeq) return; // only marks moved: nothing to show
    const built = await this.views.build(event, tx);
    if (!built) return;
    const { body, conversationId, recipients, targeted, durable } = built;
    const at = this.o.core.now().toISOString();
    let id: number | null = null;
    if (durable) {
      const payload = JSON.stringify({ conversation_id: conversationId, at, body });
      id = (await tx.appendEvent({ conversationId, type: body.type, payload, recipients: targeted ? recipients : null, now: new Date(at) })).id;
    }
    this.journaled.set(event, { id, conversation_id: conversationId, at, recipients, body });
  }

  private async handle(event: DomainEvent): Promise<void> {
    const built = await this.views.build(event, this.o.core.store);
    if (!built) return;
    const { body, conversationId, recipients, targeted, durable } = built;
    const at = this.o.core.now();
    let id: number | null = null;
    if (durable) {
      const payload = JSON.stringify({ conversation_id: conversationId, at: at.toISOString(), body });
      const stored = await this.o.core.store.appendEvent({ conversationId, type: body.type, payload, recipients: targeted ? recipients : null, now: at });
      id = stored.id;
    }
    await this.publish({ id, conversation_id: conversationId, at: at.toISOString(), recipients, body });
  }

  /** Local connections per face, the newest log id dispatched here, and whether the broker fails (for /metrics). */
  stats(): { connections: Record<FaceName, number>; lastDispatchedId: number; brokerDown: boolean } {
    const connections: Record<FaceName, number> = { messaging: 0, messages: 0 };
    for (const conns of this.byUser.values()) for (const c of conns) connections[c.face] += 1;
    return { connections, lastDispatchedId: this.lastSeenId, brokerDown: this.brokerDown };
  }
}

/** Waits for a broker call, at most `BROKER_PATIENCE_MS`: its value, or why not. */
async function patiently<T>(call: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<{ ok: false; error: unknown }>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, error: new Error(`the broker did not answer within ${BROKER_PATIENCE_MS} ms`) }), BROKER_PATIENCE_MS);
  });
  try {
    return await Promise.race([call.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

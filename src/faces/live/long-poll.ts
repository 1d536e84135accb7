import type { UserId } from '../../core/index.js';
import type { LiveEvent } from '../../protocol/index.js';
import type { LiveConnection, RealtimeHub } from '../../realtime/hub.js';
import { type Position, positionOf, presenceFrames } from './replay.js';

/** A poll answers with at most this many ephemeral (typing, presence) events; the client asks again. */
const MAX_LIVE_EVENTS = 500;
/**
 * A live event's log row may not be readable yet when it wakes a poll (another process's
 * write still committing before it): the log is read again after 10, 20, … ms, this many
 * times, before the poll goes back to waiting for the next event or its timeout.
 */
const MAX_RECHECKS = 8;

/**
 * A waiting long-poll as a hub connection. It is registered before the log is read, so an
 * event that happens while the poll reads is not missed. Logged events only wake it: what a
 * poll answers with, and its cursor, always come from a read of the event log, so an event
 * that reaches this process late (from another process) is never skipped or repeated.
 * Ephemeral events (typing, presence) are not in the log: those are kept here.
 */
class PendingPoll implements LiveConnection {
  readonly face = 'messages' as const;
  /** Ephemeral frames, each with the newest logged id that woke the poll before it came. */
  private readonly ephemeral: { frame: string; afterId: number }[] = [];
  /** The newest logged id delivered live. */
  newestLive = 0;
  /** Called on each delivery; the waiting request decides whether it is enough. */
  onDeliver: (() => void) | null = null;

  constructor(readonly userId: UserId) {}

  deliver(frame: string, event: LiveEvent): void {
    if (event.id !== null) {
      if (event.id > this.newestLive) this.newestLive = event.id;
    } else {
      if (this.full) return; // answered soon; ephemeral events are not kept for later
      this.ephemeral.push({ frame, afterId: this.newestLive });
    }
    this.onDeliver?.();
  }

  get hasEphemeral(): boolean {
    return this.ephemeral.length > 0;
  }

  /** The cap is reached: answer now. */
  get full(): boolean {
    return this.ephemeral.length >= MAX_LIVE_EVENTS;
  }

  /**
   * The logged events read from the log with the ephemeral ones placed where they arrived
   * live: after the logged events that had woken the poll before them.
   */
  merge(logged: readonly { id: number; frame: string }[]): string[] {
    const out: string[] = [];
    let e = 0;
    for (const l of logged) {
      while (e < this.ephemeral.length && (this.ephemeral[e]?.afterId ?? 0) < l.id) out.push(this.ephemeral[e++]!.frame);
      out.push(l.frame);
    }
    while (e < this.ephemeral.length) out.push(this.ephemeral[e++]!.frame);
    return out;
  }
}

/**
 * Keeps a long-polling user connected, for presence, in the moment between one poll's answer
 * and the next request: without it they would flip offline and online around every event.
 */
export class PollLeases {
  private readonly leases = new Map<UserId, { off: () => void; timer: NodeJS.Timeout }>();
  /** Users given a presence snapshot within the grace period, so the next poll does not repeat it. */
  private readonly snapshots = new Map<UserId, NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly hub: RealtimeHub,
    private readonly graceMs: number,
  ) {}

  /** The user stays connected for `graceMs` after now, unless a new poll comes first. */
  extend(userId: UserId): void {
    if (this.closed) return;
    const lease = this.leases.get(userId);
    if (lease) clearTimeout(lease.timer);
    const off = lease?.off ?? this.hub.register({ userId, face: 'messages', deliver: () => {} });
    const timer = setTimeout(() => {
      this.leases.delete(userId);
      off();
    }, this.graceMs);
    timer.unref();
    this.leases.set(userId, { off, timer });
  }

  /**
   * Whether a poll of `userId` starts a session, for presence: no lease holds them connected
   * and they were not given a snapshot within the grace period.
   */
  startsSession(userId: UserId): boolean {
    return !this.leases.has(userId) && !this.snapshots.has(userId);
  }

  /** `userId` was just given a presence snapshot: polls within the grace period need none. */
  snapshotGiven(userId: UserId): void {
    if (this.closed) return;
    const previous = this.snapshots.get(userId);
    if (previous) clearTimeout(previous);
    const timer = setTimeout(() => this.snapshots.delete(userId), this.graceMs);
    timer.unref();
    this.snapshots.set(userId, timer);
  }

  closeAll(): void {
    for (const timer of this.snapshots.values()) clearTimeout(timer);
    this.snapshots.clear();
    this.closed = true;
    for (const { off, timer } of this.leases.values()) {
      clearTimeout(timer);
      off();
    }
    this.leases.clear();
  }
}

export type PollResult =
  | { kind: 'events'; frames: string[]; cursor: string }
  | { kind: 'resync'; reason: 'invalid' | 'expired'; cursor: string }
  | { kind: 'closed' };

export interface PollOptions {
  hub: RealtimeHub;
  userId: UserId;
  cursor: string;
  timeoutMs: number;
  /** Resolves when the wait must end early: the client went away, or the server is closing. */
  stopped: Promise<'closed' | 'timeout'>;
  leases: PollLeases;
  log: { error(obj: object, msg: string): void };
}

/**
 * One long-poll: the events after `cursor` at once if there are any (at most one replay
 * page), otherwise waits for the first live event(s) for the user and then reads them from
 * the log, or answers with nothing when `timeoutMs` passes. The cursor answered is always the
 * end of a log read (the highest position with nothing missing before it), never the id of an
 * event seen live. A poll that starts a session (no lease holds the user, see
 * `PollLeases.startsSession`) also gets the presence of the contacts online now, after the
 * replayed events, and at once.
 */
export async function poll(o: PollOptions): Promise<PollResult> {
  const conn = new PendingPoll(o.userId);
  const startsSession = o.leases.startsSession(o.userId);
  const unregister = o.hub.register(conn);
  const deadline = Date.now() + o.timeoutMs;
  try {
    const first = await readPage(o, o.cursor);
    if (!first.ok) return { kind: 'resync', reason: first.reason, cursor: first.cursor };
    // Read after registering: a change after the read is kept by `conn` and comes after it.
    const snapshot = startsSession ? await presenceFrames(o.hub, o.userId, o.log) : [];
    if (startsSession) o.leases.snapshotGiven(o.userId);
    if (first.frames.length > 0 || first.more) return { kind: 'events', frames: [...first.frames.map((f) => f.frame), ...snapshot], cursor: first.cursor };
    if (snapshot.length > 0) return { kind: 'events', frames: [...snapshot, ...conn.merge([])], cursor: first.cursor };

    let at: Position = first;
    // Live ids up to here have had a log read since they arrived; a newer one wakes the poll.
    let tried = at.id;
    let rechecks = 0;
    for (;;) {
      const recheckMs = tried > at.id && rechecks < MAX_RECHECKS ? 10 * 2 ** rechecks : null;
      const waited = await waitForLive(conn, tried, recheckMs, deadline, o.stopped);
      if (waited === 'closed') return { kind: 'closed' };
      if (waited === 'timeout') return { kind: 'events', frames: conn.merge([]), cursor: at.cursor };
      rechecks = waited === 'recheck' ? rechecks + 1 : 0;
      if (conn.newestLive > at.id) {
        const woke = conn.newestLive;
        const page = await readPage(o, at.cursor);
        if (!page.ok) return { kind: 'resync', reason: page.reason, cursor: page.cursor };
        at = page;
        tried = Math.max(tried, woke);
        if (page.frames.length > 0 || page.more) return { kind: 'events', frames: conn.merge(page.frames), cursor: page.cursor };
      }
      if (conn.hasEphemeral) return { kind: 'events', frames: conn.merge([]), cursor: at.cursor };
    }
  } finally {
    o.leases.extend(o.userId);
    unregister();
  }
}

/**
 * One replay page, as this face's frames. A page of only events this face does not show
 * (delivery receipts) has no frames but a later position, so the poll goes on past it.
 */
async function readPage(
  o: PollOptions,
  cursor: string,
): Promise<({ ok: true; more: boolean; frames: { id: number; frame: string }[] } & Position) | ({ ok: false; reason: 'invalid' | 'expired' } & Position)> {
  const r = await o.hub.replay(o.userId, cursor);
  if (!r.ok) return { ok: false, reason: r.reason, ...positionOf(r.cursor) };
  const frames: { id: number; frame: string }[] = [];
  for (const event of r.events) {
    const frame = o.hub.frameFor('messages', event, o.userId);
    if (frame !== null && event.id !== null) frames.push({ id: event.id, frame });
  }
  return { ok: true, more: r.more, frames, ...positionOf(r.cursor) };
}

/**
 * Waits for a logged event newer than `tried`, an ephemeral one, `recheckMs` (when the log
 * is to be read again) or the deadline, whichever comes first.
 */
function waitForLive(
  conn: PendingPoll,
  tried: number,
  recheckMs: number | null,
  deadline: number,
  stopped: Promise<'closed' | 'timeout'>,
): Promise<'event' | 'recheck' | 'timeout' | 'closed'> {
  return new Promise((resolve) => {
    let done = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (why: 'event' | 'recheck' | 'timeout' | 'closed') => {
      if (done) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      conn.onDeliver = null;
      resolve(why);
    };
    void stopped.then(finish);
    // Events of one burst (a write and its read receipt) usually arrive together: answer on
    // the next turn so they share a response.
    const check = () => {
      if (conn.full) finish('event');
      else if (conn.newestLive > tried || conn.hasEphemeral) setImmediate(() => finish('event'));
    };
    conn.onDeliver = check;
    check();
    if (done) return;
    const left = Math.max(0, deadline - Date.now());
    timers.push(setTimeout(() => finish('timeout'), left));
    if (recheckMs !== null && recheckMs < left) timers.push(setTimeout(() => finish('recheck'), recheckMs));
  });
}

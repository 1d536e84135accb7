import type { UserId } from '../../core/index.js';
import type { LiveEvent } from '../../protocol/index.js';
import { encodeCursor } from '../../realtime/cursor.js';
import type { LiveConnection, RealtimeHub } from '../../realtime/hub.js';
import { type Position, positionOf, presenceFrames } from './replay.js';

/** A poll answers with at most this many live events; the client asks again for more. */
const MAX_LIVE_EVENTS = 500;

/**
 * A waiting long-poll as a hub connection. It is registered before the log is read, so an
 * event that happens while the poll replays is not missed; it is kept here, and `take` drops
 * the ones the replay already returned.
 */
class PendingPoll implements LiveConnection {
  readonly face = 'messages' as const;
  private readonly frames: { frame: string; id: number | null }[] = [];
  /** Called on each delivery; the waiting request decides whether it is enough. */
  onDeliver: (() => void) | null = null;

  constructor(readonly userId: UserId) {}

  deliver(frame: string, event: LiveEvent): void {
    if (this.frames.length >= MAX_LIVE_EVENTS) return; // answered soon; the rest come by cursor
    this.frames.push({ frame, id: event.id });
    this.onDeliver?.();
  }

  /** Frames after log position `afterId` (ephemeral ones always), and the last log id among them. */
  take(afterId: number): { frames: string[]; lastId: number | null } {
    const frames: string[] = [];
    let lastId: number | null = null;
    for (const f of this.frames) {
      if (f.id !== null && f.id <= afterId) continue;
      frames.push(f.frame);
      if (f.id !== null) lastId = f.id;
    }
    return { frames, lastId };
  }

  hasAfter(afterId: number): boolean {
    return this.frames.some((f) => f.id === null || f.id > afterId);
  }

  /** The cap is reached: answer now; what was not kept comes by cursor next time. */
  get full(): boolean {
    return this.frames.length >= MAX_LIVE_EVENTS;
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
 * page), otherwise the first live event(s) for the user, or nothing when `timeoutMs` passes.
 * A poll that starts a session (no lease holds the user, see `PollLeases.startsSession`) also
 * gets the presence of the contacts online now, after the replayed events, and at once.
 */
export async function poll(o: PollOptions): Promise<PollResult> {
  const conn = new PendingPoll(o.userId);
  const startsSession = o.leases.startsSession(o.userId);
  const unregister = o.hub.register(conn);
  try {
    const replayed: string[] = [];
    const outcome = await replayOnePage(o, (event) => {
      const frame = o.hub.frameFor('messages', event, o.userId);
      if (frame !== null) replayed.push(frame);
    });
    if (!outcome.ok) return { kind: 'resync', reason: outcome.reason, cursor: outcome.cursor };
    // Read after registering: a change after the read is kept by `conn` and comes after it.
    const snapshot = startsSession ? await presenceFrames(o.hub, o.userId, o.log) : [];
    if (startsSession) o.leases.snapshotGiven(o.userId);
    if (replayed.length > 0 || outcome.more) return { kind: 'events', frames: [...replayed, ...snapshot], cursor: outcome.cursor };
    const waited = snapshot.length > 0 ? 'event' : await waitForLive(conn, outcome, o);
    if (waited === 'closed') return { kind: 'closed' };
    const { frames, lastId } = conn.take(outcome.id);
    return { kind: 'events', frames: [...snapshot, ...frames], cursor: lastId === null ? outcome.cursor : encodeCursor(lastId) };
  } finally {
    o.leases.extend(o.userId);
    unregister();
  }
}

/**
 * One replay page. A page of only events this face does not show (delivery receipts) is
 * answered at once with no events and a later cursor, so the next poll starts past it.
 */
async function replayOnePage(
  o: PollOptions,
  emit: (event: LiveEvent) => void,
): Promise<({ ok: true; more: boolean } & Position) | ({ ok: false; reason: 'invalid' | 'expired' } & Position)> {
  const r = await o.hub.replay(o.userId, o.cursor);
  if (!r.ok) return { ok: false, reason: r.reason, ...positionOf(r.cursor) };
  for (const event of r.events) emit(event);
  return { ok: true, more: r.more, ...positionOf(r.cursor) };
}

function waitForLive(conn: PendingPoll, after: Position, o: PollOptions): Promise<'event' | 'timeout' | 'closed'> {
  return new Promise((resolve) => {
    let done = false;
    let timer: NodeJS.Timeout | null = null;
    const finish = (why: 'event' | 'timeout' | 'closed') => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      conn.onDeliver = null;
      resolve(why);
    };
    void o.stopped.then(finish);
    // Events of one burst (a write and its read receipt) usually arrive together: answer on
    // the next turn so they share a response.
    const check = () => {
      if (conn.full) finish('event');
      else if (conn.hasAfter(after.id)) setImmediate(() => finish('event'));
    };
    conn.onDeliver = check;
    check();
    if (!done) timer = setTimeout(() => finish('timeout'), o.timeoutMs);
  });
}

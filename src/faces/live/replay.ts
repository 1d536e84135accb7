import type { UserId } from '../../core/index.js';
import type { LiveEvent } from '../../protocol/index.js';
import { decodeCursor, encodeCursor } from '../../realtime/cursor.js';
import type { RealtimeHub } from '../../realtime/hub.js';

/** Where a replay ended: the last log id covered and its cursor. */
export interface Position {
  id: number;
  cursor: string;
}

export type ReplayOutcome = ({ ok: true } & Position) | ({ ok: false; reason: 'invalid' | 'expired' } & Position);

/** The log position of a cursor the hub gave out (its own cursors always decode). */
export const positionOf = (cursor: string): Position => ({ id: decodeCursor(cursor) ?? 0, cursor });

/** "Now": the client gets the events after this. */
export async function headPosition(hub: RealtimeHub): Promise<Position> {
  return positionOf(await hub.headCursor());
}

/** Events read from the log at a time by a streamed replay (WebSocket, SSE). */
export const REPLAY_STREAM_PAGE = 100;
/** The first read of a streamed replay, before the size of its events is known. */
const REPLAY_FIRST_PAGE = 20;
/** A replay stops handing frames to a transport holding this many bytes for its client… */
export const REPLAY_HIGH_WATER_BYTES = 64 * 1024;
/** …and goes on once the client has read it down to this. */
export const REPLAY_LOW_WATER_BYTES = 16 * 1024;
/** A client that reads nothing of its replay for this long is disconnected; it resumes by cursor. */
export const REPLAY_STALL_MS = 30_000;

/**
 * How a streamed replay is paced by its transport: what it holds for the client now, whether
 * the client is still there, and how to drop a client that stopped reading.
 */
export interface ReplayPacing {
  buffered(): number;
  open(): boolean;
  /** The client read nothing for `REPLAY_STALL_MS`: disconnect it (it resumes by cursor). */
  stalled(): void;
}

/**
 * Replays everything `userId` missed since `cursor`, handing each event to `emit` (which says
 * how many bytes it sent) in log order, until the log is exhausted or the client is gone.
 * Events are handed over only while the transport holds less than `REPLAY_HIGH_WATER_BYTES`
 * for its client, and the log is read about as many events at a time as fit in that room
 * (from the sizes sent so far); what does not fit is let go, and read again once the client
 * has read its buffer down. A client that does not read thus costs its bounded buffer and
 * nothing else, whatever the gap (and `pacing.stalled` drops it after a while).
 */
export async function replayAll(
  hub: RealtimeHub,
  userId: UserId,
  cursor: string,
  emit: (event: LiveEvent) => number,
  pacing: ReplayPacing,
): Promise<ReplayOutcome> {
  let from = cursor;
  let sentBytes = 0;
  let sentEvents = 0;
  for (;;) {
    if (!pacing.open() || (pacing.buffered() >= REPLAY_HIGH_WATER_BYTES && !(await drained(pacing)))) return { ok: true, ...positionOf(from) };
    const room = REPLAY_HIGH_WATER_BYTES - pacing.buffered();
    const fits = sentEvents === 0 ? REPLAY_FIRST_PAGE : Math.ceil(room / Math.max(1, sentBytes / sentEvents));
    const r = await hub.replay(userId, from, Math.max(1, Math.min(REPLAY_STREAM_PAGE, fits)));
    if (!r.ok) return { ok: false, reason: r.reason, ...positionOf(r.cursor) };
    let full = false;
    for (const event of r.events) {
      if (!pacing.open() || pacing.buffered() >= REPLAY_HIGH_WATER_BYTES) {
        full = true;
        break;
      }
      sentBytes += emit(event);
      sentEvents++;
      if (event.id !== null) from = encodeCursor(event.id);
    }
    if (full) continue;
    from = r.cursor;
    if (!r.more) return { ok: true, ...positionOf(from) };
  }
}

/**
 * Waits until the client has read its buffer down to `REPLAY_LOW_WATER_BYTES`: true, or
 * false when it went away or read nothing for `REPLAY_STALL_MS` (then it is dropped).
 */
async function drained(pacing: ReplayPacing): Promise<boolean> {
  const started = Date.now();
  let last = pacing.buffered();
  let lastProgress = started;
  // Checks soon at first (a reading client drains in milliseconds), then less often.
  for (let delay = 2; ; delay = Math.min(delay * 2, 250)) {
    if (!pacing.open()) return false;
    const now = pacing.buffered();
    if (now <= REPLAY_LOW_WATER_BYTES) return true;
    if (now < last) lastProgress = Date.now();
    last = now;
    if (Date.now() - lastProgress >= REPLAY_STALL_MS) {
      pacing.stalled();
      return false;
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/**
 * The presence snapshot a connection gets right after `ready` (`RealtimeHub.presenceSnapshot`).
 * A failure costs only the snapshot (logged): the connection goes on without it.
 */
export async function presenceSnapshot(hub: RealtimeHub, userId: UserId, log: { error(obj: object, msg: string): void }): Promise<LiveEvent[]> {
  try {
    return await hub.presenceSnapshot(userId);
  } catch (err) {
    log.error({ err }, 'live: presence snapshot failed');
    return [];
  }
}

/** `presenceSnapshot` as frames of the `messages` face. */
export async function presenceFrames(hub: RealtimeHub, userId: UserId, log: { error(obj: object, msg: string): void }): Promise<string[]> {
  const events = await presenceSnapshot(hub, userId, log);
  return events.map((event) => hub.frameFor('messages', event, userId)).filter((f): f is string => f !== null);
}

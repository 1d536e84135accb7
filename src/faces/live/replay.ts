import type { UserId } from '../../core/index.js';
import type { LiveEvent } from '../../protocol/index.js';
import { decodeCursor } from '../../realtime/cursor.js';
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

/**
 * Replays everything `userId` missed since `cursor`, page after page, handing each event to
 * `emit` in log order, until the log is exhausted or `stillWanted` says the client is gone.
 * `betweenPages` lets the transport wait for its client to read what was sent so far, so a
 * long replay is paced by the client instead of piling up in server memory.
 */
export async function replayAll(
  hub: RealtimeHub,
  userId: UserId,
  cursor: string,
  emit: (event: LiveEvent) => void,
  stillWanted: () => boolean,
  betweenPages: () => Promise<void> = async () => {},
): Promise<ReplayOutcome> {
  let from = cursor;
  for (;;) {
    const r = await hub.replay(userId, from);
    if (!r.ok) return { ok: false, reason: r.reason, ...positionOf(r.cursor) };
    for (const event of r.events) emit(event);
    from = r.cursor;
    if (!r.more || !stillWanted()) return { ok: true, ...positionOf(from) };
    await betweenPages();
    if (!stillWanted()) return { ok: true, ...positionOf(from) };
  }
}

/** Resolves once `drained()` holds or `gone()` does, checking every `everyMs`. */
export async function until(drained: () => boolean, gone: () => boolean, everyMs = 10): Promise<void> {
  while (!drained() && !gone()) await new Promise((resolve) => setTimeout(resolve, everyMs));
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

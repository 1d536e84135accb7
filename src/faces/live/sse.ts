import type { ServerResponse } from 'node:http';
import type { UserId } from '../../core/index.js';
import type { LiveEvent, MessagesControl } from '../../protocol/index.js';
import { encodeCursor } from '../../realtime/cursor.js';
import type { LiveConnection, RealtimeHub } from '../../realtime/hub.js';
import { WIRE_TYPE } from './encode.js';
import { headPosition, presenceSnapshot, replayAll } from './replay.js';

export interface SseOptions {
  /** Bytes queued for the client past which the stream is dropped; the client resumes by cursor. */
  maxBufferedBytes: number;
  heartbeatMs: number;
}

// The chunk of a live event is the same for every recipient: build it once per event.
const chunks = new WeakMap<LiveEvent, string>();

/** `id:` (logged events only), `event:` and `data:`. JSON has no raw newline, so one data line. */
function eventChunk(frame: string, event: LiveEvent): string {
  const id = event.id === null ? '' : `id: ${encodeCursor(event.id)}\n`;
  return `${id}event: ${WIRE_TYPE[event.body.type] ?? 'message'}\ndata: ${frame}\n\n`;
}

const controlChunk = (frame: Exclude<MessagesControl, { type: 'pong' } | { type: 'error' }>) =>
  `id: ${frame.cursor}\nevent: ${frame.type}\ndata: ${JSON.stringify(frame)}\n\n`;

/**
 * A Server-Sent Events stream as a hub connection. Live chunks are held while the log is
 * replayed, then sent if the replay did not already contain them.
 */
export class SseStream implements LiveConnection {
  readonly face = 'messages' as const;
  private held: { chunk: string; id: number | null }[] | null = [];
  private heldBytes = 0;
  private replayedUpTo = 0;
  /** The log position this stream is complete up to, once its replay is done. */
  caughtUpTo: number | undefined = undefined;
  private heartbeat: NodeJS.Timeout | null = null;

  constructor(
    readonly userId: UserId,
    private readonly res: ServerResponse,
    private readonly o: SseOptions,
  ) {}

  get open(): boolean {
    return !this.res.writableEnded && !this.res.destroyed;
  }

  deliver(frame: string, event: LiveEvent): void {
    if (event.id !== null && event.id <= this.replayedUpTo) return;
    let chunk = chunks.get(event);
    if (chunk === undefined) chunks.set(event, (chunk = eventChunk(frame, event)));
    if (!this.held) {
      this.write(chunk);
      return;
    }
    this.held.push({ chunk, id: event.id });
    this.heldBytes += chunk.length;
    // Live traffic outpacing a long replay is bounded like an unread socket.
    if (this.heldBytes > this.o.maxBufferedBytes) this.res.destroy();
  }

  /**
   * Writes now, or drops a stream whose client is not reading: it reconnects with its
   * Last-Event-ID. Destroyed rather than ended, since ending would still queue everything.
   */
  write(chunk: string): void {
    if (!this.open) return;
    if (this.res.writableLength > this.o.maxBufferedBytes) {
      this.res.destroy();
      return;
    }
    this.res.write(chunk);
  }

  /**
   * Replays since `cursor` (or starts at the head), then sends `ready`, the presence of the
   * contacts online now, and goes live.
   */
  async start(hub: RealtimeHub, cursor: string | null, log: { error(obj: object, msg: string): void }): Promise<void> {
    // Registered already, so a presence change after this read is held and follows the
    // snapshot. Read alongside the replay.
    const snapshot = presenceSnapshot(hub, this.userId, log);
    let position;
    if (cursor === null) {
      position = await headPosition(hub);
    } else {
      const outcome = await replayAll(
        hub,
        this.userId,
        cursor,
        (event) => {
          const frame = hub.frameFor('messages', event, this.userId);
          if (frame === null) return 0;
          const chunk = eventChunk(frame, event);
          this.write(chunk);
          return chunk.length;
        },
        { buffered: () => this.res.writableLength, open: () => this.open, stalled: () => this.res.destroy() },
      );
      if (!outcome.ok) this.write(controlChunk({ type: 'resync', reason: outcome.reason, cursor: outcome.cursor }));
      position = outcome;
    }
    // As on the WebSocket: everything the replay read has been published once the hub is
    // flushed, so it is in `held` and dropped below.
    await hub.flush();
    const presence = await snapshot;
    this.write(controlChunk({ type: 'ready', user_id: this.userId, cursor: position.cursor }));
    // The contacts online now, as `presence` events without an id: the cursor does not move.
    for (const event of presence) {
      const frame = hub.frameFor('messages', event, this.userId);
      if (frame !== null) this.write(eventChunk(frame, event));
    }
    const held = this.held ?? [];
    this.held = null;
    this.replayedUpTo = position.id;
    this.caughtUpTo = position.id;
    for (const h of held) if (h.id === null || h.id > position.id) this.write(h.chunk);
    if (this.open) {
      // Keeps proxies from timing the stream out, and finds dead clients.
      this.heartbeat = setInterval(() => this.write(': ping\n\n'), this.o.heartbeatMs);
      this.heartbeat.unref();
    }
  }

  /** Stops the timer; called when the response closes, however it closes. */
  stop(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  end(): void {
    this.stop();
    if (this.open) this.res.end();
  }
}

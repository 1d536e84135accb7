import type { WebSocket } from 'ws';
import type { UserId } from '../../core/index.js';
import type { FaceName, LiveConnection } from '../../realtime/hub.js';

/** Close codes this module uses. Protocol-specific codes live in each face's error table. */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  policy: 1008,
  tooBig: 1009,
  internalError: 1011,
  /** "Service restart": the server is stopping; reconnect (to another process) and resume. */
  serviceRestart: 1012,
  /** "Try again later": a slow consumer is cut off and resumes with its cursor. */
  tryAgainLater: 1013,
  /** The user already has `maxConnectionsPerUser` live connections on this process. */
  tooManyConnections: 4008,
} as const;

export interface LiveSocketOptions {
  /** Bytes queued for a socket past which it is disconnected instead of slowing the server. */
  maxBufferedBytes: number;
}

/**
 * A WebSocket as a live connection. Frames are queued in the socket; a client that does not
 * read them fast enough is closed (1013) rather than allowed to grow server memory, and
 * catches up later by cursor.
 */
export class LiveSocket implements LiveConnection {
  /** Set by ping/pong: false until the peer answers the last ping. */
  alive = true;
  /** Frames held back while a resume replays the log; flushed after it. */
  private held: { frame: string; id: number | null }[] | null = null;
  private heldBytes = 0;
  private replayedUpTo = 0;
  /** Set by `release`: the log position this socket is complete up to. */
  caughtUpTo: number | undefined = undefined;

  constructor(
    readonly ws: WebSocket,
    readonly userId: UserId,
    readonly face: FaceName,
    private readonly options: LiveSocketOptions,
  ) {
    ws.on('pong', () => {
      this.alive = true;
    });
  }

  get open(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  deliver(frame: string, event: { id: number | null }): void {
    if (this.held) {
      this.held.push({ frame, id: event.id });
      this.heldBytes += frame.length;
      // Live traffic piling up behind a replay the client does not read is bounded like its buffer.
      if (this.heldBytes > this.options.maxBufferedBytes) this.slowConsumer();
      return;
    }
    // A broker may deliver an event late, after the replay already sent it.
    if (event.id !== null && event.id <= this.replayedUpTo) return;
    this.send(frame);
  }

  /** Sends a frame now, or closes a socket whose peer is not keeping up. */
  send(frame: string): void {
    if (!this.open) return;
    if (this.ws.bufferedAmount > this.options.maxBufferedBytes) {
      this.slowConsumer();
      return;
    }
    this.ws.send(frame);
  }

  /**
   * Closes a socket whose peer does not read (1013); it resumes with its cursor. Held frames
   * go at once: nothing more is sent on a closing socket.
   */
  slowConsumer(): void {
    if (this.held) {
      this.held = [];
      this.heldBytes = 0;
    }
    if (this.open) this.ws.close(CLOSE.tryAgainLater, 'slow consumer: reconnect with your cursor');
  }

  /** How a replay on this socket is paced by what its peer reads (`replayAll`). */
  replayPacing(): { buffered(): number; open(): boolean; stalled(): void } {
    return { buffered: () => this.ws.bufferedAmount, open: () => this.open, stalled: () => this.slowConsumer() };
  }

  sendJson(value: unknown): void {
    this.send(JSON.stringify(value));
  }

  /** Starts holding live frames (before a replay), so none is lost or reordered. */
  hold(): void {
    this.held = [];
  }

  /**
   * Ends a replay: sends the held live frames that the replay did not already contain
   * (logged events up to `replayedUpTo` were in it), in arrival order.
   */
  release(replayedUpTo: number): void {
    const held = this.held ?? [];
    this.held = null;
    this.heldBytes = 0;
    this.replayedUpTo = replayedUpTo;
    this.caughtUpTo = replayedUpTo;
    for (const h of held) if (h.id === null || h.id > this.replayedUpTo) this.send(h.frame);
  }

  /** Pings; a peer that did not answer the previous ping is dropped. */
  heartbeat(): void {
    if (!this.alive) {
      this.ws.terminate();
      return;
    }
    this.alive = false;
    try {
      this.ws.ping();
    } catch {
      this.ws.terminate();
    }
  }
}

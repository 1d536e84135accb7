import type { MessagesClientFrame, MessagesEvent } from '../../src/protocol/index.js';

/** How live events reach the client. */
export type TransportName = 'websocket' | 'polling';

/** How a transport's connection ended. */
export interface TransportEnd {
  /** Whether it ever connected (socket open, or a poll answered). */
  opened: boolean;
  /** Set when retrying cannot help (bad credentials): the client stops. */
  fatal: string | null;
  /** The WebSocket close code, when there was one. */
  code?: number;
}

/** Where a transport reports what it receives; the client implements it. */
export interface TransportSink {
  /** The position to resume from, or null to start at "now". Read at every (re)start and poll. */
  cursor(): string | null;
  /** Live events follow; `cursor` is the position now (`userId` when the server says it). */
  ready(cursor: string, userId: number | null): void;
  /** The cursor could not be resumed from: the client should refetch, then go on from `cursor`. */
  resync(reason: 'expired' | 'invalid', cursor: string): void;
  /** An event, in server order. */
  event(event: MessagesEvent): void;
  /** The position moved past everything delivered so far (long-poll answers carry one). */
  position(cursor: string): void;
  /** The server reported an error about something the client sent. */
  serverError(detail: string): void;
  /** The connection is over; the transport does nothing more. Not called after `stop()`. */
  ended(end: TransportEnd): void;
}

/** One connection attempt of one kind. Started once, stopped once; the client makes a new one to reconnect. */
export interface Transport {
  readonly name: TransportName;
  start(): void;
  /** Ends the connection without reporting `ended`. */
  stop(): void;
  /** Sends a client frame if this transport can, now; false otherwise (the client then uses REST). */
  send(frame: MessagesClientFrame): boolean;
}

/**
 * Messages between the benchmark (main thread, which runs the servers) and its load worker
 * (its own thread, which holds the WebSocket clients and sends over HTTP), so client work does
 * not compete with the server for the event loop being measured.
 *
 * Message contents are `<phase>:<seq>:<sentAt>` (`phase` without a colon); `sentAt` is the
 * worker's `performance.now()` when the request left, so latencies are measured on one clock.
 */

export type LoadCommand =
  /**
   * Opens one WebSocket per URL, as the named group; with `awaitReady`, connected means a
   * `{"type":"ready"}` frame arrived.
   */
  | { cmd: 'connect'; group: string; urls: string[]; awaitReady: boolean }
  /** Counts the frames of `phase` until `total` arrived or `timeoutMs` passed. */
  | { cmd: 'expect'; phase: string; total: number; timeoutMs: number; keepLatencies: boolean }
  /**
   * POSTs `count` messages of `phase` to `url`: at `ratePerSec` (open loop, on schedule), or as
   * fast as `concurrency` requests in flight allow.
   */
  | { cmd: 'send'; phase: string; url: string; headers: Record<string, string>; count: number; ratePerSec?: number; concurrency?: number }
  /** Closes a group's sockets. */
  | { cmd: 'close'; group: string };

export interface ConnectReply {
  connected: number;
  ms: number;
}

export interface ExpectReply {
  count: number;
  /** Worker clock (ms) of the first and last frame of the phase; null if none came. */
  first: number | null;
  last: number | null;
  /** Receive time − send time of every frame, ms (when `keepLatencies`). */
  latencies: number[];
}

export interface SendReply {
  sent: number;
  errors: number;
  firstError: string | null;
  /** Worker clock (ms) when the first request left and the last answer came. */
  start: number;
  end: number;
}

export type LoadRequest = { id: number } & LoadCommand;
export type LoadResponse = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

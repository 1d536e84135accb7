import type { LongPollResponse } from '../../src/protocol/index.js';
import { ParleyHttpError } from './errors.js';
import type { RestClient } from './rest.js';
import type { Transport, TransportSink } from './transport.js';

export interface PollingTransportOptions {
  rest: RestClient;
  /** How long the server holds a poll open when there is nothing to send, in seconds. */
  timeoutSeconds: number;
}

/** Extra time, beyond the server's hold, before the client gives up on one poll. */
const GRACE_MS = 15_000;

/**
 * The long-poll loop on `GET /messages/api/events/?cursor=&timeout=`. The first poll asks with
 * `timeout=0`, so it answers at once with what was missed (or the position now) and the client
 * is "open" without waiting; later polls wait for events. Any failure ends the transport; the
 * client reconnects with backoff and the cursor, like it does for a WebSocket. A cursor the
 * server cannot parse (400) is dropped for the position now, reported as a `resync` — what the
 * WebSocket endpoint says about such a cursor.
 */
export class PollingTransport implements Transport {
  readonly name = 'polling' as const;
  private readonly abort = new AbortController();
  private done = false;

  constructor(
    private readonly o: PollingTransportOptions,
    private readonly sink: TransportSink,
  ) {}

  start(): void {
    void this.loop();
  }

  stop(): void {
    this.done = true;
    this.abort.abort();
  }

  send(): boolean {
    return false;
  }

  private async loop(): Promise<void> {
    let opened = false;
    // Set when the server refused the cursor as malformed (400): poll from "now" and say so.
    let refused = false;
    while (!this.done) {
      let response: LongPollResponse;
      try {
        response = await this.poll(opened ? this.o.timeoutSeconds : 0, refused);
      } catch (err) {
        if (this.done) return;
        if (!refused && err instanceof ParleyHttpError && err.status === 400 && this.sink.cursor() !== null) {
          refused = true;
          continue;
        }
        this.done = true;
        const fatal = err instanceof ParleyHttpError && (err.status === 401 || err.status === 403) ? err.message : null;
        this.sink.ended({ opened, fatal });
        return;
      }
      if (this.done) return;
      if (response.resync) this.sink.resync(response.resync.reason, response.cursor);
      else if (refused) this.sink.resync('invalid', response.cursor);
      refused = false;
      for (const event of response.events) {
        if (this.done) return;
        this.sink.event(event);
      }
      if (this.done) return;
      this.sink.position(response.cursor);
      if (!opened) {
        opened = true;
        this.sink.ready(response.cursor, null);
      }
    }
  }

  private async poll(timeoutSeconds: number, withoutCursor: boolean): Promise<LongPollResponse> {
    const params = new URLSearchParams();
    const cursor = withoutCursor ? null : this.sink.cursor();
    if (cursor !== null) params.set('cursor', cursor);
    params.set('timeout', String(timeoutSeconds));
    // One controller per poll, chained to the transport's, so a stuck poll can time out alone.
    const perPoll = new AbortController();
    const onStop = () => perPoll.abort();
    this.abort.signal.addEventListener('abort', onStop);
    const timer = setTimeout(() => perPoll.abort(), timeoutSeconds * 1000 + GRACE_MS);
    try {
      const r = await this.o.rest.request<LongPollResponse>('GET', `/messages/api/events/?${params}`, undefined, perPoll.signal);
      return r.body;
    } finally {
      clearTimeout(timer);
      this.abort.signal.removeEventListener('abort', onStop);
    }
  }
}

import { randomUUID } from 'node:crypto';
import type { WebhookEndpointConfig } from '../config/index.js';
import {
  type Core,
  type DomainEvent,
  type NewWebhookDelivery,
  type Store,
  type WebhookAttemptOutcome,
  type WebhookDelivery,
  type WebhookDeliveryStatus,
  messageReadSignal,
  messageSentSignal,
  movesReadPosition,
} from '../core/index.js';
import { retryDelayMs } from './backoff.js';
import type { WebhookEventType } from './event-names.js';
import { domainEventData, loadMessageExtras, messageReadData, messageSentData } from './payload.js';
import { signWebhook } from './signature.js';

/** The webhook controls a running Parley exposes (`parley.webhooks`). */
export interface ParleyWebhooks {
  /**
   * Sends now every delivery that is due at `at` (default: the app's clock), as the worker
   * does on its own every second; resolves once each was attempted, with how many were. A
   * later `at` sends retries before their time (tests, or an operator who fixed an endpoint).
   */
  runDue(at?: Date): Promise<number>;
  /** The delivery log, newest first: every status unless `status` is given, at most `limit` (default 50). */
  deliveries(query?: { status?: WebhookDeliveryStatus; limit?: number }): Promise<WebhookDelivery[]>;
  /**
   * Makes a failed (or pending) delivery due now and wakes the worker; one more attempt, its
   * earlier ones kept. Null if there is no such delivery or it was already delivered.
   */
  retry(id: number): Promise<WebhookDelivery | null>;
}

/** Where the dispatcher reports; pino and Fastify loggers fit. */
export interface WebhookLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface WebhookDispatcherOptions {
  core: Core;
  store: Store;
  endpoints: readonly WebhookEndpointConfig[];
  /** Attempts before a delivery is `failed`. */
  maxAttempts: number;
  /** Timeout of one POST. */
  timeoutMs: number;
  now: () => Date;
  log: WebhookLog;
  /** How often the worker looks for due deliveries, also those other processes enqueued (default 1000 ms). */
  pollIntervalMs?: number;
  /**
   * Parley's `publicUrl`. With it, attachments in payloads carry a `url` (absolute and signed);
   * without it file URLs would be relative to a server the receiver may not know, so none is sent.
   */
  publicUrl?: string | null;
}

/** Deliveries one worker pass claims and sends in parallel. */
const BATCH = 10;
/** Longest response text kept in the log. */
const ERROR_TEXT_MAX = 300;

/**
 * Webhooks: subscribes to the core's event stream, writes one delivery per interested
 * endpoint into the store's durable outbox, and runs the worker that POSTs due deliveries,
 * signed, retrying with backoff until `maxAttempts`. Deliveries outlive the process: the
 * worker of the next start (or of another process on the same database) sends them.
 */
export class WebhookDispatcher implements ParleyWebhooks {
  private readonly endpoints: readonly WebhookEndpointConfig[];
  private readonly byUrl: Map<string, WebhookEndpointConfig>;
  private readonly sends = new Set<Promise<unknown>>();
  private readonly shutdown = new AbortController();
  private unsubscribe: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private started = false;
  private looping = false;
  private again = false;
  private stopped = false;

  constructor(private readonly options: WebhookDispatcherOptions) {
    this.endpoints = options.endpoints;
    this.byUrl = new Map(options.endpoints.map((e) => [e.url, e]));
  }

  /** Subscribes to events and starts the worker, which first sends what a previous run left. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    // One pass at start sends what an earlier run left (or, for endpoints no longer
    // configured, marks it failed, so the log says what became of it).
    this.kick();
    // Without endpoints nothing new is ever enqueued: no need to poll the database.
    if (this.endpoints.length === 0) return;
    // Deliveries are stored in the transaction of the write that caused them (nothing stored
    // goes unannounced, even after a crash); once it has committed, the worker sends them.
    const offJournal = this.options.core.events.journal((tx, event) => this.onEvent(event, tx));
    const offEvents = this.options.core.events.on(() => this.kick());
    this.unsubscribe = () => {
      offJournal();
      offEvents();
    };
    this.timer = setInterval(() => this.kick(), this.options.pollIntervalMs ?? 1000);
    this.timer.unref();
  }

  /**
   * Stops taking events and ends in-flight POSTs: those are
   * aborted and due again at once, so the next start sends them. Idempotent.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
    this.shutdown.abort();
    await Promise.allSettled([...this.sends]);
  }

  async deliveries(query: { status?: WebhookDeliveryStatus; limit?: number } = {}): Promise<WebhookDelivery[]> {
    return this.options.store.listWebhookDeliveries({ ...(query.status ? { status: query.status } : {}), limit: query.limit ?? 50 });
  }

  async retry(id: number): Promise<WebhookDelivery | null> {
    const d = await this.options.store.retryWebhookDelivery(id, this.options.now());
    if (d) this.kick();
    return d;
  }

  async runDue(at?: Date): Promise<number> {
    let sent = 0;
    while (!this.stopped) {
      const when = at ?? this.options.now();
      // The lease outlasts the POST's timeout, so a delivery is never claimed twice while sent.
      const lease = new Date(when.getTime() + this.options.timeoutMs + 30_000);
      const batch = await this.options.store.claimWebhookDeliveries(when, lease, BATCH);
      if (batch.length === 0) break;
      await Promise.all(batch.map((d) => this.trackSend(this.deliver(d, when))));
      sent += batch.length;
    }
    return sent;
  }

  // ── events → outbox ────────────────────────────────────────────────────────

  private wants(type: WebhookEventType): WebhookEndpointConfig[] {
    return this.endpoints.filter((e) => e.events.includes('*') || e.events.includes(type));
  }

  private async onEvent(event: DomainEvent, store: Store): Promise<void> {
    if (this.stopped) return;
    const { core } = this.options;
    const rows: NewWebhookDelivery[] = [];
    const add = (type: WebhookEventType, endpoints: WebhookEndpointConfig[], data: Record<string, unknown>) => {
      const eventId = `evt_${randomUUID().replaceAll('-', '')}`;
      const payload = JSON.stringify({ id: eventId, type, created_at: this.options.now().toISOString(), data });
      for (const e of endpoints) rows.push({ endpointUrl: e.url, eventId, eventType: type, payload });
    };

    // A read.updated that did not move the read position only feeds `message_read`.
    const direct = movesReadPosition(event) ? this.wants(event.type) : [];
    const isMessage = event.type === 'message.created' || event.type === 'message.updated';
    const sender = direct.length > 0 && isMessage ? await store.getUser(event.message.senderId) : null;
    // The drf-directmessages signals, derived exactly as the after-hooks derive them.
    const sentTo = event.type === 'message.created' ? this.wants('message_sent') : [];
    const sent = sentTo.length > 0 ? await messageSentSignal(store, event) : null;
    const readTo = event.type === 'read.updated' ? this.wants('message_read') : [];
    const read = readTo.length > 0 ? await messageReadSignal(store, event) : null;
    // Every message any payload shows, with its attachments loaded in one batch.
    const messages = [...(direct.length > 0 && isMessage ? [event.message] : []), ...(sent ? [sent.message] : []), ...(read ? read.messages : [])];
    const extras = await loadMessageExtras(core, messages, Boolean(this.options.publicUrl), store);
    if (direct.length > 0) add(event.type, direct, domainEventData(core, event, sender, extras));
    if (sent) add('message_sent', sentTo, messageSentData(core, sent, extras));
    if (read) add('message_read', readTo, messageReadData(core, read, extras));
    if (rows.length === 0) return;
    await store.enqueueWebhookDeliveries(rows, this.options.now());
  }

  // ── worker ────────────────────────────────────────────────────────────────

  /** Runs a worker pass now, or right after the current one. */
  private kick(): void {
    if (this.stopped) return;
    if (this.looping) {
      this.again = true;
      return;
    }
    this.looping = true;
    void (async () => {
      try {
        do {
          this.again = false;
          await this.runDue();
        } while (this.again && !this.stopped);
      } catch (err) {
        if (!this.stopped) this.options.log.error({ err }, 'webhook worker pass failed');
      } finally {
        this.looping = false;
      }
    })();
  }

  private trackSend<T>(p: Promise<T>): Promise<T> {
    this.sends.add(p);
    void p.finally(() => this.sends.delete(p)).catch(() => {});
    return p;
  }

  /** One attempt of one claimed delivery, and its outcome recorded. `at`: the worker's clock. */
  private async deliver(d: WebhookDelivery, at: Date): Promise<void> {
    const { log } = this.options;
    const endpoint = this.byUrl.get(d.endpointUrl);
    if (!endpoint) {
      await this.record(d, { delivered: false, statusCode: null, error: 'endpoint no longer configured', retryAt: null });
      return;
    }
    const result = await this.post(endpoint, d);
    if (result.ok) {
      await this.record(d, { delivered: true, statusCode: result.status });
      return;
    }
    if (result.interrupted) {
      // Shutting down is not the endpoint's fault: due again at once, for the next start.
      await this.record(d, { delivered: false, statusCode: null, error: result.error, retryAt: at });
      return;
    }
    const retryAt = d.attempts >= this.options.maxAttempts ? null : new Date(at.getTime() + retryDelayMs(d.attempts));
    if (!(await this.record(d, { delivered: false, statusCode: result.status, error: result.error, retryAt }))) return;
    const context = { delivery: d.id, url: d.endpointUrl, event: d.eventType, attempts: d.attempts, status: result.status, error: result.error };
    if (retryAt) log.warn({ ...context, retryAt: retryAt.toISOString() }, 'webhook delivery failed; will retry');
    else log.error(context, 'webhook delivery failed for good');
  }

  /**
   * Records this attempt's outcome; false when the store ignored it because the attempt no
   * longer holds the delivery (its lease ran out and a newer attempt claimed it, or an
   * operator's retry did), so a late result never overwrites the newer one.
   */
  private async record(d: WebhookDelivery, outcome: WebhookAttemptOutcome): Promise<boolean> {
    const recorded = await this.options.store.recordWebhookAttempt(d, outcome, this.options.now());
    if (!recorded) {
      this.options.log.warn({ delivery: d.id, url: d.endpointUrl, attempts: d.attempts }, 'webhook attempt outcome ignored: a newer attempt holds the delivery');
    }
    return recorded !== null;
  }

  private async post(
    endpoint: WebhookEndpointConfig,
    d: WebhookDelivery,
  ): Promise<{ ok: true; status: number } | { ok: false; status: number | null; error: string; interrupted: boolean }> {
    const timestamp = Math.floor(this.options.now().getTime() / 1000);
    try {
      const response = await fetch(endpoint.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Parley-Webhooks',
          'x-parley-event': d.eventType,
          'x-parley-delivery': String(d.id),
          'x-parley-timestamp': String(timestamp),
          'x-parley-signature': signWebhook(endpoint.secret, timestamp, d.payload),
        },
        body: d.payload,
        // A redirect is not a delivery: the endpoint's URL should be the final one.
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(this.options.timeoutMs), this.shutdown.signal]),
      });
      if (response.status >= 200 && response.status < 300) {
        await response.body?.cancel().catch(() => {});
        return { ok: true, status: response.status };
      }
      const text = await response.text().catch(() => '');
      const error = `HTTP ${response.status}${text ? `: ${text.slice(0, ERROR_TEXT_MAX)}` : ''}`;
      return { ok: false, status: response.status, error, interrupted: false };
    } catch (err) {
      if (this.shutdown.signal.aborted) return { ok: false, status: null, error: 'interrupted by shutdown', interrupted: true };
      return { ok: false, status: null, error: failureText(err, this.options.timeoutMs), interrupted: false };
    }
  }
}

/** A fetch failure in a few words: a timeout, or the network error underneath "fetch failed". */
function failureText(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `timed out after ${timeoutMs} ms`;
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? err.cause : null;
    const code = (cause as { code?: unknown } | null)?.code;
    return typeof code === 'string' ? `${err.message} (${code})` : cause ? `${err.message}: ${cause.message}` : err.message;
  }
  return String(err);
}

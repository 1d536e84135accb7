import type Database from 'better-sqlite3';
import type {
  NewWebhookDelivery,
  WebhookAttemptOutcome,
  WebhookClaim,
  WebhookDelivery,
  WebhookDeliveryStatus,
} from '../../core/ports/store.js';

/** A `webhook_deliveries` row as SQLite returns it (times in epoch milliseconds). */
interface DeliveryRow {
  id: number;
  endpoint_url: string;
  event_id: string;
  event_type: string;
  payload: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  next_attempt_at: number;
  last_status_code: number | null;
  last_error: string | null;
  created_at: number;
  delivered_at: number | null;
}

const toDelivery = (r: DeliveryRow): WebhookDelivery => ({
  id: r.id,
  endpointUrl: r.endpoint_url,
  eventId: r.event_id,
  eventType: r.event_type,
  payload: r.payload,
  status: r.status,
  attempts: r.attempts,
  nextAttemptAt: new Date(r.next_attempt_at),
  lastStatusCode: r.last_status_code,
  lastError: r.last_error,
  createdAt: new Date(r.created_at),
  deliveredAt: r.delivered_at === null ? null : new Date(r.delivered_at),
});

/**
 * The webhook outbox on SQLite (the `Store` port's webhook methods). One connection per
 * process and a claim that is a single UPDATE … RETURNING: two processes sharing the file
 * take SQLite's write lock in turn, so they never claim the same row.
 */
export class SqliteWebhookOutbox {
  constructor(private readonly db: Database.Database) {}

  enqueue(input: readonly NewWebhookDelivery[], now: Date): WebhookDelivery[] {
    const insert = this.db.prepare(
      `INSERT INTO webhook_deliveries (endpoint_url, event_id, event_type, payload, next_attempt_at, created_at)
       VALUES (?, ?, ?, ?, ?, ?) RETURNING *`,
    );
    return this.db.transaction(() =>
      input.map((d) => toDelivery(insert.get(d.endpointUrl, d.eventId, d.eventType, d.payload, now.getTime(), now.getTime()) as DeliveryRow)),
    )();
  }

  claim(now: Date, leaseUntil: Date, limit: number): WebhookDelivery[] {
    const rows = this.db
      .prepare(
        `UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = @lease
         WHERE id IN (SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= @now
                      ORDER BY next_attempt_at, id LIMIT @limit)
         RETURNING *`,
      )
      .all({ now: now.getTime(), lease: leaseUntil.getTime(), limit }) as DeliveryRow[];
    return rows.map(toDelivery).sort((a, b) => a.id - b.id);
  }

  /** Fenced by the attempt number: a stale sender (lease lapsed, claimed again) changes nothing. */
  record(claimed: WebhookClaim, outcome: WebhookAttemptOutcome, now: Date): WebhookDelivery | null {
    const held = `id = @id AND attempts = @attempt AND status = 'pending'`;
    const row = outcome.delivered
      ? this.db
          .prepare(
            `UPDATE webhook_deliveries SET status = 'delivered', delivered_at = @now, next_attempt_at = @now,
               last_status_code = @code, last_error = NULL
             WHERE ${held} RETURNING *`,
          )
          .get({ id: claimed.id, attempt: claimed.attempts, now: now.getTime(), code: outcome.statusCode })
      : this.db
          .prepare(
            `UPDATE webhook_deliveries SET status = @status, next_attempt_at = @next, last_status_code = @code, last_error = @error
             WHERE ${held} RETURNING *`,
          )
          .get({
            id: claimed.id,
            attempt: claimed.attempts,
            status: outcome.retryAt ? 'pending' : 'failed',
            next: (outcome.retryAt ?? now).getTime(),
            code: outcome.statusCode,
            error: outcome.error,
          });
    return row ? toDelivery(row as DeliveryRow) : null;
  }

  get(id: number): WebhookDelivery | null {
    const row = this.db.prepare('SELECT * FROM webhook_deliveries WHERE id = ?').get(id) as DeliveryRow | undefined;
    return row ? toDelivery(row) : null;
  }

  list(query: { status?: WebhookDeliveryStatus; limit: number }): WebhookDelivery[] {
    const rows = query.status
      ? this.db.prepare('SELECT * FROM webhook_deliveries WHERE status = ? ORDER BY id DESC LIMIT ?').all(query.status, query.limit)
      : this.db.prepare('SELECT * FROM webhook_deliveries ORDER BY id DESC LIMIT ?').all(query.limit);
    return (rows as DeliveryRow[]).map(toDelivery);
  }

  retry(id: number, now: Date): WebhookDelivery | null {
    const row = this.db
      .prepare(
        `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?
         WHERE id = ? AND status IN ('pending', 'failed') RETURNING *`,
      )
      .get(now.getTime(), id) as DeliveryRow | undefined;
    return row ? toDelivery(row) : null;
  }
}

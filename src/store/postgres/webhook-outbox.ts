import type {
  NewWebhookDelivery,
  WebhookAttemptOutcome,
  WebhookClaim,
  WebhookDelivery,
  WebhookDeliveryStatus,
} from '../../core/ports/store.js';

/** A `webhook_deliveries` row as node-postgres returns it. */
interface DeliveryRow {
  id: number;
  endpoint_url: string;
  event_id: string;
  event_type: string;
  payload: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  next_attempt_at: Date;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Date;
  delivered_at: Date | null;
}

const toDelivery = (r: DeliveryRow): WebhookDelivery => ({
  id: r.id,
  endpointUrl: r.endpoint_url,
  eventId: r.event_id,
  eventType: r.event_type,
  payload: r.payload,
  status: r.status,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  lastStatusCode: r.last_status_code,
  lastError: r.last_error,
  createdAt: r.created_at,
  deliveredAt: r.delivered_at,
});

/** Runs one statement and returns its rows (the store's pooled, error-translating runner). */
export type RowsQuery = <R extends object>(text: string, values: readonly unknown[]) => Promise<R[]>;

/**
 * The webhook outbox on PostgreSQL (the `Store` port's webhook methods). Every method is one
 * statement, so atomic without a transaction; the claim locks its rows with
 * `FOR UPDATE SKIP LOCKED`, so concurrent processes each take different deliveries without
 * waiting for one another, and leases them by moving `next_attempt_at`.
 */
export class PostgresWebhookOutbox {
  constructor(private readonly rows: RowsQuery) {}

  async enqueue(input: readonly NewWebhookDelivery[], now: Date): Promise<WebhookDelivery[]> {
    if (input.length === 0) return [];
    const rows = await this.rows<DeliveryRow>(
      `INSERT INTO webhook_deliveries (endpoint_url, event_id, event_type, payload, next_attempt_at, created_at)
       SELECT u, e, t, p, $5, $5 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS x(u, e, t, p, n)
       ORDER BY n
       RETURNING *`,
      [input.map((d) => d.endpointUrl), input.map((d) => d.eventId), input.map((d) => d.eventType), input.map((d) => d.payload), now],
    );
    // Identity values follow the insertion order, which follows `n`.
    return rows.map(toDelivery).sort((a, b) => a.id - b.id);
  }

  async claim(now: Date, leaseUntil: Date, limit: number): Promise<WebhookDelivery[]> {
    const rows = await this.rows<DeliveryRow>(
      `UPDATE webhook_deliveries d SET attempts = d.attempts + 1, next_attempt_at = $2
       FROM (SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $1
             ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) due
       WHERE d.id = due.id
       RETURNING d.*`,
      [now, leaseUntil, limit],
    );
    return rows.map(toDelivery).sort((a, b) => a.id - b.id);
  }

  /** Fenced by the attempt number: a stale sender (lease lapsed, claimed again) changes nothing. */
  async record(claimed: WebhookClaim, outcome: WebhookAttemptOutcome, now: Date): Promise<WebhookDelivery | null> {
    const rows = outcome.delivered
      ? await this.rows<DeliveryRow>(
          `UPDATE webhook_deliveries SET status = 'delivered', delivered_at = $3, next_attempt_at = $3,
             last_status_code = $4, last_error = NULL
           WHERE id = $1 AND attempts = $2 AND status = 'pending' RETURNING *`,
          [claimed.id, claimed.attempts, now, outcome.statusCode],
        )
      : await this.rows<DeliveryRow>(
          `UPDATE webhook_deliveries SET status = $3, next_attempt_at = $4, last_status_code = $5, last_error = $6
           WHERE id = $1 AND attempts = $2 AND status = 'pending' RETURNING *`,
          [claimed.id, claimed.attempts, outcome.retryAt ? 'pending' : 'failed', outcome.retryAt ?? now, outcome.statusCode, outcome.error],
        );
    return rows[0] ? toDelivery(rows[0]) : null;
  }

  async get(id: number): Promise<WebhookDelivery | null> {
    const rows = await this.rows<DeliveryRow>('SELECT * FROM webhook_deliveries WHERE id = $1', [id]);
    return rows[0] ? toDelivery(rows[0]) : null;
  }

  async list(query: { status?: WebhookDeliveryStatus; limit: number }): Promise<WebhookDelivery[]> {
    const rows = query.status
      ? await this.rows<DeliveryRow>('SELECT * FROM webhook_deliveries WHERE status = $1 ORDER BY id DESC LIMIT $2', [query.status, query.limit])
      : await this.rows<DeliveryRow>('SELECT * FROM webhook_deliveries ORDER BY id DESC LIMIT $1', [query.limit]);
    return rows.map(toDelivery);
  }

  async retry(id: number, now: Date): Promise<WebhookDelivery | null> {
    const rows = await this.rows<DeliveryRow>(
      `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $2
       WHERE id = $1 AND status IN ('pending', 'failed') RETURNING *`,
      [id, now],
    );
    return rows[0] ? toDelivery(rows[0]) : null;
  }
}

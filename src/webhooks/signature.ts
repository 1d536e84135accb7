import { createHmac, timingSafeEqual } from 'node:crypto';

/** The signature scheme's version tag, as in `X-Parley-Signature: v1=<hex>`. */
const SCHEME = 'v1';

/**
 * The `X-Parley-Signature` value for a body sent at `timestamp` (unix seconds):
 * `v1=` + hex HMAC-SHA256 keyed with the endpoint's secret over `${timestamp}.${body}`.
 * Signing the timestamp with the body is what lets a receiver reject replays.
 */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `${SCHEME}=${hmacHex(secret, String(timestamp), body)}`;
}

/** What `verifyWebhookSignature` checks: the request as the receiver got it. */
export interface VerifyWebhookSignatureInput {
  /** The endpoint's secret, as configured in Parley's `webhooks`. */
  secret: string;
  /** The raw request body, exactly as received (not re-serialised JSON). */
  body: string | Buffer;
  /** The `X-Parley-Timestamp` header (unix seconds). */
  timestamp: string | number | null | undefined;
  /** The `X-Parley-Signature` header; several comma-separated `v1=` values are accepted. */
  signature: string | null | undefined;
  /** How old (or far in the future) the timestamp may be, in seconds. Default 300. */
  toleranceSeconds?: number;
  /** The receiver's clock; default `Date.now()`. */
  now?: Date;
}

/**
 * For webhook receivers: true if the body was signed with `secret` at `timestamp`, and the
 * timestamp lies within `toleranceSeconds` of now (an old request replayed later is refused).
 * The comparison takes the same time whatever the signature, so it leaks nothing.
 *
 * ```ts
 * const ok = verifyWebhookSignature({
 *   secret: process.env.PARLEY_WEBHOOK_SECRET!,
 *   body: rawBody,
 *   timestamp: req.headers['x-parley-timestamp'],
 *   signature: req.headers['x-parley-signature'],
 * });
 * if (!ok) return res.writeHead(400).end();
 * ```
 */
export function verifyWebhookSignature(input: VerifyWebhookSignatureInput): boolean {
  const { secret, signature } = input;
  const timestamp = input.timestamp === null || input.timestamp === undefined ? '' : String(input.timestamp).trim();
  if (!/^\d{1,12}$/.test(timestamp) || !signature || !secret) return false;
  const tolerance = input.toleranceSeconds ?? 300;
  const nowSeconds = Math.floor((input.now?.getTime() ?? Date.now()) / 1000);
  if (Math.abs(nowSeconds - Number(timestamp)) > tolerance) return false;
  const expected = Buffer.from(hmacHex(secret, timestamp, input.body), 'utf8');
  let match = false;
  for (const part of signature.split(',')) {
    const [scheme, value] = part.trim().split('=', 2);
    if (scheme !== SCHEME || value === undefined) continue;
    const given = Buffer.from(value.toLowerCase(), 'utf8');
    // Compare every candidate (no early exit) so timing says nothing about which matched.
    if (given.length === expected.length && timingSafeEqual(given, expected)) match = true;
  }
  return match;
}

function hmacHex(secret: string, timestamp: string, body: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

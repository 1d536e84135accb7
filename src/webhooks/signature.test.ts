import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { retryDelayMs } from './backoff.js';
import { signWebhook, verifyWebhookSignature } from './signature.js';

const secret = 'whsec-unit-0123456789';
const body = '{"id":"evt_1","type":"message_sent","data":{}}';
const now = new Date('2026-01-01T00:00:00Z');
const ts = Math.floor(now.getTime() / 1000);

describe('webhook signatures', () => {
  it('signs `${timestamp}.${body}` with HMAC-SHA256, hex, under v1=', () => {
    const hex = createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex');
    expect(signWebhook(secret, ts, body)).toBe(`v1=${hex}`);
  });

  it('verifies a fresh signature over the raw body, as a string or bytes', () => {
    const signature = signWebhook(secret, ts, body);
    expect(verifyWebhookSignature({ secret, body, timestamp: String(ts), signature, now })).toBe(true);
    expect(verifyWebhookSignature({ secret, body: Buffer.from(body), timestamp: ts, signature, now })).toBe(true);
    // Several signatures (a secret being rotated): one match is enough.
    expect(verifyWebhookSignature({ secret, body, timestamp: ts, signature: `v1=${'0'.repeat(64)}, ${signature}`, now })).toBe(true);
  });

  it('refuses another secret, another body, a missing header, and a timestamp outside the tolerance', () => {
    const signature = signWebhook(secret, ts, body);
    expect(verifyWebhookSignature({ secret: `${secret}x`, body, timestamp: ts, signature, now })).toBe(false);
    expect(verifyWebhookSignature({ secret, body: `${body} `, timestamp: ts, signature, now })).toBe(false);
    expect(verifyWebhookSignature({ secret, body, timestamp: undefined, signature, now })).toBe(false);
    expect(verifyWebhookSignature({ secret, body, timestamp: ts, signature: undefined, now })).toBe(false);
    expect(verifyWebhookSignature({ secret, body, timestamp: ts, signature: signature.replace('v1=', 'v0='), now })).toBe(false);
    expect(verifyWebhookSignature({ secret, body, timestamp: 'soon', signature, now })).toBe(false);
    const late = new Date(now.getTime() + 301_000);
    expect(verifyWebhookSignature({ secret, body, timestamp: ts, signature, now: late })).toBe(false);
    expect(verifyWebhookSignature({ secret, body, timestamp: ts, signature, now: late, toleranceSeconds: 600 })).toBe(true);
    // A timestamp from the future is as suspect as an old one.
    expect(verifyWebhookSignature({ secret, body, timestamp: ts, signature, now: new Date(now.getTime() - 301_000) })).toBe(false);
  });
});

describe('webhook retry backoff', () => {
  it('grows 10 s, 30 s, 2 min, 10 min … up to 6 h, within ±15%', () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 50].map((n) => retryDelayMs(n, mid) / 1000)).toEqual([10, 30, 120, 600, 1800, 3600, 7200, 14_400, 21_600, 21_600]);
    expect(retryDelayMs(1, () => 0)).toBe(8500);
    expect(retryDelayMs(1, () => 1)).toBe(11_500);
  });
});

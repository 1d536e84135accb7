/**
 * A webhook receiver: a plain node:http server that accepts Parley's webhook POSTs only when
 * their signature checks out, and ignores a delivery it has already seen (Parley delivers at
 * least once, so a retry after a lost response can repeat one).
 *
 * Configure Parley with the same secret, e.g. in parley.config.json:
 *
 *   { "webhooks": [{ "url": "http://127.0.0.1:4000/parley-webhook",
 *                    "events": ["message_sent", "message.created"],
 *                    "secret": "a-long-random-secret-string" }] }
 *
 *   PARLEY_WEBHOOK_SECRET=a-long-random-secret-string npx tsx examples/webhook-receiver/server.ts
 *
 * Without Parley as a library, the check is five lines of node:crypto:
 *
 *   const expected = 'v1=' + createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex');
 *   const fresh = Math.abs(Date.now() / 1000 - Number(timestamp)) <= 300;
 *   const ok = fresh && signature.split(',').some((s) =>
 *     s.trim().length === expected.length && timingSafeEqual(Buffer.from(s.trim()), Buffer.from(expected)));
 */
import { type IncomingMessage, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { verifyWebhookSignature } from '../../src/index.js';

/** A webhook body as Parley sends it. */
export interface WebhookEvent {
  id: string;
  type: string;
  created_at: string;
  data: Record<string, unknown>;
}

export interface Receiver {
  url: string;
  /** Verified events, in the order they arrived, each once. */
  events: WebhookEvent[];
  /** Requests refused for a bad or missing signature. */
  rejected: number;
}

let server: Server | null = null;

/** Listens on `port` (0: any free one); `url` is the endpoint to configure in Parley. */
export async function start(port = 4000, secret = process.env.PARLEY_WEBHOOK_SECRET ?? ''): Promise<Receiver> {
  if (secret.length < 16) throw new Error('PARLEY_WEBHOOK_SECRET: the endpoint secret, 16+ characters, as configured in Parley');
  const state: Omit<Receiver, 'url'> = { events: [], rejected: 0 };
  const seen = new Set<string>();
  server = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/parley-webhook') return void res.writeHead(404).end();
    void readBody(req).then((body) => {
      // The raw bytes as received: re-serialised JSON would not match the signature.
      const ok = verifyWebhookSignature({
        secret,
        body,
        timestamp: req.headers['x-parley-timestamp'] as string | undefined,
        signature: req.headers['x-parley-signature'] as string | undefined,
      });
      if (!ok) {
        state.rejected += 1;
        return void res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"bad signature"}');
      }
      const event = JSON.parse(body.toString('utf8')) as WebhookEvent;
      if (!seen.has(event.id)) {
        seen.add(event.id);
        state.events.push(event);
        console.log(`${event.type} ${event.id}`);
      }
      // Answer quickly with a 2xx; slow work belongs in a queue of the receiver's own.
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server?.listen(port, '127.0.0.1', resolve));
  const { port: actual } = server.address() as AddressInfo;
  return Object.assign(state, { url: `http://127.0.0.1:${actual}/parley-webhook` });
}

export async function stop(): Promise<void> {
  const s = server;
  server = null;
  await new Promise<void>((resolve) => (s ? s.close(() => resolve()) : resolve()));
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { url } = await start(Number(process.env.PORT ?? 4000));
  console.log(`Webhook receiver on ${url}`);
  const shutdown = () => void stop().then(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { type ParleyOptions, type WebhookDelivery, verifyWebhookSignature } from '../../src/index.js';
import { type PublicServer, type TestUser, startParley } from './harness.js';

/** Webhooks, through the public API (`createParley({ webhooks })`, `parley.webhooks`) and the CLI. */

const SECRET = 'whsec-test-0123456789abcdef';
const HOUR = 3_600_000;
const later = (ms = HOUR) => new Date(Date.now() + ms);

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  json: { id: string; type: string; created_at: string; data: Record<string, any> };
}

/** A local endpoint that records every POST and answers with the next queued status (then `fallback`). */
class Receiver {
  readonly requests: Received[] = [];
  readonly statuses: number[] = [];
  fallback = 200;
  private server: Server | null = null;
  url = '';

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        this.requests.push({ headers: req.headers, body, json: JSON.parse(body) as Received['json'] });
        const status = this.statuses.shift() ?? this.fallback;
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status >= 300 ? 'receiver says no' : 'ok');
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
    return this;
  }

  ofType(type: string): Received[] {
    return this.requests.filter((r) => r.json.type === type);
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    await new Promise<void>((resolve) => (s ? s.close(() => resolve()) : resolve()));
  }
}

async function until<T>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function parleyWith(options: ParleyOptions): Promise<PublicServer> {
  const server = await startParley(options);
  cleanups.push(() => server.close());
  return server;
}

async function receiver(port = 0): Promise<Receiver> {
  const r = await new Receiver().start(port);
  cleanups.push(() => r.stop());
  return r;
}

/** Alice opens a DM with Bob and sends `content`; returns the chat id. */
async function dm(alice: TestUser, bob: TestUser, content: string): Promise<number> {
  const chat = await alice.client.post('/messages/api/chats/', { chat_type: 'dm', member_ids: [bob.id] });
  expect(chat.status).toBe(201);
  const sent = await alice.client.post(`/messages/api/chats/${chat.body.id}/messages/`, { content });
  expect(sent.status).toBe(201);
  return chat.body.id as number;
}

/** Uploads a text file as `user` (multipart, as a browser would). */
async function uploadText(server: PublicServer, user: TestUser, name: string, text: string): Promise<{ id: number }> {
  const form = new FormData();
  form.append('file', new Blob([text], { type: 'text/plain' }), name);
  const r = await fetch(`${server.url}/messages/api/uploads/`, { method: 'POST', headers: { authorization: `Token ${user.token}` }, body: form });
  expect(r.status).toBe(201);
  return (await r.json()) as { id: number };
}

const deliveryOf = async (server: PublicServer, type: string): Promise<WebhookDelivery | undefined> =>
  (await server.parley.webhooks.deliveries()).find((d) => d.eventType === type);

describe('webhooks', { timeout: 30_000 }, () => {
  it('POSTs the chosen events, signed, with the documented headers and body, and nothing else', async () => {
    const a = await receiver();
    const b = await receiver();
    const server = await parleyWith({
      webhooks: [
        { url: a.url, events: ['message.created', 'message_sent'], secret: SECRET, description: 'chat bot' },
        { url: b.url, events: ['conversation.created'], secret: 'another-secret-of-16+' },
      ],
    });
    const alice = await server.user('alice', { display_name: 'Alice' });
    const bob = await server.user('bob');
    const chatId = await dm(alice, bob, 'hello over webhooks');

    await until(() => a.requests.length >= 2 && b.requests.length >= 1, 'three deliveries');
    const created = a.ofType('message.created')[0]!;
    const sent = a.ofType('message_sent')[0]!;
    for (const r of [created, sent]) {
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['user-agent']).toBe('Parley-Webhooks');
      expect(r.headers['x-parley-event']).toBe(r.json.type);
      expect(r.headers['x-parley-delivery']).toMatch(/^\d+$/);
      expect(Math.abs(Number(r.headers['x-parley-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
      expect(r.headers['x-parley-signature']).toMatch(/^v1=[0-9a-f]{64}$/);
      const check = { body: r.body, timestamp: r.headers['x-parley-timestamp'] as string, signature: r.headers['x-parley-signature'] as string };
      expect(verifyWebhookSignature({ secret: SECRET, ...check })).toBe(true);
      // A wrong secret, a changed body or a stale timestamp does not verify.
      expect(verifyWebhookSignature({ secret: 'not-the-right-secret', ...check })).toBe(false);
      expect(verifyWebhookSignature({ secret: SECRET, ...check, body: r.body.replace('hello', 'HELLO') })).toBe(false);
      expect(verifyWebhookSignature({ secret: SECRET, ...check, now: later(10 * 60_000) })).toBe(false);
      expect(r.json.id).toMatch(/^evt_[0-9a-f]{32}$/);
      expect(new Date(r.json.created_at).toISOString()).toBe(r.json.created_at);
    }
    expect(created.json.data).toMatchObject({
      conversation: { id: chatId, kind: 'dm', title: null, is_public: false },
      message: { conversation_id: chatId, seq: 1, sender_id: alice.id, content: 'hello over webhooks', parent_id: null, is_deleted: false },
      sender: { id: alice.id, username: 'alice', display_name: 'Alice' },
    });
    expect(sent.json.data).toMatchObject({
      message: { content: 'hello over webhooks' },
      from_user: { id: alice.id, username: 'alice' },
      to: { id: bob.id, username: 'bob' },
    });
    expect(sent.json.data.from_user).not.toHaveProperty('email');
    expect(b.requests.map((r) => r.json.type)).toEqual(['conversation.created']);
    expect(b.requests[0]!.json.data.conversation.id).toBe(chatId);
    expect(verifyWebhookSignature({ secret: SECRET, body: b.requests[0]!.body, timestamp: b.requests[0]!.headers['x-parley-timestamp'] as string, signature: b.requests[0]!.headers['x-parley-signature'] as string })).toBe(false);

    // Bob reads the DM: message_read is chosen by no endpoint, so nothing more is sent.
    expect((await bob.client.post(`/messages/api/chats/${chatId}/mark-as-read/`)).status).toBeLessThan(300);
    const log = await until(async () => {
      const all = await server.parley.webhooks.deliveries();
      return all.every((d) => d.status === 'delivered') && all;
    }, 'every delivery delivered');
    expect(log.map((d) => [d.endpointUrl, d.eventType]).sort()).toEqual(
      [
        [a.url, 'message.created'],
        [a.url, 'message_sent'],
        [b.url, 'conversation.created'],
      ].sort(),
    );
    expect(a.requests).toHaveLength(2);
    expect(log.every((d) => d.attempts === 1 && d.lastStatusCode === 200)).toBe(true);
  });

  it('retries a delivery the receiver refused, and records each attempt', async () => {
    const r = await receiver();
    r.statuses.push(500);
    const server = await parleyWith({ webhooks: [{ url: r.url, events: ['message.created'], secret: SECRET }] });
    const alice = await server.user('alice');
    const bob = await server.user('bob');
    await dm(alice, bob, 'try, try again');

    const first = await until(async () => {
      const d = await deliveryOf(server, 'message.created');
      return d?.lastStatusCode === 500 && d;
    }, 'the refused first attempt');
    expect(first).toMatchObject({ status: 'pending', attempts: 1, lastError: 'HTTP 500: receiver says no' });
    // Backoff: the retry is due about 10 s later, not at once.
    const waitMs = first.nextAttemptAt.getTime() - Date.now();
    expect(waitMs).toBeGreaterThan(5_000);
    expect(waitMs).toBeLessThan(15_000);
    expect(await server.parley.webhooks.runDue()).toBe(0);

    // The worker as it will run once the retry is due.
    expect(await server.parley.webhooks.runDue(later())).toBe(1);
    const done = await deliveryOf(server, 'message.created');
    expect(done).toMatchObject({ status: 'delivered', attempts: 2, lastStatusCode: 200, lastError: null });
    expect(r.requests).toHaveLength(2);
    // The same delivery and event both times, signed afresh.
    expect(r.requests[1]!.headers['x-parley-delivery']).toBe(r.requests[0]!.headers['x-parley-delivery']);
    expect(r.requests[1]!.body).toBe(r.requests[0]!.body);
  });

  it('keeps undelivered webhooks across a restart and delivers them once the receiver is up', async () => {
    // A port with nothing listening: the receiver is down.
    const probe = await new Receiver().start();
    const port = Number(new URL(probe.url).port);
    await probe.stop();
    const url = `http://127.0.0.1:${port}/hook`;
    const storage = await sharedStorage();
    const options: ParleyOptions = { ...storage.options, webhooks: [{ url, events: ['message_sent'], secret: SECRET }] };

    const first = await startParley(options);
    let stopped = false;
    cleanups.push(async () => {
      if (!stopped) await first.close();
    });
    const alice = await first.user('alice');
    const bob = await first.user('bob');
    await dm(alice, bob, 'are you there?');
    const failed = await until(async () => {
      const d = await deliveryOf(first, 'message_sent');
      return d && d.lastError !== null ? d : undefined;
    }, 'a failed attempt');
    expect(failed).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: null });
    expect(failed.lastError).toMatch(/fetch failed|ECONNREFUSED/);
    await first.close();
    stopped = true;

    const r = await receiver(port);
    const second = await parleyWith(options);
    expect((await second.parley.webhooks.deliveries()).map((d) => d.id)).toEqual([failed.id]);
    await second.parley.webhooks.runDue(later());
    const [got] = await until(() => r.ofType('message_sent').length > 0 && r.ofType('message_sent'), 'the delivery after the restart');
    expect(got!.json.data.message.content).toBe('are you there?');
    expect(await deliveryOf(second, 'message_sent')).toMatchObject({ status: 'delivered', attempts: 2 });
  });

  it('marks a delivery failed after webhookMaxAttempts, shows it in `parley webhooks log`, and `retry` re-sends it', { timeout: 90_000 }, async () => {
    const r = await receiver();
    r.fallback = 503;
    const server = await parleyWith({ webhooks: [{ url: r.url, events: ['message.created'], secret: SECRET }], webhookMaxAttempts: 2 });
    const alice = await server.user('alice');
    const bob = await server.user('bob');
    await dm(alice, bob, 'doomed');
    await until(async () => (await deliveryOf(server, 'message.created'))?.lastStatusCode === 503, 'the first attempt, recorded');
    await server.parley.webhooks.runDue(later());
    const failed = await deliveryOf(server, 'message.created');
    expect(failed).toMatchObject({ status: 'failed', attempts: 2, lastStatusCode: 503 });
    // Failed for good: not even a much later run sends it again.
    expect(await server.parley.webhooks.runDue(later(100 * HOUR))).toBe(0);
    expect(r.requests).toHaveLength(2);

    const env = { ...process.env, DATABASE_URL: server.parley.config.databaseUrl, PARLEY_DATA_DIR: server.parley.config.dataDir, PARLEY_CONFIG: '', LOG_LEVEL: 'silent' };
    const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'webhooks', ...args], { env });
    // Commands that change nothing run at once: each is a Node process compiling TypeScript, slow.
    const [table, jsonOut, unknown] = await Promise.all([
      cli('log', '--status', 'failed'),
      cli('log', '--json', '--limit', '5'),
      cli('retry', '999999').catch((e: unknown) => e),
    ]);
    expect(unknown).toMatchObject({ code: 2, stderr: expect.stringMatching(/No failed or pending webhook delivery with id 999999/) });
    expect(table.stdout).toMatch(/ID\s+STATUS\s+ATTEMPTS\s+EVENT\s+URL/);
    expect(table.stdout).toContain(`${failed!.id}`);
    expect(table.stdout).toMatch(/failed\s+2\s+message\.created/);
    expect(table.stdout).toContain('HTTP 503');
    const json = JSON.parse(jsonOut.stdout) as Array<Record<string, any>>;
    expect(json).toEqual([
      expect.objectContaining({ id: failed!.id, status: 'failed', attempts: 2, event_type: 'message.created', url: r.url, last_status_code: 503 }),
    ]);
    expect(json[0]!.body).toMatchObject({ type: 'message.created', data: { message: { content: 'doomed' } } });

    r.fallback = 200;
    expect((await cli('retry', String(failed!.id))).stdout).toMatch(new RegExp(`Delivery ${failed!.id} .* due again`));
    // The running server's worker picks it up on its own.
    await until(async () => (await deliveryOf(server, 'message.created'))?.status === 'delivered', 'the retried delivery', 15_000);
    expect(await deliveryOf(server, 'message.created')).toMatchObject({ attempts: 3, lastStatusCode: 200 });
    expect(r.requests).toHaveLength(3);
  });

  it('message payloads carry metadata, reply and forward ids and attachments; file URLs only with publicUrl', async () => {
    const PUBLIC = 'https://chat.example.com';
    for (const publicUrl of [PUBLIC, null]) {
      const r = await receiver();
      const server = await parleyWith({ ...(publicUrl ? { publicUrl } : {}), webhooks: [{ url: r.url, events: ['message.created', 'message_sent', 'conversation.created'], secret: SECRET }] });
      const alice = await server.user('alice');
      const bob = await server.user('bob');
      const chat = await alice.client.post('/messages/api/chats/', { chat_type: 'dm', member_ids: [bob.id] });
      expect(chat.status).toBe(201);
      // Conversation metadata (kept for groups and rooms, not DMs).
      const group = await alice.client.post('/messages/api/chats/', { chat_type: 'group', title: 'Billing', member_ids: [bob.id], metadata: { ticket: 'T-1' } });
      expect(group.status).toBe(201);
      const inGroup = await alice.client.post(`/messages/api/chats/${group.body.id}/messages/`, { content: 'hi group' });
      const first = await alice.client.post(`/messages/api/chats/${chat.body.id}/messages/`, { content: 'first' });
      const up = await uploadText(server, alice, 'invoice.txt', 'total: 42\n');
      const sent = await alice.client.post(`/messages/api/chats/${chat.body.id}/messages/`, {
        content: 'see attached',
        attachment_ids: [up.id],
        parent_message_id: first.body.id,
        metadata: { order: 42, tags: ['billing'] },
      });
      expect(sent.status).toBe(201);

      const created = await until(() => r.ofType('message.created').find((d) => d.json.data.message.id === sent.body.id), 'message.created with the file');
      const signal = await until(() => r.ofType('message_sent').find((d) => d.json.data.message.id === sent.body.id), 'message_sent with the file');
      const conv = await until(() => r.ofType('conversation.created').find((d) => d.json.data.conversation.id === group.body.id), 'conversation.created');
      expect(conv.json.data.conversation.metadata).toEqual({ ticket: 'T-1' });
      const groupMsg = await until(() => r.ofType('message.created').find((d) => d.json.data.message.id === inGroup.body.id), 'the group message');
      expect(groupMsg.json.data.conversation.metadata).toEqual({ ticket: 'T-1' });
      const expected = {
        id: sent.body.id,
        content: 'see attached',
        parent_id: first.body.id,
        metadata: { order: 42, tags: ['billing'] },
        parent_message_id: first.body.id,
        forwarded_from_id: null,
        attachments: [{ id: up.id, name: 'invoice.txt', size: 10, mime_type: 'text/plain', media_type: 'file', width: null, height: null }],
      };
      for (const d of [created, signal]) {
        expect(d.json.data.message).toMatchObject(expected);
        expect(d.json.data.conversation).toMatchObject({ id: chat.body.id, metadata: {} });
      }
      const file = created.json.data.message.attachments[0];
      if (publicUrl === null) {
        expect(file).not.toHaveProperty('url');
      } else {
        // An absolute signed URL on publicUrl: the same path and query fetch the file from the server.
        expect(file.url).toMatch(new RegExp(`^${PUBLIC}/messages/api/files/${up.id}/\\?exp=\\d+&sig=`));
        const got = await fetch(server.url + String(file.url).slice(PUBLIC.length));
        expect(got.status).toBe(200);
        expect(await got.text()).toBe('total: 42\n');
      }
      // A message without extras still has every field, empty.
      const plain = r.ofType('message.created').find((d) => d.json.data.message.id === first.body.id)!;
      expect(plain.json.data.message).toMatchObject({ metadata: {}, parent_message_id: null, forwarded_from_id: null, attachments: [] });
    }
  });

  it('refuses a bad webhook configuration with one line per problem', async () => {
    const err = await startParley({
      webhooks: [
        { url: 'ftp://example.com/hook', events: ['message.created'], secret: SECRET },
        { url: 'https://example.com/hook', events: ['message.sent', '*'], secret: 'short' },
      ],
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'ConfigError' });
    const problems = (err as { problems: string[] }).problems;
    expect(problems).toEqual([
      'webhooks.0.url: must be an http:// or https:// URL (got "ftp://example.com/hook")',
      expect.stringMatching(/^webhooks\.1\.events: unknown event "message\.sent" \(known: message\.created, .*message_sent, message_read, or '\*'\)$/),
      'webhooks.1.secret: must be at least 16 characters (got 5)',
    ]);
  });
});

const run = promisify(execFile);

/**
 * Storage two Parleys in a row can share: a data directory (SQLite), or with
 * `PARLEY_TEST_BACKEND=postgres` a private schema, dropped afterwards.
 */
async function sharedStorage(): Promise<{ options: ParleyOptions }> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-webhooks-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  if (process.env.PARLEY_TEST_BACKEND !== 'postgres') return { options: { dataDir: dir } };
  const pgUrl = process.env.PARLEY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `e2e_${randomBytes(6).toString('hex')}`;
  cleanups.push(async () => {
    const c = new pg.Client({ connectionString: pgUrl });
    await c.connect();
    try {
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    } finally {
      await c.end();
    }
  });
  return { options: { dataDir: dir, databaseUrl: `${pgUrl}${pgUrl.includes('?') ? '&' : '?'}schema=${schema}` } };
}

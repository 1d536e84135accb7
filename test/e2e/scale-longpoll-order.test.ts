import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestUser } from './harness.js';
import { API } from './rest-fixtures.js';
import {
  REDIS_URL,
  Schemas,
  type ServerProcess,
  databaseUrl,
  describeWith,
  dropRedisPrefix,
  on,
  postgresNeed,
  randomName,
  redisNeed,
  register,
  spawnServe,
} from './scale-fixtures.js';

/**
 * Black box: two `parley serve` processes on one PostgreSQL schema and one Redis. Senders on
 * both processes write at the same time, so events reach each process's subscribers in an
 * order that is not the log's; long-poll clients on both processes follow with the cursor
 * each answer gives them. Every client gets every message exactly once, and each
 * conversation's messages in the conversation's order.
 */

const needs = [await postgresNeed(), await redisNeed()];
const dataDir = mkdtempSync(join(tmpdir(), 'parley-lp-order-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** Messages per sender; half in each conversation. */
const PER_SENDER = 60;
/** Sends each sender keeps in flight. */
const IN_FLIGHT = 3;
const SENDERS = 4;
const FOLLOWERS_PER_PROCESS = 3;

function redisUrl(prefix: string): string {
  const u = new URL(REDIS_URL);
  u.searchParams.set('prefix', prefix);
  return u.toString();
}

interface Follower {
  user: TestUser;
  where: 'A' | 'B';
  /** `new_message` frames in the order they were received: [chat id, message id]. */
  got: [number, number][];
  polls: number;
  done: Promise<void>;
}

describeWith('long-poll across two processes, events arriving out of order', needs, () => {
  const schemas = new Schemas();
  const prefix = `${randomName('lporder-')}:`;
  const secret = randomName('secret-for-the-long-poll-order-test-');
  let A: ServerProcess;
  let B: ServerProcess;

  const env = (schema: string, name: string) => ({
    DATABASE_URL: databaseUrl(schema, name),
    REDIS_URL: redisUrl(prefix),
    PARLEY_SECRET: secret,
    PARLEY_DATA_DIR: dataDir,
  });

  beforeAll(async () => {
    const schema = schemas.fresh();
    [A, B] = await Promise.all([spawnServe(env(schema, 'parley-lp-a')), spawnServe(env(schema, 'parley-lp-b'))]);
  }, 180_000);

  afterAll(async () => {
    await Promise.all([A?.stop(), B?.stop()]);
    await schemas.dropAll();
    await dropRedisPrefix(REDIS_URL, prefix);
  }, 60_000);

  it('several long-poll clients on both processes, senders on both: 0 missed, 0 duplicates, in order per conversation', async () => {
    const base = (where: 'A' | 'B') => (where === 'A' ? A.url : B.url);
    const senders: TestUser[] = [];
    for (let i = 0; i < SENDERS; i++) {
      const where = i % 2 === 0 ? 'A' : 'B';
      senders.push(on(await register(A.url, `lpsender${i}`), base(where)));
    }
    const followerUsers: { user: TestUser; where: 'A' | 'B' }[] = [];
    for (const where of ['A', 'B'] as const) {
      for (let i = 0; i < FOLLOWERS_PER_PROCESS; i++) followerUsers.push({ user: on(await register(A.url, `lpfollow${where}${i}`), base(where)), where });
    }
    const members = [...senders.slice(1), ...followerUsers.map((f) => f.user)].map((u) => u.id);
    const chats: number[] = [];
    /** A first message in each conversation, before the followers start: history is read after it. */
    const seeds = new Map<number, number>();
    for (const title of ['Order one', 'Order two']) {
      const r = await senders[0]!.client.post(`${API}/chats/`, { chat_type: 'group', title, member_ids: members });
      expect(r.status).toBe(201);
      chats.push(r.body.id);
      const seed = await senders[0]!.client.post(`${API}/chats/${r.body.id}/messages/`, { content: 'seed' });
      expect(seed.status).toBe(201);
      seeds.set(r.body.id, seed.body.id);
    }

    // Every follower starts from "now" and follows by cursor until it has everything (bounded).
    const sent = new Set<number>();
    let sending = true;
    const deadline = Date.now() + 120_000;
    const followers: Follower[] = [];
    for (const { user, where } of followerUsers) {
      const head = await user.client.get(`${API}/events/`);
      expect(head.status).toBe(200);
      const f: Follower = { user, where, got: [], polls: 0, done: Promise.resolve() };
      f.done = (async () => {
        let cursor: string = head.body.cursor;
        const have = new Set<number>();
        while (Date.now() < deadline && (sending || [...sent].some((id) => !have.has(id)))) {
          const r = await user.client.get(`${API}/events/?cursor=${encodeURIComponent(cursor)}&timeout=2`);
          f.polls++;
          if (r.status !== 200 || r.body.resync) throw new Error(`poll on ${where}: ${r.status} ${r.text}`);
          for (const e of r.body.events) {
            if (e.type !== 'new_message') continue;
            f.got.push([e.chat_id, e.message.id]);
            have.add(e.message.id);
          }
          cursor = r.body.cursor;
        }
      })();
      followers.push(f);
    }

    // Senders on both processes, several sends in flight each, alternating conversations.
    try {
      await Promise.all(
        senders.map(async (sender, si) => {
          let n = 0;
          await Promise.all(
            Array.from({ length: IN_FLIGHT }, async () => {
              while (n < PER_SENDER) {
                const k = n++;
                const chatId = chats[k % chats.length]!;
                const r = await sender.client.post(`${API}/chats/${chatId}/messages/`, { content: `s${si} m${k}` });
                if (r.status !== 201) throw new Error(`send: ${r.status} ${r.text}`);
                sent.add(r.body.id);
              }
            }),
          );
        }),
      );
    } finally {
      sending = false;
    }
    await Promise.all(followers.map((f) => f.done));
    expect(sent.size).toBe(SENDERS * PER_SENDER);

    // Each conversation's order, as its history lists it (oldest first).
    const order = new Map<number, number[]>();
    for (const chatId of chats) {
      const ids: number[] = [];
      for (let page = 1; ; page++) {
        const r = await senders[0]!.client.get(`${API}/chats/${chatId}/messages/?after=${seeds.get(chatId)}&page=${page}`);
        expect(r.status).toBe(200);
        ids.push(...r.body.results.map((m: { id: number }) => m.id));
        if (!r.body.next) break;
      }
      order.set(chatId, ids);
    }

    const report = followers.map((f) => {
      const ids = f.got.map(([, id]) => id);
      const seen = new Set<number>();
      const duplicates = ids.filter((id) => (seen.has(id) ? true : (seen.add(id), false)));
      const missed = [...sent].filter((id) => !seen.has(id));
      const outOfOrder = chats.filter((chatId) => {
        const received = f.got.filter(([c]) => c === chatId).map(([, id]) => id);
        return JSON.stringify(received) !== JSON.stringify((order.get(chatId) ?? []).filter((id) => seen.has(id)));
      });
      return { follower: `${f.user.username} on ${f.where}`, polls: f.polls, missed: missed.length, duplicates: duplicates.length, outOfOrder };
    });
    console.log('long-poll across two processes:', JSON.stringify(report));
    expect(report).toEqual(report.map((r) => ({ ...r, missed: 0, duplicates: 0, outOfOrder: [] })));
  }, 240_000);
});

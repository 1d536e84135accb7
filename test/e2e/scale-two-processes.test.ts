import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestUser } from './harness.js';
import { type WsClient, connectWs } from './live-fixtures.js';
import { type Frame, type Peer, connect, ev } from './messaging-client.js';
import { API } from './rest-fixtures.js';
import {
  REDIS_URL,
  Schemas,
  type ServerProcess,
  databaseUrl,
  describeWith,
  dropRedisPrefix,
  eventually,
  on,
  postgresNeed,
  randomName,
  redisNeed,
  register,
  remote,
  sleep,
  spawnServe,
} from './scale-fixtures.js';

/**
 * Black box: two `parley serve` processes (and a `--workers 2` cluster) on one PostgreSQL
 * schema and one Redis, clients on each. Whatever happens on one process reaches the
 * clients of the other, exactly once; a client resumes on either process by cursor.
 */

const run = promisify(execFile);
const dataDir = mkdtempSync(join(tmpdir(), 'parley-scale-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('parley serve --workers', () => {
  it('refuses several workers without REDIS_URL (exit 2, says why)', async () => {
    const env: Record<string, string | undefined> = { ...process.env, PARLEY_DATA_DIR: dataDir, PARLEY_CONFIG: '', DATABASE_URL: `sqlite:${join(dataDir, 'w.sqlite3')}` };
    delete env.REDIS_URL;
    const err = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0', '--workers', '2'], { env }).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toMatch(/--workers 2 needs REDIS_URL/);
  }, 90_000);
});

const needs = [await postgresNeed(), await redisNeed()];

/** A Redis URL with Parley's `prefix=` parameter, so this file's channels and keys are its own. */
function redisUrl(prefix: string): string {
  const u = new URL(REDIS_URL);
  u.searchParams.set('prefix', prefix);
  return u.toString();
}

const isDispatchOf = (id: number) => ev('message.dispatch', (d) => d.id === id);
const copiesOf = (p: Peer, id: number): Frame[] => p.pending.filter(isDispatchOf(id));

async function sendRest(user: TestUser, chatId: number, content: string, clientId?: string) {
  const r = await user.client.post(`${API}/chats/${chatId}/messages/`, { content, ...(clientId ? { client_id: clientId } : {}) });
  if (r.status !== 201 && r.status !== 200) throw new Error(`send: ${r.status} ${r.text}`);
  return r;
}

describeWith('two server processes on PostgreSQL + Redis', needs, () => {
  const schemas = new Schemas();
  const prefix = `${randomName('scale-')}:`;
  const secret = randomName('secret-for-the-scale-test-');
  let A: ServerProcess;
  let B: ServerProcess;
  let alice: TestUser; // talks to A
  let bob: TestUser; // talks to B
  let chatId: number;
  let aliceA: Peer;
  let bobB: Peer;
  const peers: Peer[] = [];
  const sockets: WsClient[] = [];

  const env = (schema: string, name: string) => ({
    DATABASE_URL: databaseUrl(schema, name),
    REDIS_URL: redisUrl(prefix),
    PARLEY_SECRET: secret,
    PARLEY_DATA_DIR: dataDir,
  });

  beforeAll(async () => {
    const schema = schemas.fresh();
    // Both start at once on an empty schema: one migrates, the other waits for its lock.
    [A, B] = await Promise.all([spawnServe(env(schema, 'parley-scale-a')), spawnServe(env(schema, 'parley-scale-b'))]);
    alice = await register(A.url, 'alice');
    bob = on(await register(A.url, 'bob'), B.url);
    const chat = await alice.client.post(`${API}/chats/`, { chat_type: 'group', title: 'Across', member_ids: [bob.id] });
    expect(chat.status).toBe(201);
    chatId = chat.body.id;
    aliceA = await connect(remote(A.url), alice.token);
    bobB = await connect(remote(B.url), bob.token);
    peers.push(aliceA, bobB);
  }, 180_000);

  afterAll(async () => {
    for (const p of peers) p.close();
    await Promise.all(sockets.map((s) => s.close()));
    const codes = await Promise.all([A?.stop(), B?.stop()]);
    expect(codes.filter((c) => c !== undefined)).toEqual(codes.filter((c) => c !== undefined).map(() => 0));
    await schemas.dropAll();
    await dropRedisPrefix(REDIS_URL, prefix);
  }, 60_000);

  it('a message sent to A reaches the client on B exactly once, and back', async () => {
    const toB = (await sendRest(alice, chatId, 'from A')).body;
    await bobB.next(isDispatchOf(toB.id), 'A → B');
    await aliceA.next(isDispatchOf(toB.id), 'A → A');
    const toA = (await sendRest(bob, chatId, 'from B')).body;
    await aliceA.next(isDispatchOf(toA.id), 'B → A');
    await bobB.next(isDispatchOf(toA.id), 'B → B');
    // A sentinel from each side: any second copy would have come before it.
    const sa = (await sendRest(alice, chatId, 'sentinel A')).body;
    const sb = (await sendRest(bob, chatId, 'sentinel B')).body;
    for (const p of [aliceA, bobB]) {
      await p.next(isDispatchOf(sa.id), 'sentinel A');
      await p.next(isDispatchOf(sb.id), 'sentinel B');
      expect(copiesOf(p, toB.id)).toEqual([]);
      expect(copiesOf(p, toA.id)).toEqual([]);
    }
  });

  it('presence: a user connecting on B is online for a peer on A, offline only once every process let go', async () => {
    const carol = await register(A.url, 'carol');
    const dave = on(await register(A.url, 'dave'), B.url);
    const dm = await carol.client.post(`${API}/chats/`, { chat_type: 'group', title: 'Presence', member_ids: [dave.id] });
    expect(dm.status).toBe(201);
    const carolA = await connectWs(remote(A.url), carol);
    sockets.push(carolA);
    const presence = (online: boolean) => (f: any) => f.type === 'presence' && f.user_id === dave.id && f.online === online;

    const daveB = await connect(remote(B.url), dave.token);
    const online = await carolA.frames.next(presence(true), 'dave online (from B)');
    expect(online).toMatchObject({ last_seen: null });

    // Dave also on A, then gone from B: still online (A holds him).
    const daveA = await connect(remote(A.url), dave.token);
    const redis = new Redis(REDIS_URL);
    try {
      await eventually(async () => ((await redis.scard(`${prefix}presence:${dave.id}`)) === 2 ? true : undefined), 'dave held by both processes');
      daveB.close();
      await eventually(async () => ((await redis.scard(`${prefix}presence:${dave.id}`)) === 1 ? true : undefined), 'dave held by A only');
    } finally {
      redis.disconnect();
    }
    await sleep(300);
    expect(carolA.frames.items.filter(presence(false))).toEqual([]);

    daveA.close();
    const offline = await carolA.frames.next(presence(false), 'dave offline');
    expect(Date.parse(offline.last_seen)).toBeGreaterThan(Date.now() - 60_000);
    expect(carolA.frames.items.filter(presence(true))).toHaveLength(1);
  });

  it('typing on A reaches B; a read receipt on B reaches A', async () => {
    aliceA.send('message.typing', { room_id: chatId, is_typing: true });
    await bobB.next(ev('messagetyping.dispatch', (d) => d.user_id === alice.id && d.is_typing === true && d.room_id === chatId), 'typing on B');
    aliceA.send('message.typing', { room_id: chatId, is_typing: false });
    await bobB.next(ev('messagetyping.dispatch', (d) => d.user_id === alice.id && d.is_typing === false), 'typing stopped on B');

    const m = (await sendRest(alice, chatId, 'read me')).body;
    await bobB.next(isDispatchOf(m.id));
    await aliceA.next(isDispatchOf(m.id));
    bobB.send('message.read', { message_id: m.id });
    const receipt = await aliceA.next(ev('readreceipt.dispatch', (d) => d.user_id === bob.id && d.message_id === m.id), 'read receipt on A');
    expect(receipt).toMatchObject({ data: { room_id: chatId }, cursor: expect.any(String) });
  });

  it('resume: a client that left A reconnects to B with its cursor and gets exactly what it missed, in order', async () => {
    const m = (await sendRest(alice, chatId, 'before leaving')).body;
    const last = await aliceA.next(isDispatchOf(m.id));
    await bobB.next(isDispatchOf(m.id));
    aliceA.close();
    await aliceA.closed;

    const missed: number[] = [];
    for (const text of ['missed 1', 'missed 2', 'missed 3']) missed.push((await sendRest(bob, chatId, text)).body.id);
    // Delivered on B already, so no copy of them is still travelling to B's subscriber.
    for (const id of missed) await bobB.next(isDispatchOf(id));

    const back = await connect(remote(B.url), alice.token, { query: { cursor: last.cursor } });
    peers.push(back);
    const replayed = back.pending.filter(ev('message.dispatch'));
    expect(replayed.map((f) => f.data.id)).toEqual(missed);
    expect(replayed.map((f) => f.data.content)).toEqual(['missed 1', 'missed 2', 'missed 3']);
    // Live from here, on B: the next message from A arrives once, after the replay.
    const after = (await sendRest(alice, chatId, 'after resume')).body;
    await back.next(isDispatchOf(after.id));
    expect(copiesOf(back, after.id)).toEqual([]);
    for (const id of missed) expect(copiesOf(back, id)).toHaveLength(1);
    aliceA = back;
  });

  it('client_id: sent to A, retried on B, stored and broadcast once', async () => {
    const first = await sendRest(alice, chatId, 'idempotent', 'cid-retry');
    expect(first.status).toBe(201);
    const retry = await sendRest(on(alice, B.url), chatId, 'idempotent', 'cid-retry');
    expect(retry.status).toBe(200);
    expect(retry.body.id).toBe(first.body.id);

    // Both at once, one per process: one stores, the other gets the original back.
    const [x, y] = await Promise.all([
      sendRest(alice, chatId, 'raced', 'cid-race'),
      sendRest(on(alice, B.url), chatId, 'raced', 'cid-race'),
    ]);
    expect([x.status, y.status].sort()).toEqual([200, 201]);
    expect(x.body.id).toBe(y.body.id);

    const sentinel = (await sendRest(alice, chatId, 'client_id sentinel')).body;
    await bobB.next(isDispatchOf(first.body.id));
    await bobB.next(isDispatchOf(x.body.id));
    await bobB.next(isDispatchOf(sentinel.id));
    expect(copiesOf(bobB, first.body.id)).toEqual([]);
    expect(copiesOf(bobB, x.body.id)).toEqual([]);

    const history = await alice.client.get(`${API}/chats/${chatId}/messages/`);
    const contents = (history.body.results as { content: string }[]).map((r) => r.content);
    expect(contents.filter((c) => c === 'idempotent')).toHaveLength(1);
    expect(contents.filter((c) => c === 'raced')).toHaveLength(1);
  });
});

describeWith('parley serve --workers 2 (node:cluster) on PostgreSQL + Redis', needs, () => {
  const schemas = new Schemas();
  const prefix = `${randomName('workers-')}:`;
  let primary: ServerProcess;

  const workerPids = (out: string): number[] =>
    [...out.matchAll(/"pid":(\d+),"slot":\d+,"port":\d+,"msg":"cluster: worker listening"/g)].map((m) => Number(m[1]));

  beforeAll(async () => {
    primary = await spawnServe(
      { DATABASE_URL: databaseUrl(schemas.fresh()), REDIS_URL: redisUrl(prefix), PARLEY_SECRET: randomName('secret-for-the-workers-test-'), PARLEY_DATA_DIR: dataDir },
      ['--workers', '2'],
    );
    await eventually(async () => (workerPids(primary.output()).length >= 2 ? true : undefined), 'two workers listening', 90_000);
  }, 180_000);

  afterAll(async () => {
    await primary?.stop();
    await schemas.dropAll();
    await dropRedisPrefix(REDIS_URL, prefix);
  }, 60_000);

  it('two workers share one port; a message reaches a client held by the other worker; a killed worker is replaced; SIGTERM stops all', async () => {
    const url = primary.url;
    const [w1, w2] = workerPids(primary.output());
    expect(w1).not.toBe(w2);

    const eve = await register(url, 'eve');
    const frank = await register(url, 'frank');
    const chat = await eve.client.post(`${API}/chats/`, { chat_type: 'group', title: 'Workers', member_ids: [frank.id] });
    expect(chat.status).toBe(201);

    // Which worker holds a connection shows in the shared presence: node ids are "<pid>-…".
    const redis = new Redis(REDIS_URL);
    const holder = async (userId: number) =>
      eventually(async () => {
        const [node] = await redis.smembers(`${prefix}presence:${userId}`);
        return node ? Number(node.split('-')[0]) : undefined;
      }, `presence of ${userId}`);
    const eveWs = await connect(remote(url), eve.token);
    const eveOn = await holder(eve.id);
    let frankWs = await connect(remote(url), frank.token);
    // Connections are dealt round-robin; reconnect until frank sits on the other worker.
    for (let i = 0; i < 10 && (await holder(frank.id)) === eveOn; i++) {
      frankWs.close();
      await eventually(async () => ((await redis.scard(`${prefix}presence:${frank.id}`)) === 0 ? true : undefined), 'frank gone');
      frankWs = await connect(remote(url), frank.token);
    }
    const frankOn = await holder(frank.id);
    expect(new Set([eveOn, frankOn])).toEqual(new Set([w1, w2]));

    const m = (await sendRest(eve, chat.body.id, 'across workers')).body;
    await frankWs.next(isDispatchOf(m.id), 'message on the other worker');
    await eveWs.next(isDispatchOf(m.id));

    // A worker dies: the primary forks a new one; the port keeps answering meanwhile.
    process.kill(frankOn, 'SIGKILL');
    await frankWs.closed;
    await eventually(async () => (workerPids(primary.output()).length >= 3 ? true : undefined), 'a replacement worker', 90_000);
    expect(primary.output()).toMatch(/cluster: worker died; restarting it/);
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    frankWs = await connect(remote(url), frank.token);
    const m2 = (await sendRest(eve, chat.body.id, 'after the restart')).body;
    await frankWs.next(isDispatchOf(m2.id));

    eveWs.close();
    frankWs.close();
    redis.disconnect();
    const pids = workerPids(primary.output());
    expect(await primary.stop()).toBe(0);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    expect(primary.output()).toMatch(/cluster: shutting down/);
  }, 180_000);
});

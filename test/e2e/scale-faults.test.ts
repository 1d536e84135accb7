import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ParleyApp, buildApp } from '../../src/app.js';
import { type ConfigFile, loadConfig } from '../../src/config/index.js';
import { Client, type TestServer, type TestUser } from './harness.js';
import { type Frame, type Peer, connect, ev } from './messaging-client.js';
import { API, expectNoLeak } from './rest-fixtures.js';
import {
  PG_URL,
  PrivateRedis,
  Schemas,
  databaseUrl,
  describeWith,
  eventually,
  freePort,
  postgresNeed,
  randomName,
  redisServerAvailable,
  register,
} from './scale-fixtures.js';

/**
 * Faults of a scaled-out deployment, injected for real: a private redis-server killed and
 * restarted under two apps, and this app's PostgreSQL connections terminated while requests
 * are in flight. Nothing stored may be lost or doubled, for history or for live clients.
 */

interface LoggedApp extends TestServer {
  /** Log lines (pino JSON) at warn level and above. */
  logs: { level: number; msg: string; err?: { message?: string } }[];
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** An in-process app on a random port whose warnings and errors the test can read. */
async function startApp(config: ConfigFile): Promise<LoggedApp> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-faults-'));
  dirs.push(dir);
  const cfg = loadConfig({ cwd: dir, env: {}, overrides: { port: 0, host: '127.0.0.1', dataDir: dir, messagesPerPage: 500, ...config } });
  const logs: LoggedApp['logs'] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) logs.push(JSON.parse(line) as LoggedApp['logs'][number]);
      done();
    },
  });
  const logger = { level: 'warn', stream } as { level: string };
  const app: ParleyApp = await buildApp({ config: cfg, logger });
  const url = await app.listen();
  return {
    url,
    app,
    logs,
    anon: new Client(url),
    user: (username) => register(url, username),
    close: () => app.close(),
  };
}

const dispatchOf = (id: number) => ev('message.dispatch', (d) => d.id === id);
/** Message ids a connection received, in arrival order (frames are left in `pending`). */
const messageIds = (p: Peer): number[] => p.pending.filter(ev('message.dispatch')).map((f: Frame) => f.data.id as number);

/** Waits until the connection received every one of `ids` (without taking the frames). */
async function received(p: Peer, ids: readonly number[], what: string, timeoutMs = 10_000): Promise<void> {
  await eventually(async () => (ids.every((id) => p.pending.some(dispatchOf(id))) ? true : undefined), what, timeoutMs, 20);
}

async function send(user: TestUser, chatId: number, content: string, clientId?: string) {
  return user.client.post(`${API}/chats/${chatId}/messages/`, { content, ...(clientId ? { client_id: clientId } : {}) });
}

async function historyIds(user: TestUser, chatId: number): Promise<{ id: number; client_id: string | null }[]> {
  const r = await user.client.get(`${API}/chats/${chatId}/messages/`);
  expect(r.status).toBe(200);
  return r.body.results as { id: number; client_id: string | null }[];
}

const asUserOf = (s: TestServer, u: TestUser): TestUser => ({ ...u, client: new Client(s.url, u.token) });

const needs = [
  await postgresNeed(),
  { name: 'redis-server (a private one is started)', missing: await redisServerAvailable(), required: process.env.PARLEY_REQUIRE_REDIS === '1' },
];

describeWith('Redis goes away under two processes and comes back', needs, () => {
  const schemas = new Schemas();
  let redis: PrivateRedis;
  let A: LoggedApp;
  let B: LoggedApp;

  beforeAll(async () => {
    redis = new PrivateRedis(await freePort());
    await redis.start();
    const schema = schemas.fresh();
    A = await startApp({ databaseUrl: databaseUrl(schema), redisUrl: redis.url });
    B = await startApp({ databaseUrl: databaseUrl(schema), redisUrl: redis.url });
  }, 60_000);

  afterAll(async () => {
    await Promise.all([A?.close(), B?.close()]);
    await redis?.kill();
    await schemas.dropAll();
  }, 60_000);

  it('each process keeps serving its clients; after the restart, clients catch up by cursor: every message once, none lost', async () => {
    const alice = await A.user('alice');
    const carol = await A.user('carol');
    const bob = asUserOf(B, await A.user('bob'));
    const dave = asUserOf(B, await A.user('dave'));
    const eve = await A.user('eve');
    const frank = asUserOf(B, await A.user('frank'));
    const room = (await alice.client.post(`${API}/chats/`, { chat_type: 'group', title: 'Storm', member_ids: [carol.id, bob.id, dave.id] })).body.id as number;
    // A second room only to see when the broker carries events again; its traffic is not asserted.
    const ping = (await eve.client.post(`${API}/chats/`, { chat_type: 'group', title: 'Ping', member_ids: [frank.id] })).body.id as number;

    const conns = new Map<string, Peer[]>();
    const open = async (s: TestServer, u: TestUser, cursor?: string) => {
      const p = await connect(s, u.token, cursor ? { query: { cursor } } : {});
      conns.set(u.username, [...(conns.get(u.username) ?? []), p]);
      return p;
    };
    const aliceA = await open(A, alice);
    const carolA = await open(A, carol);
    const bobB = await open(B, bob);
    const daveB = await open(B, dave);
    const eveA = await open(A, eve);
    const frankB = await open(B, frank);

    const m0 = (await send(alice, room, 'before the storm')).body.id as number;
    for (const p of [aliceA, carolA, bobB, daveB]) await received(p, [m0], 'm0 everywhere');

    // ── Redis dies ──
    await redis.kill();
    const killedAt = Date.now();

    const during: number[] = [];
    const restMs: number[] = [];
    for (let i = 1; i <= 5; i++) {
      const t0 = Date.now();
      const r = await send(alice, room, `during the outage ${i}`);
      restMs.push(Date.now() - t0);
      expect(r.status).toBe(201);
      during.push(r.body.id);
    }
    // A's own clients get A's events without the broker.
    await received(carolA, during, "A's clients get A's messages during the outage");
    await received(aliceA, during, 'the sender too');
    const localDeliveryMs = Date.now() - killedAt;
    expect(messageIds(carolA)).toEqual([m0, ...during]);

    // B serves its own clients too: reads, and its ephemeral events (typing) reach B's clients.
    bobB.send('room.messages', { room_id: room });
    const page = await bobB.next(ev('roommessages.dispatch'), 'history on B');
    expect((page.data.results as { id: number }[]).map((m) => m.id).sort((x, y) => x - y)).toEqual([m0, ...during]);
    bobB.send('message.typing', { room_id: room, is_typing: true });
    await daveB.next(ev('messagetyping.dispatch', (d) => d.user_id === bob.id), "B's typing reaches B's clients");
    // Writes never wait for the broker, so A notices it is gone when its publishes time out.
    await eventually(async () => (A.logs.some((l) => /broker unavailable/.test(l.msg)) ? true : undefined), 'A noticing the broker is gone', 10_000);

    // ── Redis is back (empty: no persistence) ──
    await redis.start();
    const restartedAt = Date.now();

    // The clients that missed A's messages reconnect with the last cursor they got, one of
    // them to the other process.
    const cursorOf = (p: Peer) => [...p.pending].reverse().find((f) => typeof f.cursor === 'string')?.cursor as string;
    const bobCursor = cursorOf(bobB);
    const daveCursor = cursorOf(daveB);
    bobB.close();
    daveB.close();
    const bobA = await open(A, bob, bobCursor);
    const daveB2 = await open(B, dave, daveCursor);
    expect(messageIds(bobA)).toEqual(during);
    expect(messageIds(daveB2)).toEqual(during);

    // Both processes carry events again once a message crosses both ways (in the ping room).
    let n = 0;
    await eventually(
      async () => {
        const a = (await send(eve, ping, `ping ${++n}`)).body.id as number;
        const b = (await send(frank, ping, `pong ${n}`)).body.id as number;
        try {
          await received(frankB, [a], 'ping A → B', 1000);
          await received(eveA, [b], 'pong B → A', 1000);
          return true;
        } catch {
          return undefined;
        }
      },
      'the broker carrying events again',
      30_000,
      0,
    );
    const recoveredMs = Date.now() - restartedAt;

    // The restarted Redis knows nothing: A, which saw the outage, put its users back in the
    // shared presence (carol was connected to A all along).
    const check = new Redis(redis.url);
    try {
      await eventually(async () => ((await check.scard(`parley:presence:${carol.id}`)) === 1 ? true : undefined), 'carol present again');
    } finally {
      check.disconnect();
    }

    const after1 = (await send(alice, room, 'after, from A')).body.id as number;
    const after2 = (await send(bob, room, 'after, from B')).body.id as number;
    for (const p of [aliceA, carolA, bobA, daveB2]) await received(p, [after1, after2], 'after the storm');

    // Every stored message, exactly once, in order, for every member (all connections joined).
    const stored = (await historyIds(alice, room)).map((m) => m.id);
    expect(stored).toEqual([m0, ...during, after1, after2]);
    for (const [name, peers] of conns) {
      if (name === 'eve' || name === 'frank') continue;
      expect({ name, seen: peers.flatMap(messageIds) }).toEqual({ name, seen: stored });
    }
    for (const s of [A, B]) expect(s.logs.filter((l) => /event lost|presence lost/.test(l.msg))).toEqual([]);
    console.info(
      `[scale-faults] redis outage: REST send during outage max ${Math.max(...restMs)} ms (all ${restMs.join('/')}); ` +
        `A's clients had all 5 after ${localDeliveryMs} ms; broker carrying again ${recoveredMs} ms after restart (${n} ping rounds)`,
    );
    for (const peers of conns.values()) for (const p of peers) p.close();
  }, 90_000);

  it('clients that stay connected through the outage, with both processes writing, get every message once without reconnecting', async () => {
    const gina = await A.user('gina');
    const hugo = asUserOf(B, await A.user('hugo'));
    const room = (await gina.client.post(`${API}/chats/`, { chat_type: 'group', title: 'Both sides', member_ids: [hugo.id] })).body.id as number;
    const ginaA = await connect(A, gina.token);
    const hugoB = await connect(B, hugo.token);
    const first = (await send(gina, room, 'first')).body.id as number;
    for (const p of [ginaA, hugoB]) await received(p, [first], 'first everywhere');

    await redis.kill();
    const fromA: number[] = [];
    const fromB: number[] = [];
    for (let i = 1; i <= 3; i++) {
      fromA.push((await send(gina, room, `A ${i}`)).body.id as number);
      fromB.push((await send(hugo, room, `B ${i}`)).body.id as number);
    }
    // Each side sees its own process's messages at once.
    await received(ginaA, fromA, "A's messages on A");
    await received(hugoB, fromB, "B's messages on B");

    await redis.start();
    // Without reconnecting, both get the other side's messages from the log once the broker
    // is back, and a message after that arrives live.
    await received(ginaA, fromB, "B's outage messages reach A's client", 30_000);
    await received(hugoB, fromA, "A's outage messages reach B's client", 30_000);
    const stored = (await historyIds(gina, room)).map((m) => m.id);
    let after = 0;
    await eventually(
      async () => {
        after = (await send(gina, room, `after ${Date.now()}`)).body.id as number;
        try {
          await received(hugoB, [after], 'a live message A → B', 1000);
          return true;
        } catch {
          return undefined;
        }
      },
      'the broker carrying events again',
      30_000,
      0,
    );
    const all = (await historyIds(gina, room)).map((m) => m.id);
    await received(ginaA, [after], 'the last message on A');
    for (const [name, p] of [['gina', ginaA], ['hugo', hugoB]] as const) {
      const seen = messageIds(p);
      // Exactly once each; the outage messages of the other side come after the fact.
      expect({ name, seen: [...seen].sort((x, y) => x - y) }).toEqual({ name, seen: all });
      expect(stored.every((id) => seen.includes(id))).toBe(true);
    }
    ginaA.close();
    hugoB.close();
  }, 120_000);
});

describeWith('PostgreSQL connections cut while requests are in flight', [await postgresNeed()], () => {
  const schemas = new Schemas();
  const applicationName = randomName('parley_fault_');
  let S: LoggedApp;
  let admin: pg.Client;

  beforeAll(async () => {
    S = await startApp({ databaseUrl: databaseUrl(schemas.fresh(), applicationName) });
    admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
  }, 60_000);

  afterAll(async () => {
    await S?.close();
    await admin?.end();
    await schemas.dropAll();
  }, 60_000);

  /** What a restart does to this app: every server process of its pool ends. */
  const terminate = async (): Promise<number> =>
    (await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [applicationName])).rowCount ?? 0;

  it('in-flight requests succeed or fail with a clean 503; the pool recovers by itself; nothing half-stored or lost', async () => {
    const alice = await S.user('alice');
    const bob = await S.user('bob');
    const room = (await alice.client.post(`${API}/chats/`, { chat_type: 'group', title: 'Cut', member_ids: [bob.id] })).body.id as number;
    const bobWs = await connect(S, bob.token);

    const BATCH = 40;
    const ok = new Map<string, number>(); // client_id → message id
    const failed: string[] = [];
    const rounds: string[] = [];
    let terminated = 0;
    for (let round = 0; round < 10 && (failed.length === 0 || round < 3); round++) {
      const sends = Array.from({ length: BATCH }, (_, i) => {
        const cid = `r${round}-${i}`;
        return send(alice, room, `message ${cid}`, cid).then((r) => ({ cid, r }));
      });
      await new Promise((resolve) => setTimeout(resolve, 5 + round * 3));
      const killed = await terminate();
      terminated += killed;
      const results = await Promise.all(sends);
      let n503 = 0;
      for (const { cid, r } of results) {
        if (r.status === 201) {
          ok.set(cid, r.body.id);
          continue;
        }
        // Never a 500, never the driver's words.
        expect({ cid, status: r.status, body: r.body }).toEqual({ cid, status: 503, body: { detail: 'Service temporarily unavailable, try again.' } });
        expectNoLeak(r);
        failed.push(cid);
        n503++;
      }
      rounds.push(`${BATCH - n503}×201/${n503}×503 (${killed} backends cut)`);
      // The pool recovers without a restart: the next request works.
      const next = await alice.client.get(`${API}/chats/${room}/messages/`);
      expect(next.status).toBe(200);
    }
    expect(failed.length).toBeGreaterThan(0);

    // A failed send is retried with its client_id: 201 if it was not stored, 200 with the
    // original if its commit happened but the answer was lost. Never a second message.
    let committedButFailed = 0;
    for (const cid of failed) {
      const r = await send(alice, room, `message ${cid}`, cid);
      expect([200, 201]).toContain(r.status);
      if (r.status === 200) committedButFailed++;
      ok.set(cid, r.body.id);
    }

    const stored = await historyIds(alice, room);
    expect(stored).toHaveLength(ok.size);
    expect(new Set(stored.map((m) => m.client_id)).size).toBe(ok.size);
    for (const m of stored) expect(ok.get(m.client_id ?? '')).toBe(m.id);

    // Live clients got every stored message once: its event made it into the log.
    const ids = stored.map((m) => m.id);
    const missing = () => ids.filter((id) => !bobWs.pending.some(dispatchOf(id)));
    await received(bobWs, ids, 'every stored message live').catch((e: unknown) => {
      throw new Error(`${String(e)}; missing ${missing().length}/${ids.length}; logs: ${JSON.stringify(S.logs.map((l) => [l.msg, l.err?.message]))}`);
    });
    expect(messageIds(bobWs).sort((x, y) => x - y)).toEqual(ids);
    expect(S.logs.filter((l) => /event lost/.test(l.msg))).toEqual([]);
    console.info(
      `[scale-faults] postgres cut: rounds ${rounds.join(', ')}; ${terminated} backends terminated; ` +
        `${failed.length} sends answered 503, of which ${committedButFailed} had been committed (retry returned 200); ` +
        `${S.logs.filter((l) => /retrying the event/.test(l.msg)).length} events retried by the hub`,
    );
    bobWs.close();
  }, 120_000);
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestUser } from './harness.js';
import { type WsClient, connectWs } from './live-fixtures.js';
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
  spawnServe,
} from './scale-fixtures.js';

/**
 * Black box: two `parley serve` processes on one PostgreSQL schema and one Redis. A user on A
 * is online for a new connection on B from its first frames (the presence snapshot, read from
 * Redis); once A is killed (SIGKILL: no goodbye), the user stops counting as online after the
 * presence TTL (`presence_ttl=1` here, 30 s by default).
 */

const dataDir = mkdtempSync(join(tmpdir(), 'parley-presence-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const needs = [await postgresNeed(), await redisNeed()];

describeWith('presence of a killed process expires', needs, () => {
  const schemas = new Schemas();
  const prefix = `${randomName('presence-')}:`;
  const secret = randomName('secret-for-the-presence-test-');
  let A: ServerProcess;
  let B: ServerProcess;
  let alice: TestUser; // on A, which gets killed
  let bob: TestUser; // on B

  const env = (schema: string, name: string) => {
    const redis = new URL(REDIS_URL);
    redis.searchParams.set('prefix', prefix);
    redis.searchParams.set('presence_ttl', '1');
    return { DATABASE_URL: databaseUrl(schema, name), REDIS_URL: redis.toString(), PARLEY_SECRET: secret, PARLEY_DATA_DIR: dataDir };
  };

  beforeAll(async () => {
    const schema = schemas.fresh();
    [A, B] = await Promise.all([spawnServe(env(schema, 'parley-presence-a')), spawnServe(env(schema, 'parley-presence-b'))]);
    alice = await register(A.url, 'alice');
    bob = on(await register(A.url, 'bob'), B.url);
    const chat = await alice.client.post(`${API}/chats/`, { chat_type: 'group', title: 'Presence', member_ids: [bob.id] });
    expect(chat.status).toBe(201);
  }, 180_000);

  afterAll(async () => {
    A?.child.kill('SIGKILL');
    await B?.stop();
    await schemas.dropAll();
    await dropRedisPrefix(REDIS_URL, prefix);
  }, 60_000);

  /** Connects bob to B and returns the presence frames of its snapshot (everything before the pong). */
  async function bobsSnapshot(): Promise<any[]> {
    const c = await connectWs(remote(B.url), bob);
    try {
      // The snapshot is sent with `ready`, before the server reads our ping.
      c.send({ type: 'ping' });
      await c.next('pong');
      const upToPong = c.frames.items.slice(0, c.frames.items.findIndex((f) => f.type === 'pong'));
      return upToPong.filter((f) => f.type === 'presence');
    } finally {
      await c.close();
    }
  }

  it('online across processes from the first frames; offline once the killed process’s TTL passed', async () => {
    const aliceOnA: WsClient = await connectWs(remote(A.url), alice);
    expect(await bobsSnapshot()).toEqual([{ type: 'presence', user_id: alice.id, online: true, last_seen: null }]);

    A.child.kill('SIGKILL');
    await A.exited;
    await aliceOnA.closed;
    await eventually(async () => ((await bobsSnapshot()).length === 0 ? true : undefined), 'alice no longer online', 15_000);
  }, 60_000);
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import {
  Ledger,
  ParleyProcess,
  Resumer,
  TRANSPORTS,
  history,
  messagingSender,
  restSender,
  verdict,
} from './crash-fixtures.js';
import type { TestUser } from './harness.js';
import { API } from './rest-fixtures.js';
import {
  REDIS_URL,
  Schemas,
  databaseUrl,
  describeWith,
  dropRedisPrefix,
  freePort,
  postgresNeed,
  randomName,
  redisNeed,
  register,
  sleep,
} from './scale-fixtures.js';

/**
 * Black box: `kill -9` under load. Twenty senders (16 over REST, 4 over `/messaging/`
 * `message.send`) send with client_ids while a `parley serve` is SIGKILLed several times and
 * started again; every unanswered send is retried with its client_id until it is answered.
 * Then: every acknowledged message is stored exactly once, and every resuming client — both
 * WebSocket paths, SSE and long-poll, those that lived through the kills reconnecting with
 * their last cursor and fresh ones starting from the cursor noted before the first send —
 * receives each acknowledged message's event exactly once. A failure names the client_ids.
 *
 * One process on SQLite (same data directory after each restart), or on PostgreSQL + Redis
 * with PARLEY_TEST_BACKEND=postgres; and two processes on PostgreSQL + Redis, killed in turn
 * while the other keeps taking the sends.
 */

const REST_SENDERS = 16;
const WS_SENDERS = 4;
/** Kills per run at most, and the time after which no new kill starts (restarts are slow on a busy host). */
const MAX_KILLS = 6;
const KILL_PHASE_MS = 45_000;
/** Sends a process answers after it (re)started before it is killed (at most 10 s of waiting). */
const ANSWERS_BEFORE_KILL = 40;
/** How long every send may take to be answered once the kills are over. */
const DRAIN_MS = 45_000;

const dataDirs: string[] = [];
afterAll(() => {
  for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
});

function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'parley-crash-'));
  dataDirs.push(d);
  return d;
}

const redisUrl = (prefix: string): string => {
  const u = new URL(REDIS_URL);
  u.searchParams.set('prefix', prefix);
  return u.toString();
};

/** Starts the processes, runs the load while killing `victims` in turn, and checks. */
async function crashRun(title: string, procs: ParleyProcess[], victims: number[]): Promise<void> {
  await Promise.all(procs.map((p) => p.start()));
  const first = procs[0] as ParleyProcess;
  const names = Array.from({ length: 1 + REST_SENDERS + WS_SENDERS }, (_, i) => (i === 0 ? 'reader' : `sender${i}`));
  const users: TestUser[] = [];
  for (let i = 0; i < names.length; i += 7) users.push(...(await Promise.all(names.slice(i, i + 7).map((n) => register(first.url, n)))));
  const [reader, owner, ...rest] = users as [TestUser, TestUser, ...TestUser[]];
  const chat = await owner.client.post(`${API}/chats/`, { chat_type: 'group', title: 'Crash', member_ids: [reader.id, ...rest.map((u) => u.id)] });
  expect(chat.status).toBe(201);
  const chatId = chat.body.id as number;

  // The cursor every resuming client starts from: nothing of the run is before it.
  const head = await reader.client.get(`${API}/events/`);
  expect(head.status).toBe(200);
  const start = head.body.cursor as string;

  const clients: Resumer[] = [];
  procs.forEach((p, i) => {
    for (const t of TRANSPORTS) clients.push(new Resumer(t, `${t} through the kills (on ${p.name})`, reader, procs, i, start));
  });

  try {
    await underLoad(title, procs, victims, reader, owner, rest, chatId, start, clients);
  } finally {
    await Promise.all(clients.map((c) => c.stop()));
  }
}

async function underLoad(
  title: string,
  procs: ParleyProcess[],
  victims: number[],
  reader: TestUser,
  owner: TestUser,
  rest: TestUser[],
  chatId: number,
  start: string,
  clients: Resumer[],
): Promise<void> {
  const first = procs[0] as ParleyProcess;
  const ledger = new Ledger();
  let stopping = false;
  let abandoned = false;
  const ctl = { stopping: () => stopping, abandoned: () => abandoned };
  const senders = [owner, ...rest].map((u, i) =>
    i < REST_SENDERS
      ? restSender(u, chatId, `rest${i}`, procs, i % procs.length, ledger, ctl)
      : messagingSender(u, chatId, `ws${i - REST_SENDERS}`, procs, i % procs.length, ledger, ctl),
  );

  const timeline: string[] = [];
  const t0 = Date.now();
  try {
    for (let k = 0; k < MAX_KILLS && Date.now() - t0 < KILL_PHASE_MS; k++) {
      const victim = procs[victims[k % victims.length] as number] as ParleyProcess;
      // Under load: once the victim has answered a good number of sends since it started (a
      // restarted process on a busy host takes a while to get going), at a random moment.
      const patience = Date.now() + 10_000;
      while (ledger.answeredBy(victim) < ANSWERS_BEFORE_KILL && Date.now() < patience) await sleep(50);
      await sleep(Math.random() * 1000);
      const ackedBefore = ledger.acks.size;
      await victim.kill();
      timeline.push(`${((Date.now() - t0) / 1000).toFixed(1)}s kill ${victim.name} (${ackedBefore} acked)`);
      // Sends fail or go to the other process for a moment; then the same data comes back.
      await sleep(200 + Math.random() * 300);
      await victim.start();
      timeline.push(`${((Date.now() - t0) / 1000).toFixed(1)}s ${victim.name} back`);
    }
    await sleep(1500);
  } finally {
    stopping = true;
    const drained = await Promise.race([Promise.all(senders).then(() => true), sleep(DRAIN_MS).then(() => false)]);
    if (!drained) {
      abandoned = true;
      await Promise.all(clients.map((c) => c.stop()));
      const open = [...ledger.attempts.keys()].filter((cid) => !ledger.acks.has(cid));
      throw new Error(`${title}: sends still unanswered ${DRAIN_MS / 1000} s after the last kill: ${open.join(', ')}\n${procs.map((p) => `${p.name}: ${p.output().slice(-2000)}`).join('\n')}`);
    }
  }
  timeline.push(`${((Date.now() - t0) / 1000).toFixed(1)}s every send answered`);

  // A last message after everything: once a client has it, it has had its chance at the rest.
  const sentinel = await owner.client.post(`${API}/chats/${chatId}/messages/`, { content: 'sentinel', client_id: 'sentinel' });
  expect(sentinel.status).toBe(201);
  ledger.acked('sentinel', { id: sentinel.body.id, how: 201, process: first.name });
  procs.forEach((p, i) => {
    for (const t of TRANSPORTS) clients.push(new Resumer(t, `${t} from the start cursor (on ${p.name})`, reader, procs, i, start));
  });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && !clients.every((c) => c.has('sentinel'))) await sleep(100);
  await sleep(1500); // late or second copies would come now
  await Promise.all(clients.map((c) => c.stop()));

  const stored = await history(reader, first.url, chatId);
  const v = verdict(ledger, stored, clients);
  for (const p of procs) v.problems.push(...p.unexpectedExits);
  const warnings = procs.flatMap((p) => p.warnings.map((w) => `${p.name}: ${w}`));
  console.info(`[crash] ${title}: ${timeline.join(' → ')}\n[crash] ${v.summary}\n[crash] ${warnings.length} warnings logged${warnings.length ? `, e.g. ${warnings.slice(0, 3).join(' | ')}` : ''}`);
  expect(v.problems, `${title}:\n${v.problems.join('\n')}\n(${v.summary})`).toEqual([]);
}

const onPostgres = process.env.PARLEY_TEST_BACKEND === 'postgres';
const schemas = new Schemas();
const prefixes: string[] = [];
const processes: ParleyProcess[] = [];
afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop()));
  if (prefixes.length > 0) await schemas.dropAll().catch(() => undefined);
  for (const prefix of prefixes) await dropRedisPrefix(REDIS_URL, prefix).catch(() => undefined);
}, 60_000);

/** The environment of a process on PostgreSQL + Redis (one schema and prefix per deployment). */
function pgEnv(schema: string, prefix: string, name: string, secret: string): Record<string, string | undefined> {
  return { DATABASE_URL: databaseUrl(schema, name), REDIS_URL: redisUrl(prefix), PARLEY_SECRET: secret, PARLEY_DATA_DIR: freshDir() };
}

const oneNeeds = onPostgres ? [await postgresNeed(), await redisNeed()] : [];
describeWith(`kill -9 under load, one process on ${onPostgres ? 'PostgreSQL + Redis' : 'SQLite'}`, oneNeeds, () => {
  it(
    'every acknowledged message is stored once and reaches every resuming client once, on every transport',
    async () => {
      const secret = randomName('crash-secret-');
      let env: Record<string, string | undefined>;
      if (onPostgres) {
        const prefix = `${randomName('crash-')}:`;
        prefixes.push(prefix);
        env = pgEnv(schemas.fresh(), prefix, 'parley-crash-one', secret);
      } else {
        const dir = freshDir();
        env = { DATABASE_URL: `sqlite:${join(dir, 'parley.sqlite3')}`, REDIS_URL: undefined, PARLEY_SECRET: secret, PARLEY_DATA_DIR: dir };
      }
      const p = new ParleyProcess('P', await freePort(), env);
      processes.push(p);
      await crashRun(onPostgres ? 'one process, PostgreSQL + Redis' : 'one process, SQLite', [p], [0]);
    },
    240_000, // typically 60–90 s; restarts on a busy host can take much longer
  );
});

describeWith('kill -9 under load, two processes on PostgreSQL + Redis, one killed at a time', [await postgresNeed(), await redisNeed()], () => {
  it(
    'every acknowledged message is stored once and reaches every resuming client once, on every transport, on both processes',
    async () => {
      const secret = randomName('crash-secret-');
      const schema = schemas.fresh();
      const prefix = `${randomName('crash-')}:`;
      prefixes.push(prefix);
      const a = new ParleyProcess('A', await freePort(), pgEnv(schema, prefix, 'parley-crash-a', secret));
      const b = new ParleyProcess('B', await freePort(), pgEnv(schema, prefix, 'parley-crash-b', secret));
      processes.push(a, b);
      await crashRun('two processes, PostgreSQL + Redis', [a, b], [0, 1]);
    },
    240_000, // typically 60–90 s; restarts on a busy host can take much longer
  );
});

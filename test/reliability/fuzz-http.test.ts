import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type TestServer, type TestUser, startServer } from '../e2e/harness.js';
import { fdTargets, fdsSettle, snapshot } from './meter.js';
import { type Schema, fromSchema, nastyValue, seeds } from './schema-arbitrary.js';

/**
 * Fuzzing generated from the OpenAPI document (`/api/schema/`): every operation, with path,
 * query and body values drawn from its schemas (mostly valid, some hostile), as a member,
 * anonymously and with the session cookie. Holds: no 5xx, every request answered, the
 * process alive, descriptors and heap back to their baseline. `FUZZ_RUNS` per seed
 * (default 2000); the fixed seed, then a random one printed for replay with `FUZZ_SEED`.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);
const BOUND_MS = 15_000;

interface Operation {
  method: string;
  path: string;
  params: { name: string; in: string; schema?: Schema; required?: boolean }[];
  json?: Schema;
  multipart: boolean;
}

let s: TestServer;
let alice: TestUser;
let ids: number[] = [];
let ops: Operation[] = [];
let resolveRef: (ref: string) => Schema | undefined;

beforeAll(async () => {
  s = await startServer({ uploadRateLimit: null, sendRateLimit: null });
  alice = await s.user('alice');
  const bob = await s.user('bob');
  const chat = (await alice.client.post('/messages/api/chats/', { chat_type: 'group', title: 'Fuzz', member_ids: [bob.id] })).body.id as number;
  const message = (await alice.client.post(`/messages/api/chats/${chat}/messages/`, { content: 'hello' })).body.id as number;
  const form = new FormData();
  form.append('file', new Blob(['hello']), 'a.txt');
  const upload = (await (await fetch(`${s.url}/messages/api/uploads/`, { method: 'POST', headers: { authorization: `Token ${alice.token}` }, body: form })).json()) as { id: number };
  ids = [alice.id, bob.id, chat, message, upload.id];
  const doc = (await s.anon.get('/api/schema/')).body as { paths: Record<string, Record<string, any>>; components?: { schemas?: Record<string, Schema> } };
  resolveRef = (ref) => doc.components?.schemas?.[ref.split('/').pop() ?? ''];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const content = op.requestBody?.content ?? {};
      ops.push({ method: method.toUpperCase(), path, params: op.parameters ?? [], json: content['application/json']?.schema, multipart: 'multipart/form-data' in content });
    }
  }
});
afterAll(() => s.close());

/** One generated request. */
interface Fuzzed {
  op: Operation;
  values: Record<string, unknown>;
  body: unknown;
  rawBody: string | null;
  auth: 'token' | 'anon' | 'cookie';
}

const requestArb = (): fc.Arbitrary<Fuzzed> =>
  fc.constantFrom(...ops).chain((op) =>
    fc.record({
      op: fc.constant(op),
      values: fc.record(Object.fromEntries(op.params.map((p) => [`${p.in}:${p.name}`, fromSchema(p.schema, ids, resolveRef)])), { requiredKeys: [] }),
      body: op.json ? fromSchema(op.json, ids, resolveRef) : fc.oneof(fc.constant(undefined), nastyValue),
      rawBody: fc.oneof({ weight: 8, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.string({ maxLength: 60 }) }, { weight: 1, arbitrary: fc.constantFrom('{', '{"a":', '[1,2', '\u0000', '{"__proto__":{"x":1}}') }),
      auth: fc.constantFrom<Fuzzed['auth']>('token', 'token', 'token', 'token', 'anon', 'cookie'),
    }),
  );

async function send(f: Fuzzed): Promise<number | 'hung'> {
  let path = f.op.path;
  const query = new URLSearchParams();
  for (const p of f.op.params) {
    const drawn = f.values[`${p.in}:${p.name}`];
    // A long-poll waits up to `timeout` seconds by design; kept short so a wait is not a hang.
    const v = p.name === 'timeout' && typeof drawn === 'number' ? Math.min(Math.abs(drawn), 2) : drawn;
    const text = v === undefined ? (p.in === 'path' ? String(ids[0]) : undefined) : typeof v === 'string' ? v : JSON.stringify(v);
    if (text === undefined) continue;
    if (p.in === 'path') path = path.replace(`{${p.name}}`, encodeURIComponent(text.slice(0, 300)));
    else if (p.in === 'query') query.set(p.name, text.slice(0, 2000));
  }
  const headers: Record<string, string> = {};
  // Logging out as alice would end the run's own session.
  const auth = f.op.path === '/auth/logout' ? 'anon' : f.auth;
  if (auth === 'token') headers.authorization = `Token ${alice.token}`;
  if (auth === 'cookie') Object.assign(headers, { cookie: `parley_session=${alice.token}`, origin: s.url });
  let body: string | FormData | undefined;
  if (f.op.method !== 'GET' && f.op.method !== 'HEAD') {
    if (f.op.multipart) {
      body = new FormData();
      body.append(typeof f.body === 'string' && f.body.length < 20 ? f.body : 'file', new Blob([JSON.stringify(f.body ?? null) ?? '']), String(f.rawBody ?? 'f.txt'));
    } else if (f.rawBody !== null) {
      body = f.rawBody;
      headers['content-type'] = 'application/json';
    } else if (f.body !== undefined) {
      body = JSON.stringify(f.body);
      headers['content-type'] = 'application/json';
    }
  }
  const qs = query.toString();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), BOUND_MS);
  try {
    const r = await fetch(`${s.url}${path}${qs ? `?${qs}` : ''}`, { method: f.op.method, headers, body, redirect: 'manual', signal: controller.signal });
    await r.arrayBuffer();
    return r.status;
  } catch (e) {
    if (controller.signal.aborted) return 'hung';
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

async function runAll(samples: Fuzzed[], statuses: Map<string, number>, failures: string[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < samples.length) {
      const f = samples[next++] as Fuzzed;
      const status = await send(f);
      statuses.set(String(status), (statuses.get(String(status)) ?? 0) + 1);
      if (status === 'hung' || status >= 500) failures.push(`${status} ${f.op.method} ${f.op.path} ${JSON.stringify(f).slice(0, 400)}`);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

it(`every operation of /api/schema/, ${RUNS} requests per seed: no 5xx, no hang, no leak`, async () => {
  expect(ops.length).toBeGreaterThan(30);
  const statuses = new Map<string, number>();
  const failures: string[] = [];
  // Warm-up: caches, JIT and pools reach their working size before the baseline.
  await runAll(fc.sample(requestArb(), { seed: 1, numRuns: 100 }), new Map(), failures);
  const before = snapshot();
  const targetsBefore = fdTargets();
  let requests = 0;
  for (const seed of seeds()) {
    console.log(`fuzz-http: seed ${seed} (replay: FUZZ_SEED=${seed})`);
    const samples = fc.sample(requestArb(), { seed, numRuns: RUNS });
    requests += samples.length;
    await runAll(samples, statuses, failures);
  }
  const alive = (await s.anon.get('/healthz')).status;
  const fds = await fdsSettle(before.fds, 5);
  const after = { ...snapshot(), fds };
  const byStatus = Object.fromEntries([...statuses.entries()].sort());
  console.log(
    `fuzz-http: ${requests} requests over ${ops.length} operations; statuses ${JSON.stringify(byStatus)}; ` +
      `fds ${before.fds} → ${after.fds}; heap ${before.heapMiB.toFixed(1)} → ${after.heapMiB.toFixed(1)} MiB; /healthz ${alive}`,
  );
  expect(failures, failures.slice(0, 5).join('\n')).toEqual([]);
  expect(alive).toBe(200);
  const opened = fdTargets().filter((t) => !targetsBefore.includes(t) || t.startsWith('/'));
  // On PostgreSQL + Redis the connection pool may still grow to its size (10) after the
  // warm-up; a leak grows with the 4,000 requests, far past that.
  const poolRoom = process.env.PARLEY_TEST_BACKEND === 'postgres' ? 10 : 0;
  expect(after.fds, `descriptors opened: ${opened.join(', ')}`).toBeLessThanOrEqual(before.fds + 5 + poolRoom);
  expect(after.heapMiB).toBeLessThan(before.heapMiB + 40);
});

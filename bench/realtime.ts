/**
 * Real-time benchmark: Parley against a bare `ws` broadcast server (the ceiling), in one run.
 *
 *   npx tsx bench/realtime.ts            (npm run bench)
 *
 * 1. Latency: one member sends over REST at a fixed rate into a group whose members each hold
 *    a WebSocket; latency = receive time − send time stamped in the content, over every delivery.
 * 2. Fan-out: 1,000 members each hold a WebSocket; K messages are sent back to back (a few in
 *    flight); deliveries/s = frames received / (last frame − first send).
 *
 * The servers run on this thread; the clients and the sender run in a worker thread, so the
 * load generator does not steal the measured event loop. Loopback only, bounded loops; writes
 * bench/results/realtime.{json,md} and prints the table.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type ParleyApp, buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';
import type { User } from '../src/core/index.js';
import { type BareServer, startBareServer } from './bare-server.js';
import type { ConnectReply, ExpectReply, LoadCommand, LoadResponse, SendReply } from './load-protocol.js';
import { type LatencySummary, summarize } from './stats.js';
import { cpuSince, mainThreadCpu } from './thread-cpu.js';

const PARAMS = {
  latency: { members: 50, ratePerSec: 200, secondsPerRound: 5, rounds: 2, warmupSeconds: 3 },
  fanout: { members: 1000, messages: 50, concurrency: 4, rounds: 3, warmupMessages: 10 },
  /** Longest wait for the frames of one phase before it is reported incomplete. */
  phaseTimeoutMs: 30_000,
};

// ── the load worker ─────────────────────────────────────────────────────────

/** The worker thread that holds the clients. Commands are answered in the order they finish. */
class LoadWorker {
  private readonly worker: Worker;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor() {
    // Workers do not inherit tsx's loader in Node 20: register it in the worker, then load the TS module.
    const entry = new URL('./load-worker.ts', import.meta.url).href;
    const tsx = import.meta.resolve('tsx/esm/api');
    const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
    this.worker = new Worker(code, { eval: true });
    this.worker.on('message', (r: LoadResponse) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (r.ok) p.resolve(r.value);
      else p.reject(new Error(`load worker: ${r.error}`));
    });
    this.worker.on('error', (err) => {
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    });
  }

  call(cmd: Extract<LoadCommand, { cmd: 'connect' }>): Promise<ConnectReply>;
  call(cmd: Extract<LoadCommand, { cmd: 'expect' }>): Promise<ExpectReply>;
  call(cmd: Extract<LoadCommand, { cmd: 'send' }>): Promise<SendReply>;
  call(cmd: Extract<LoadCommand, { cmd: 'close' }>): Promise<void>;
  call(cmd: LoadCommand): Promise<unknown> {
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, ...cmd });
    });
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}

// ── the two systems, behind one interface ───────────────────────────────────

/** Listeners of one chat: connect to `urls`, then call `ready()`, which says where to send. */
interface Audience {
  urls: string[];
  /** Whether a socket is connected at `{"type":"ready"}` (Parley) rather than at open. */
  awaitReady: boolean;
  ready(): Promise<{ url: string; headers: Record<string, string> }>;
}

/** What a scenario needs from a system under test. */
interface System {
  name: string;
  /** Makes a chat of `members` listeners (and one sender among them); returns their socket URLs and where to send. */
  audience(members: number, label: string): Promise<Audience>;
  close(): Promise<void>;
}

async function parleySystem(): Promise<System> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-'));
  const config = loadConfig({
    cwd: dir,
    env: {},
    overrides: { port: 0, host: '127.0.0.1', dataDir: dir, databaseUrl: ':memory:', logLevel: 'silent' },
  });
  const app: ParleyApp = await buildApp({ config, logger: false });
  const base = await app.listen();
  const wsBase = base.replace(/^http/, 'ws');
  const users: { user: User; token: string }[] = [];
  const need = Math.max(PARAMS.latency.members, PARAMS.fanout.members);
  // Straight through the core: registering 1,000 users over HTTP would time password hashing.
  for (let i = 0; i < need; i++) {
    const user = await app.accounts.createUser({ username: `bench${i}`, password: null });
    users.push({ user, token: await app.accounts.issueToken(user, 'api') });
  }
  return {
    name: 'Parley',
    async audience(members, label) {
      const chosen = users.slice(0, members);
      const [owner] = chosen;
      if (!owner) throw new Error('no users');
      return {
        urls: chosen.map((u) => `${wsBase}/messages/ws/?token=${u.token}`),
        awaitReady: true,
        // The chat is made once everyone is connected, so connecting costs no presence storm
        // (each connection would notify every online member of a shared chat).
        async ready() {
          const { conversation } = await app.core.conversations.create(owner.user, {
            kind: 'group',
            title: label,
            memberIds: chosen.slice(1).map((u) => u.user.id),
          });
          await app.hub.flush();
          return { url: `${base}/messages/api/chats/${conversation.id}/messages/`, headers: { authorization: `Token ${owner.token}` } };
        },
      };
    },
    async close() {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function bareSystem(): Promise<System> {
  const bare: BareServer = await startBareServer();
  return {
    name: 'bare ws',
    async audience(members) {
      return { urls: Array.from({ length: members }, () => bare.wsUrl), awaitReady: false, ready: async () => ({ url: `${bare.url}/send`, headers: {} }) };
    },
    close: () => bare.close(),
  };
}

// ── scenarios ───────────────────────────────────────────────────────────────

/** A system with its listeners connected and where to send. */
interface Prepared {
  system: System;
  key: string;
  url: string;
  headers: Record<string, string>;
}

async function prepare(system: System, key: string, load: LoadWorker, members: number, label: string): Promise<Prepared & { connectMs: number }> {
  const audience = await system.audience(members, label);
  const connected = await load.call({ cmd: 'connect', group: key, urls: audience.urls, awaitReady: audience.awaitReady });
  if (connected.connected !== members) throw new Error(`${system.name}: ${connected.connected}/${members} connected`);
  const { url, headers } = await audience.ready();
  return { system, key, url, headers, connectMs: connected.ms };
}

/** Rounds alternate which system goes first, so a change in machine load hits both alike. */
function* alternating<T>(items: readonly T[], rounds: number): Generator<[T, number]> {
  for (let round = 0; round < rounds; round++) {
    for (const item of round % 2 === 0 ? items : [...items].reverse()) yield [item, round];
  }
}

interface LatencyResult extends LatencySummary {
  expected: number;
  received: number;
  sendErrors: number;
  connectMs: number;
  /** CPU time of the server thread per message sent (ms), over the measured rounds; NaN where unknown. */
  serverCpuMsPerMessage: number;
  /** Share of the rounds' wall time the server thread waited for a CPU taken by other load, 0–1. */
  cpuWait: number;
  /** Each round, for a feel of the noise. */
  rounds: LatencyRound[];
}

interface LatencyRound {
  p50: number;
  p99: number;
  wallMs: number;
  serverCpuMs: number;
  serverWaitMs: number;
}

async function latencyScenario(systems: System[], load: LoadWorker): Promise<Map<System, LatencyResult>> {
  const p = PARAMS.latency;
  const prepared: (Prepared & { connectMs: number })[] = [];
  for (const [i, system] of systems.entries()) {
    const prep = await prepare(system, `s${i}lat`, load, p.members, 'latency');
    const count = p.ratePerSec * p.warmupSeconds;
    const warm = load.call({ cmd: 'expect', phase: `${prep.key}warm`, total: count * p.members, timeoutMs: PARAMS.phaseTimeoutMs, keepLatencies: false });
    await load.call({ cmd: 'send', phase: `${prep.key}warm`, url: prep.url, headers: prep.headers, count, ratePerSec: p.ratePerSec });
    await warm;
    prepared.push(prep);
  }
  const samples = new Map<Prepared, { latencies: number[]; expected: number; received: number; errors: number; rounds: LatencyResult['rounds'] }>();
  for (const [prep, round] of alternating(prepared, p.rounds)) {
    const count = p.ratePerSec * p.secondsPerRound;
    const phase = `${prep.key}r${round}`;
    const got = load.call({ cmd: 'expect', phase, total: count * p.members, timeoutMs: PARAMS.phaseTimeoutMs, keepLatencies: true });
    const cpu0 = mainThreadCpu();
    const wall0 = performance.now();
    const sent = await load.call({ cmd: 'send', phase, url: prep.url, headers: prep.headers, count, ratePerSec: p.ratePerSec });
    if (sent.errors > 0) console.warn(`${prep.system.name}: ${sent.errors} sends failed (${sent.firstError})`);
    const r = await got;
    const cpu = cpuSince(cpu0);
    const wallMs = performance.now() - wall0;
    const acc = samples.get(prep) ?? { latencies: [], expected: 0, received: 0, errors: 0, rounds: [] };
    for (const v of r.latencies) acc.latencies.push(v);
    acc.expected += count * p.members;
    acc.received += r.count;
    acc.errors += sent.errors;
    const s = summarize(r.latencies);
    acc.rounds.push({ p50: s.p50, p99: s.p99, wallMs, serverCpuMs: cpu?.cpuMs ?? Number.NaN, serverWaitMs: cpu?.waitMs ?? Number.NaN });
    samples.set(prep, acc);
    console.log(
      `  latency round ${round + 1}/${p.rounds} ${prep.system.name}: p50 ${fmt(s.p50)} ms, p99 ${fmt(s.p99)} ms, ` +
        `server CPU ${fmt((cpu?.cpuMs ?? Number.NaN) / count)} ms/message, waited for a CPU ${pct((cpu?.waitMs ?? Number.NaN) / wallMs)} of the time`,
    );
  }
  const out = new Map<System, LatencyResult>();
  for (const prep of prepared) {
    await load.call({ cmd: 'close', group: prep.key });
    const acc = samples.get(prep);
    if (!acc) continue;
    const total = (f: (r: LatencyRound) => number) => acc.rounds.reduce((sum, r) => sum + f(r), 0);
    const messages = acc.expected / p.members;
    out.set(prep.system, {
      ...summarize(acc.latencies),
      expected: acc.expected,
      received: acc.received,
      sendErrors: acc.errors,
      connectMs: prep.connectMs,
      serverCpuMsPerMessage: total((r) => r.serverCpuMs) / messages,
      cpuWait: total((r) => r.serverWaitMs) / total((r) => r.wallMs),
      rounds: acc.rounds,
    });
  }
  return out;
}

interface FanoutRound {
  received: number;
  elapsedMs: number;
  deliveriesPerSec: number;
  /** CPU time of the server thread during the round, and time it waited for a CPU, ms. */
  serverCpuMs: number;
  serverWaitMs: number;
  /** Deliveries per second of server-thread CPU time. */
  deliveriesPerCpuSec: number;
}

interface FanoutResult {
  members: number;
  messagesPerRound: number;
  expectedPerRound: number;
  /** Median over the rounds. */
  deliveriesPerSec: number;
  /** Deliveries per second of server-thread CPU time, median over the rounds: what the server could do with a core to itself. */
  deliveriesPerCpuSec: number;
  /** Share of the rounds' wall time the server thread waited for a CPU taken by other load, 0–1. */
  cpuWait: number;
  sendErrors: number;
  connectMs: number;
  rounds: FanoutRound[];
}

async function fanoutScenario(systems: System[], load: LoadWorker): Promise<Map<System, FanoutResult>> {
  const p = PARAMS.fanout;
  const prepared: (Prepared & { connectMs: number })[] = [];
  for (const [i, system] of systems.entries()) {
    const prep = await prepare(system, `s${i}fan`, load, p.members, 'fan-out room');
    const warm = load.call({ cmd: 'expect', phase: `${prep.key}warm`, total: p.warmupMessages * p.members, timeoutMs: PARAMS.phaseTimeoutMs, keepLatencies: false });
    await load.call({ cmd: 'send', phase: `${prep.key}warm`, url: prep.url, headers: prep.headers, count: p.warmupMessages, concurrency: p.concurrency });
    await warm;
    prepared.push(prep);
  }
  const rounds = new Map<Prepared, { rounds: FanoutRound[]; errors: number }>();
  for (const [prep, round] of alternating(prepared, p.rounds)) {
    const phase = `${prep.key}r${round}`;
    const expected = p.messages * p.members;
    const got = load.call({ cmd: 'expect', phase, total: expected, timeoutMs: PARAMS.phaseTimeoutMs, keepLatencies: false });
    const cpu0 = mainThreadCpu();
    const sent = await load.call({ cmd: 'send', phase, url: prep.url, headers: prep.headers, count: p.messages, concurrency: p.concurrency });
    const r = await got;
    const cpu = cpuSince(cpu0);
    if (sent.errors > 0) console.warn(`${prep.system.name}: ${sent.errors} sends failed (${sent.firstError})`);
    const elapsedMs = (r.last ?? sent.end) - sent.start;
    const acc = rounds.get(prep) ?? { rounds: [], errors: 0 };
    const serverCpuMs = cpu?.cpuMs ?? Number.NaN;
    const round_: FanoutRound = {
      received: r.count,
      elapsedMs,
      deliveriesPerSec: r.count / (elapsedMs / 1000),
      serverCpuMs,
      serverWaitMs: cpu?.waitMs ?? Number.NaN,
      deliveriesPerCpuSec: r.count / (serverCpuMs / 1000),
    };
    acc.rounds.push(round_);
    acc.errors += sent.errors;
    rounds.set(prep, acc);
    console.log(
      `  fan-out round ${round + 1}/${p.rounds} ${prep.system.name}: ${int(round_.deliveriesPerSec)} deliveries/s, ${int(r.count)}/${int(expected)} received, ` +
        `${int(round_.deliveriesPerCpuSec)} per server CPU-second, waited for a CPU ${pct(round_.serverWaitMs / elapsedMs)} of the time`,
    );
  }
  const out = new Map<System, FanoutResult>();
  for (const prep of prepared) {
    await load.call({ cmd: 'close', group: prep.key });
    const acc = rounds.get(prep);
    if (!acc) continue;
    const total = (f: (r: FanoutRound) => number) => acc.rounds.reduce((sum, r) => sum + f(r), 0);
    out.set(prep.system, {
      members: p.members,
      messagesPerRound: p.messages,
      expectedPerRound: p.messages * p.members,
      deliveriesPerSec: median(acc.rounds.map((r) => r.deliveriesPerSec)),
      deliveriesPerCpuSec: median(acc.rounds.map((r) => r.deliveriesPerCpuSec)),
      cpuWait: total((r) => r.serverWaitMs) / total((r) => r.elapsedMs),
      sendErrors: acc.errors,
      connectMs: prep.connectMs,
      rounds: acc.rounds,
    });
  }
  return out;
}

// ── report ──────────────────────────────────────────────────────────────────

interface SystemResult {
  latency: LatencyResult;
  fanout: FanoutResult;
}

function fmt(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}
function pct(n: number): string {
  return Number.isFinite(n) ? `${Math.round(n * 100)}%` : 'n/a';
}
function int(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a';
}

function table(parley: SystemResult, bare: SystemResult): string {
  const l = PARAMS.latency;
  const f = PARAMS.fanout;
  const lat = `${l.ratePerSec} msg/s × ${l.members} members`;
  const fan = `${int(f.members)} members`;
  const ratio = (a: number, b: number) => fmt(a / b);
  const rows: [string, string, string, string][] = [
    [`latency p50 (ms), ${lat}`, fmt(parley.latency.p50), fmt(bare.latency.p50), ratio(parley.latency.p50, bare.latency.p50)],
    [`latency p99 (ms), ${lat}`, fmt(parley.latency.p99), fmt(bare.latency.p99), ratio(parley.latency.p99, bare.latency.p99)],
    ['latency deliveries received / expected', `${int(parley.latency.received)} / ${int(parley.latency.expected)}`, `${int(bare.latency.received)} / ${int(bare.latency.expected)}`, ''],
    [
      `server CPU per message (ms), ${l.members} members`,
      fmt(parley.latency.serverCpuMsPerMessage, 3),
      fmt(bare.latency.serverCpuMsPerMessage, 3),
      ratio(parley.latency.serverCpuMsPerMessage, bare.latency.serverCpuMsPerMessage),
    ],
    [`fan-out deliveries/s, ${fan} (median of ${f.rounds})`, int(parley.fanout.deliveriesPerSec), int(bare.fanout.deliveriesPerSec), ratio(parley.fanout.deliveriesPerSec, bare.fanout.deliveriesPerSec)],
    [
      `fan-out deliveries per server CPU-second, ${fan}`,
      int(parley.fanout.deliveriesPerCpuSec),
      int(bare.fanout.deliveriesPerCpuSec),
      ratio(parley.fanout.deliveriesPerCpuSec, bare.fanout.deliveriesPerCpuSec),
    ],
    [
      'server thread waiting for a CPU (latency / fan-out)',
      `${pct(parley.latency.cpuWait)} / ${pct(parley.fanout.cpuWait)}`,
      `${pct(bare.latency.cpuWait)} / ${pct(bare.fanout.cpuWait)}`,
      '',
    ],
  ];
  const head = '| metric | Parley | bare ws | ratio Parley/bare |\n|---|---:|---:|---:|';
  return [head, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

async function main(): Promise<void> {
  const started = performance.now();
  const loadBefore = loadavg();
  const load = new LoadWorker();
  const systems: System[] = [];
  let latency: Map<System, LatencyResult>;
  let fanout: Map<System, FanoutResult>;
  try {
    systems.push(await parleySystem(), await bareSystem());
    console.log(`latency: ${PARAMS.latency.ratePerSec} msg/s into ${PARAMS.latency.members} members, ${PARAMS.latency.rounds} rounds of ${PARAMS.latency.secondsPerRound} s each`);
    latency = await latencyScenario(systems, load);
    console.log(`fan-out: ${PARAMS.fanout.messages} messages to ${PARAMS.fanout.members} members, ${PARAMS.fanout.rounds} rounds each`);
    fanout = await fanoutScenario(systems, load);
  } finally {
    await load.terminate();
    for (const s of systems) await s.close();
  }
  const result = (system: System | undefined): SystemResult => {
    const l = system && latency.get(system);
    const f = system && fanout.get(system);
    if (!l || !f) throw new Error('missing results');
    return { latency: l, fanout: f };
  };
  const parley = result(systems[0]);
  const bare = result(systems[1]);
  const loadAfter = loadavg();

  const environment =
    `${cpus().length} CPU(s) (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, load average ${fmt(loadBefore[0] ?? 0, 1)} before / ${fmt(loadAfter[0] ?? 0, 1)} after, ${new Date().toISOString()}`;
  const md = [
    '# Real-time benchmark: Parley vs a bare `ws` broadcast',
    '',
    table(parley, bare),
    '',
    `- Latency: one member sends over REST at ${PARAMS.latency.ratePerSec} msg/s (open loop) into a group of ${PARAMS.latency.members} members, each with a WebSocket; every delivery is a sample (${PARAMS.latency.rounds} rounds of ${PARAMS.latency.secondsPerRound} s per system, after ${PARAMS.latency.warmupSeconds} s of warm-up). A ratio above 1 is slower.`,
    `- Fan-out: ${PARAMS.fanout.messages} messages sent over REST with ${PARAMS.fanout.concurrency} in flight to ${int(PARAMS.fanout.members)} connected members; deliveries/s = frames received / (last frame − first send), median of ${PARAMS.fanout.rounds} rounds. A ratio below 1 is fewer deliveries.`,
    '- Server CPU is the CPU time of the thread running the server (Linux schedstat), so it does not grow when other processes take the machine: "server CPU per message" and "deliveries per server CPU-second" are the costs to compare on a shared machine. Wall-clock numbers (latency, deliveries/s) include queueing behind other load; "waiting for a CPU" says how much of that there was. When a server needs more than a core\'s worth of CPU for the offered rate, its latency is queueing.',
    '- The bare server answers `POST /send` by encoding one `new_message`-shaped frame once and sending it to every socket: no authentication, storage, membership, event log or broker.',
    '- Rounds alternate between the systems, so a change in machine load affects both alike; on a shared machine, the CPU rows are the ones to compare.',
    '',
    `Servers on the main thread, clients and sender in one worker thread, loopback; in-memory SQLite. ${environment}.`,
    '',
  ].join('\n');
  const results = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? null,
    loadAverage: { before: loadBefore, after: loadAfter },
    params: PARAMS,
    parley,
    bare,
    ratios: {
      latencyP50: parley.latency.p50 / bare.latency.p50,
      latencyP99: parley.latency.p99 / bare.latency.p99,
      fanoutDeliveriesPerSec: parley.fanout.deliveriesPerSec / bare.fanout.deliveriesPerSec,
      serverCpuPerMessage: parley.latency.serverCpuMsPerMessage / bare.latency.serverCpuMsPerMessage,
      fanoutDeliveriesPerCpuSec: parley.fanout.deliveriesPerCpuSec / bare.fanout.deliveriesPerCpuSec,
    },
    runtimeSeconds: (performance.now() - started) / 1000,
  };
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'realtime.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(out, 'realtime.md'), md);
  console.log(`\n${table(parley, bare)}\n`);
  console.log(`${environment}; ${fmt(results.runtimeSeconds, 1)} s. Written to bench/results/realtime.json and realtime.md.`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

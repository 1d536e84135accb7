/**
 * Real-time benchmark: Parley against a bare `ws` broadcast server and Socket.IO 4, in one run.
 *
 *   npm run bench                      (node --import tsx bench/realtime.ts; ~6–9 min on 2 cores)
 *   npm run bench -- --quick           (smoke run: small sizes, one round, ~1 min)
 *   npm run bench -- --cases latency,fanout --rounds 5
 *   npm run bench -- --cases latency --profile   (CPU profile of Parley → realtime-profile.md)
 *
 * Each target runs in its own process (`bench/bare-server.ts`, `bench/socketio-server.ts`,
 * `parley serve` on SQLite); this process is the load driver (`bench/driver.ts`, the same code
 * for every target) and reads the servers' CPU time and memory from /proc.
 *
 * 1. latency: 1,000 clients in rooms of 10 (one member of each sends), 1,000 durable msg/s in
 *    all, open loop: send → deliver p50 / p99 and server CPU.
 * 2. fanout: one room of 1,000 members; one member sends, keeping 1 (then 4) messages in flight
 *    (a message is in flight until every member has it): deliveries/s.
 * 3. idle: 10,000 idle connections to a fresh server process: memory per connection.
 * 4. rest: 50 senders POSTing messages over REST (Parley only): durable msgs/s, beside raw
 *    batched inserts into the same engine (SQLite, Parley's schema) as the baseline.
 *
 * Every case: median of 3 rounds, rounds alternating which target goes first; ratios are to the
 * baselines of the same run. Loopback only, bounded loops; child processes and temp files are
 * removed also on failure or Ctrl-C. Writes bench/results/realtime.{json,md} and the charts
 * realtime-latency.svg and realtime-deliveries.svg (with --quick: under bench/results/quick/).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { Accounts } from '../src/auth/index.js';
import { createCore } from '../src/core/index.js';
import { openSqliteStore } from '../src/store/index.js';
import { type Client, type Wire, Tracker, closeClients, openClients } from './driver.js';
import { parleyRest as rest } from './parley-api.js';
import { summarizeProfiles } from './profile.js';
import { BENCH_DIR, type ServerProcess, cpuMs, onCleanup, rssBytes, runMain, sleep, spawnServer } from './procs.js';
import { summarize } from './stats.js';
import { barChart, distributionChart } from './svg.js';

const CASES = ['latency', 'fanout', 'idle', 'rest'] as const;
type CaseName = (typeof CASES)[number];

const { values: argv } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    cases: { type: 'string', default: CASES.join(',') },
    profile: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (argv.help) {
  console.log('usage: node --import tsx bench/realtime.ts [--quick] [--rounds 3] [--cases latency,fanout,idle,rest] [--profile]');
  process.exit(0);
}
const QUICK = argv.quick === true;
/** CPU-profile Parley in the latency, fan-out and REST cases (`--cpu-prof`); summary in realtime-profile.md. */
const PROFILE = argv.profile === true;
const ROUNDS = argv.rounds !== undefined ? Number(argv.rounds) : QUICK ? 1 : 3;
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 9) throw new Error('--rounds must be an integer from 1 to 9');
const SELECTED = new Set(
  argv.cases.split(',').map((c) => {
    const name = c.trim();
    if (!(CASES as readonly string[]).includes(name)) throw new Error(`unknown case ${name}: use ${CASES.join(', ')}`);
    return name as CaseName;
  }),
);

const PARAMS = {
  rounds: ROUNDS,
  latency: QUICK
    ? { clients: 200, roomSize: 10, ratePerSec: 200, seconds: 2, warmupSeconds: 1 }
    : { clients: 1000, roomSize: 10, ratePerSec: 1000, seconds: 8, warmupSeconds: 3 },
  fanout: QUICK ? { members: 200, messages: 20, inFlight: [1, 4], warmupMessages: 5 } : { members: 1000, messages: 200, inFlight: [1, 4], warmupMessages: 20 },
  idle: QUICK ? { connections: 1000, perUser: 10, settleMs: 1000 } : { connections: 10_000, perUser: 10, settleMs: 2000 },
  rest: QUICK ? { senders: 50, seconds: 1, rawBatch: 50 } : { senders: 50, seconds: 5, rawBatch: 50 },
  /** After the last send, how long missing deliveries are waited for before a round is reported short. */
  drainMs: 10_000,
};

/**
 * Open files this process may have (Node raises its soft limit to the hard one at start; the
 * npm script raises the hard one where it may). Each idle connection is a descriptor here and
 * one in the server, which inherits the same limit.
 */
function fileLimit(): number {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m?.[1] === undefined || m[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[1]);
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}
const FILE_LIMIT = fileLimit();
if (PARAMS.idle.connections > FILE_LIMIT - 1000) {
  const fit = Math.max(100, Math.floor((FILE_LIMIT - 1000) / 100) * 100);
  console.warn(`open-file limit ${FILE_LIMIT}: idle case lowered from ${PARAMS.idle.connections} to ${fit} connections (raise it with \`ulimit -n\`)`);
  PARAMS.idle.connections = fit;
}

const OUT_DIR = QUICK ? join(BENCH_DIR, 'results', 'quick') : join(BENCH_DIR, 'results');
const PROFILE_DIR = PROFILE ? join(OUT_DIR, 'profiles', 'realtime') : null;

// ── formatting ───────────────────────────────────────────────────────────────

function fmt(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}
function int(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a';
}
function pct(n: number): string {
  return Number.isFinite(n) ? `${Math.round(n * 100)}%` : 'n/a';
}
function median(values: readonly number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Rounds alternate which target goes first, so a change in machine load hits all alike. */
function* alternating<T>(items: readonly T[], rounds: number): Generator<[T, number]> {
  for (let round = 0; round < rounds; round++) {
    for (const item of round % 2 === 0 ? items : [...items].reverse()) yield [item, round];
  }
}

// ── targets ──────────────────────────────────────────────────────────────────

type TargetName = 'bare ws' | 'Socket.IO' | 'Parley';
const TARGET_NAMES: readonly TargetName[] = ['bare ws', 'Socket.IO', 'Parley'];

/** A room of a scenario: its sender and receivers connect first; `id` is known once the room is made. */
interface Room {
  id: string | number;
  senderUrl: string;
  receiverUrls: string[];
}

interface Target {
  name: TargetName;
  wire: Wire;
  server: ServerProcess;
  /** `count` rooms of `size` members each (the first one sends); made by `create` once everyone is connected. */
  rooms(count: number, size: number): Room[];
  /** Makes the rooms where they must exist before messages flow (Parley), after the members connected. */
  create(rooms: Room[]): Promise<void>;
  /** Removes them again before the members leave (Parley: so leaving costs no presence storm). */
  drop(rooms: Room[]): Promise<void>;
  /** URLs of `n` idle connections. */
  idleUrls(n: number): string[];
}

/** Parley's users and tokens, made straight in the database before the server starts. */
interface ParleyFixture {
  dir: string;
  dbFile: string;
  config: string;
  users: { id: number; token: string }[];
  /** Index ranges into `users`. */
  idleFrom: number;
  restFrom: number;
}

async function parleyFixture(): Promise<ParleyFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-'));
  onCleanup('temp dir', async () => rmSync(dir, { recursive: true, force: true }));
  const dbFile = join(dir, 'parley.db');
  const config = join(dir, 'parley.config.json');
  // The bench clients send no heartbeat; a long threshold keeps them "online" without one.
  writeFileSync(config, JSON.stringify({ inactivityThreshold: 86_400 }));
  const scenarioUsers = Math.max(PARAMS.latency.clients, PARAMS.fanout.members);
  const restFrom = scenarioUsers;
  const idleFrom = restFrom + 2 * PARAMS.rest.senders;
  const total = idleFrom + Math.ceil(PARAMS.idle.connections / PARAMS.idle.perUser);
  const store = openSqliteStore({ filename: dbFile });
  try {
    await store.migrate();
    // Straight through the core: registering thousands of users over HTTP would time password hashing.
    const accounts = new Accounts({ store, now: () => new Date(), registrationEnabled: true, sessionTtlDays: 30 });
    const users: ParleyFixture['users'] = [];
    for (let i = 0; i < total; i++) {
      const user = await accounts.createUser({ username: `bench${i}`, password: null });
      users.push({ id: user.id, token: await accounts.issueToken(user, 'api') });
    }
    return { dir, dbFile, config, users, idleFrom, restFrom };
  } finally {
    await store.close();
  }
}

function parleyEnv(fx: ParleyFixture): Record<string, string | undefined> {
  return {
    DATABASE_URL: fx.dbFile,
    PARLEY_DATA_DIR: fx.dir,
    PARLEY_CONFIG: fx.config,
    PARLEY_SECRET: randomBytes(24).toString('base64url'),
    HOST: '127.0.0.1',
    // `warn`: request logging at `info` would be measured as Parley's cost.
    LOG_LEVEL: 'warn',
    // One process, in-process broker, whatever the shell has.
    REDIS_URL: undefined,
  };
}

/** Every target gets the same preload and flags (`--expose-gc` and a SIGUSR2 memory probe). */
const PROBE = { memoryProbe: true };

async function startTarget(name: TargetName, fx: ParleyFixture | null, profileDir: string | null = null): Promise<Target> {
  if (name === 'bare ws') {
    const server = await spawnServer('bare ws', ['bench/bare-server.ts'], {}, PROBE);
    const base = `ws://127.0.0.1:${server.port}/`;
    return {
      name,
      wire: 'messaging',
      server,
      rooms: (count, size) => Array.from({ length: count }, (_, r) => ({ id: `r${r}`, senderUrl: `${base}?room=r${r}`, receiverUrls: Array(size - 1).fill(`${base}?room=r${r}`) })),
      create: async () => {},
      drop: async () => {},
      idleUrls: (n) => Array(n).fill(`${base}?room=idle`),
    };
  }
  if (name === 'Socket.IO') {
    const server = await spawnServer('Socket.IO', ['bench/socketio-server.ts'], { SIO_REDIS: '0' }, PROBE);
    const base = `ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket`;
    return {
      name,
      wire: 'socket.io',
      server,
      rooms: (count, size) => Array.from({ length: count }, (_, r) => ({ id: `r${r}`, senderUrl: `${base}&room=r${r}`, receiverUrls: Array(size - 1).fill(`${base}&room=r${r}`) })),
      create: async () => {},
      drop: async () => {},
      idleUrls: (n) => Array(n).fill(`${base}&room=idle`),
    };
  }
  if (!fx) throw new Error('Parley needs its fixture');
  const server = await spawnServer('Parley', ['src/cli/main.ts', 'serve'], parleyEnv(fx), {
    ...PROBE,
    ...(profileDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] } : {}),
  });
  const base = `ws://127.0.0.1:${server.port}/messaging/?token=`;
  // Who makes each room, and its other members: rooms are made over REST once everyone is connected.
  const made = new Map<Room, { token: string; memberIds: number[] }>();
  return {
    name,
    wire: 'messaging',
    server,
    rooms(count, size) {
      return Array.from({ length: count }, (_, r) => {
        const members = fx.users.slice(r * size, r * size + size);
        const [owner, ...others] = members;
        if (!owner || others.length !== size - 1) throw new Error(`not enough users for ${count} rooms of ${size}`);
        const room: Room = { id: 0, senderUrl: base + owner.token, receiverUrls: others.map((u) => base + u.token) };
        made.set(room, { token: owner.token, memberIds: others.map((u) => u.id) });
        return room;
      });
    },
    // Made after everyone connected: each member coming online would otherwise notify every
    // online member of the room, and the bench would measure that storm.
    async create(rooms) {
      for (const room of rooms) {
        const m = made.get(room);
        if (!m) throw new Error('not a room of this target');
        const chat = (await rest(`http://127.0.0.1:${server.port}`, m.token, 'POST', '/chats/', { chat_type: 'group', title: 'bench', member_ids: m.memberIds })) as { id: number };
        room.id = chat.id;
      }
    },
    async drop(rooms) {
      for (const room of rooms) {
        const m = made.get(room);
        if (m && room.id) await rest(`http://127.0.0.1:${server.port}`, m.token, 'DELETE', `/chats/${room.id}/`);
        made.delete(room);
      }
    },
    idleUrls(n) {
      return Array.from({ length: n }, (_, i) => base + (fx.users[fx.idleFrom + Math.floor(i / PARAMS.idle.perUser)]?.token ?? ''));
    },
  };
}

/** Senders and receivers of a set of rooms, connected. */
interface Connected {
  rooms: Room[];
  senders: Client[];
  receivers: Client[];
  connectMs: number;
}

async function connectRooms(target: Target, rooms: Room[], tracker: Tracker): Promise<Connected> {
  const t0 = performance.now();
  const receivers = await openClients(
    rooms.flatMap((r) => r.receiverUrls),
    target.wire,
    tracker,
  );
  const senders = await openClients(
    rooms.map((r) => r.senderUrl),
    target.wire,
    null,
  );
  await target.create(rooms);
  return { rooms, senders, receivers, connectMs: performance.now() - t0 };
}

async function disconnectRooms(target: Target, c: Connected): Promise<void> {
  await target.drop(c.rooms);
  await closeClients([...c.senders, ...c.receivers]);
}

function sendErrors(c: Connected): { count: number; first: string | null } {
  let count = 0;
  let first: string | null = null;
  for (const s of [...c.senders, ...c.receivers]) {
    const e = s.errors();
    count += e.count;
    first ??= e.first;
  }
  return { count, first };
}

// ── case 1: latency ─────────────────────────────────────────────────────────

interface LatencyRound {
  p50: number;
  p99: number;
  max: number;
  sent: number;
  expected: number;
  received: number;
  wallMs: number;
  serverCpuMs: number;
  /** Server CPU as a share of one core over the round. */
  serverCpu: number;
  serverCpuMsPerMessage: number;
  /** This process (the driver) as a share of one core: near 1 means the driver set the pace. */
  driverCpu: number;
}

interface LatencyResult {
  p50: number;
  p99: number;
  serverCpu: number;
  serverCpuMsPerMessage: number;
  received: number;
  expected: number;
  connectMs: number;
  errors: number;
  firstError: string | null;
  rounds: LatencyRound[];
}

/**
 * Waits (up to 20 s) until the server is quiet: under 5% of a core over half a second. A target
 * that fell behind is still delivering its backlog after the round; the next round, maybe of
 * another target, must not share the machine with it.
 */
async function settle(target: Target): Promise<void> {
  const deadline = performance.now() + 20_000;
  while (performance.now() < deadline) {
    const before = cpuMs(target.server.pid);
    await sleep(500);
    const after = cpuMs(target.server.pid);
    if (before === null || after === null || after - before < 25) return;
  }
  console.warn(`  ${target.name} still busy 20 s after the round`);
}

let phaseCounter = 0;
const nextPhase = (label: string) => `${label}${++phaseCounter}`;

/**
 * Sends `total` messages at `rate`/s round-robin over the rooms (open loop: each leaves on its
 * schedule whatever happened to earlier ones), then waits for the deliveries.
 */
async function latencyRound(c: Connected, target: Target, tracker: Tracker, rate: number, seconds: number, keep: number[] | null): Promise<LatencyRound> {
  const total = Math.round(rate * seconds);
  const perMessage = c.rooms[0]?.receiverUrls.length ?? 0;
  const expected = total * perMessage;
  const phase = nextPhase('lat');
  const latencies: number[] = [];
  let received = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  const stop = tracker.listen(phase, {
    delivery(_seq, latency) {
      latencies.push(latency);
      if (++received >= expected) done();
    },
  });
  const cpu0 = cpuMs(target.server.pid) ?? Number.NaN;
  const self0 = process.cpuUsage();
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
    for (; sent < due; sent++) {
      const i = sent % c.rooms.length;
      const room = c.rooms[i];
      const sender = c.senders[i];
      if (room && sender) sender.send(room.id, `${phase}:${sent}:${performance.now().toFixed(3)}`);
    }
    await sleep(1);
  }
  await Promise.race([all, sleep(PARAMS.drainMs)]);
  stop();
  const wallMs = performance.now() - start;
  const self = process.cpuUsage(self0);
  const serverCpuMs = (cpuMs(target.server.pid) ?? Number.NaN) - cpu0;
  if (keep) for (const v of latencies) keep.push(v);
  const s = summarize(latencies);
  return {
    p50: s.p50,
    p99: s.p99,
    max: s.max,
    sent: total,
    expected,
    received,
    wallMs,
    serverCpuMs,
    serverCpu: serverCpuMs / wallMs,
    serverCpuMsPerMessage: serverCpuMs / total,
    driverCpu: (self.user + self.system) / 1000 / wallMs,
  };
}

async function latencyCase(targets: Target[], samples: Map<TargetName, number[]>): Promise<Map<TargetName, LatencyResult>> {
  const p = PARAMS.latency;
  const roomCount = p.clients / p.roomSize;
  const tracker = new Tracker();
  const connected = new Map<Target, Connected>();
  const rounds = new Map<Target, LatencyRound[]>();
  try {
    for (const t of targets) {
      const c = await connectRooms(t, t.rooms(roomCount, p.roomSize), tracker);
      connected.set(t, c);
      const warm = await latencyRound(c, t, tracker, p.ratePerSec, p.warmupSeconds, null);
      await settle(t);
      console.log(`  ${t.name}: ${p.clients} clients connected in ${int(c.connectMs)} ms; warm-up ${int(warm.received)}/${int(warm.expected)} delivered, p50 ${fmt(warm.p50)} ms`);
    }
    for (const [t, round] of alternating(targets, PARAMS.rounds)) {
      const c = connected.get(t);
      if (!c) continue;
      const keep = samples.get(t.name) ?? [];
      samples.set(t.name, keep);
      const r = await latencyRound(c, t, tracker, p.ratePerSec, p.seconds, keep);
      await settle(t);
      rounds.set(t, [...(rounds.get(t) ?? []), r]);
      console.log(
        `  round ${round + 1}/${PARAMS.rounds} ${t.name}: p50 ${fmt(r.p50)} ms, p99 ${fmt(r.p99)} ms, ${int(r.received)}/${int(r.expected)}, ` +
          `server CPU ${pct(r.serverCpu)} (${fmt(r.serverCpuMsPerMessage, 3)} ms/msg), driver ${pct(r.driverCpu)}`,
      );
    }
  } finally {
    for (const [t, c] of connected) await disconnectRooms(t, c);
  }
  const out = new Map<TargetName, LatencyResult>();
  for (const t of targets) {
    const rs = rounds.get(t) ?? [];
    const c = connected.get(t);
    const errs = c ? sendErrors(c) : { count: 0, first: null };
    out.set(t.name, {
      p50: median(rs.map((r) => r.p50)),
      p99: median(rs.map((r) => r.p99)),
      serverCpu: median(rs.map((r) => r.serverCpu)),
      serverCpuMsPerMessage: median(rs.map((r) => r.serverCpuMsPerMessage)),
      received: rs.reduce((s, r) => s + r.received, 0),
      expected: rs.reduce((s, r) => s + r.expected, 0),
      connectMs: c?.connectMs ?? Number.NaN,
      errors: errs.count,
      firstError: errs.first,
      rounds: rs,
    });
  }
  return out;
}

// ── case 2: fan-out ─────────────────────────────────────────────────────────

interface FanoutRound {
  received: number;
  expected: number;
  elapsedMs: number;
  deliveriesPerSec: number;
  serverCpuMs: number;
  /** Deliveries per second of server CPU time: what the server could do with a core to itself. */
  deliveriesPerCpuSec: number;
  driverCpu: number;
}

interface FanoutResult {
  inFlight: number;
  deliveriesPerSec: number;
  deliveriesPerCpuSec: number;
  received: number;
  expected: number;
  rounds: FanoutRound[];
}

/** `messages` messages into one room, keeping `inFlight` of them not yet delivered to every member. */
async function fanoutRound(c: Connected, target: Target, tracker: Tracker, messages: number, inFlight: number): Promise<FanoutRound> {
  const room = c.rooms[0];
  const sender = c.senders[0];
  if (!room || !sender) throw new Error('no room');
  const members = room.receiverUrls.length;
  const expected = messages * members;
  const phase = nextPhase('fan');
  const counts = new Uint32Array(messages);
  let received = 0;
  let next = 0;
  let last = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  const sendNext = () => {
    if (next < messages) sender.send(room.id, `${phase}:${next++}:${performance.now().toFixed(3)}`);
  };
  const stop = tracker.listen(phase, {
    delivery(seq, _latency, now) {
      received++;
      last = now;
      const n = (counts[seq] ?? 0) + 1;
      counts[seq] = n;
      if (n === members) sendNext();
      if (received >= expected) done();
    },
  });
  const cpu0 = cpuMs(target.server.pid) ?? Number.NaN;
  const self0 = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < inFlight; i++) sendNext();
  await Promise.race([all, sleep(15_000)]);
  stop();
  const elapsedMs = (last || performance.now()) - start;
  const self = process.cpuUsage(self0);
  const serverCpuMs = (cpuMs(target.server.pid) ?? Number.NaN) - cpu0;
  return {
    received,
    expected,
    elapsedMs,
    deliveriesPerSec: received / (elapsedMs / 1000),
    serverCpuMs,
    deliveriesPerCpuSec: received / (serverCpuMs / 1000),
    driverCpu: (self.user + self.system) / 1000 / elapsedMs,
  };
}

async function fanoutCase(targets: Target[]): Promise<Map<TargetName, FanoutResult[]>> {
  const p = PARAMS.fanout;
  const tracker = new Tracker();
  const connected = new Map<Target, Connected>();
  const rounds = new Map<string, FanoutRound[]>();
  try {
    for (const t of targets) {
      const c = await connectRooms(t, t.rooms(1, p.members), tracker);
      connected.set(t, c);
      const warm = await fanoutRound(c, t, tracker, p.warmupMessages, 4);
      console.log(`  ${t.name}: ${p.members} members connected in ${int(c.connectMs)} ms; warm-up ${int(warm.deliveriesPerSec)} deliveries/s`);
    }
    for (const inFlight of p.inFlight) {
      for (const [t, round] of alternating(targets, PARAMS.rounds)) {
        const c = connected.get(t);
        if (!c) continue;
        const r = await fanoutRound(c, t, tracker, p.messages, inFlight);
        await settle(t);
        const key = `${t.name}/${inFlight}`;
        rounds.set(key, [...(rounds.get(key) ?? []), r]);
        console.log(
          `  ${inFlight} in flight, round ${round + 1}/${PARAMS.rounds} ${t.name}: ${int(r.deliveriesPerSec)} deliveries/s, ${int(r.received)}/${int(r.expected)}, ` +
            `${int(r.deliveriesPerCpuSec)} per server CPU-second, driver ${pct(r.driverCpu)}`,
        );
      }
    }
  } finally {
    for (const [t, c] of connected) await disconnectRooms(t, c);
  }
  const out = new Map<TargetName, FanoutResult[]>();
  for (const t of targets) {
    out.set(
      t.name,
      p.inFlight.map((inFlight) => {
        const rs = rounds.get(`${t.name}/${inFlight}`) ?? [];
        return {
          inFlight,
          deliveriesPerSec: median(rs.map((r) => r.deliveriesPerSec)),
          deliveriesPerCpuSec: median(rs.map((r) => r.deliveriesPerCpuSec)),
          received: rs.reduce((s, r) => s + r.received, 0),
          expected: rs.reduce((s, r) => s + r.expected, 0),
          rounds: rs,
        };
      }),
    );
  }
  return out;
}

// ── case 3: idle connections ────────────────────────────────────────────────

interface IdleRound {
  connected: number;
  connectMs: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  /** RSS growth per connection: what the machine pays. */
  bytesPerConnection: number;
  /** JS heap + external memory growth per connection after a full GC: what the connections hold. */
  heapBytesPerConnection: number;
}

interface IdleResult {
  connections: number;
  bytesPerConnection: number;
  heapBytesPerConnection: number;
  rounds: IdleRound[];
}

/** Each round on a fresh server process, so memory left over from an earlier round is not counted as free. */
async function idleCase(names: readonly TargetName[], fx: ParleyFixture | null): Promise<Map<TargetName, IdleResult>> {
  const p = PARAMS.idle;
  const rounds = new Map<TargetName, IdleRound[]>();
  for (const [name, round] of alternating(names, PARAMS.rounds)) {
    const target = await startTarget(name, fx);
    let clients: Client[] = [];
    try {
      await sleep(p.settleMs);
      const heap = async () => {
        const m = await target.server.memory();
        return m ? m.heapUsed + m.external : Number.NaN;
      };
      const heapBefore = await heap();
      const before = rssBytes(target.server.pid) ?? Number.NaN;
      const t0 = performance.now();
      clients = await openClients(target.idleUrls(p.connections), target.wire, null, 100);
      const connectMs = performance.now() - t0;
      await sleep(p.settleMs);
      const heapAfter = await heap();
      const after = rssBytes(target.server.pid) ?? Number.NaN;
      const r: IdleRound = {
        connected: clients.length,
        connectMs,
        rssBeforeBytes: before,
        rssAfterBytes: after,
        bytesPerConnection: (after - before) / clients.length,
        heapBytesPerConnection: (heapAfter - heapBefore) / clients.length,
      };
      rounds.set(name, [...(rounds.get(name) ?? []), r]);
      console.log(
        `  round ${round + 1}/${PARAMS.rounds} ${name}: ${int(r.connected)} connected in ${int(connectMs)} ms, RSS ${fmt(before / 2 ** 20, 1)} → ${fmt(after / 2 ** 20, 1)} MiB, ` +
          `${fmt(r.bytesPerConnection / 1024, 1)} KiB per connection (heap + external after GC: ${fmt(r.heapBytesPerConnection / 1024, 1)} KiB)`,
      );
    } finally {
      for (const c of clients) c.terminate();
      await target.server.stop();
    }
  }
  const out = new Map<TargetName, IdleResult>();
  for (const name of names) {
    const rs = rounds.get(name) ?? [];
    out.set(name, {
      connections: p.connections,
      bytesPerConnection: median(rs.map((r) => r.bytesPerConnection)),
      heapBytesPerConnection: median(rs.map((r) => r.heapBytesPerConnection)),
      rounds: rs,
    });
  }
  return out;
}

// ── case 4: REST sends vs raw batched inserts ───────────────────────────────

interface RestRound {
  acknowledged: number;
  failed: number;
  stored: number;
  elapsedMs: number;
  perSec: number;
  p50: number;
  p99: number;
  serverCpu: number;
}

interface RawRound {
  rows: number;
  elapsedMs: number;
  perSec: number;
}

interface RestResult {
  senders: number;
  perSec: number;
  p50: number;
  p99: number;
  rawBatch: number;
  rawPerSec: number;
  /** REST sends / raw inserts, median rounds. */
  ratio: number;
  rounds: RestRound[];
  rawRounds: RawRound[];
}

async function restRound(target: Target, fx: ParleyFixture, chats: { token: string; id: number }[], seconds: number): Promise<RestRound> {
  const db = new Database(fx.dbFile, { readonly: true });
  const ids = chats.map((c) => c.id);
  const count = () => (db.prepare(`SELECT COUNT(*) AS n FROM messages WHERE conversation_id IN (${ids.map(() => '?').join(',')})`).get(...ids) as { n: number }).n;
  try {
    const stored0 = count();
    const latencies: number[] = [];
    let ok = 0;
    let failed = 0;
    const cpu0 = cpuMs(target.server.pid) ?? Number.NaN;
    const start = performance.now();
    const end = start + seconds * 1000;
    await Promise.all(
      chats.map(async (chat, i) => {
        for (let seq = 0; performance.now() < end; seq++) {
          const t0 = performance.now();
          try {
            await rest(`http://127.0.0.1:${target.server.port}`, chat.token, 'POST', `/chats/${chat.id}/messages/`, { content: `rest:${i}:${seq}` });
            ok++;
            latencies.push(performance.now() - t0);
          } catch {
            failed++;
          }
        }
      }),
    );
    const elapsedMs = performance.now() - start;
    const serverCpuMs = (cpuMs(target.server.pid) ?? Number.NaN) - cpu0;
    const s = summarize(latencies);
    return { acknowledged: ok, failed, stored: count() - stored0, elapsedMs, perSec: ok / (elapsedMs / 1000), p50: s.p50, p99: s.p99, serverCpu: serverCpuMs / elapsedMs };
  } finally {
    db.close();
  }
}

/**
 * The baseline: the same rows (a message each, FTS trigger and indexes as Parley's schema has
 * them) inserted with plain SQL, `batch` rows per transaction, into a fresh database with the
 * store's own settings (WAL, synchronous=NORMAL).
 */
async function rawRounds(batch: number, seconds: number, senders: number): Promise<RawRound[]> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-raw-'));
  onCleanup('raw temp dir', async () => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'raw.db');
  const store = openSqliteStore({ filename: file });
  const chatIds: number[] = [];
  let senderId = 0;
  try {
    await store.migrate();
    const accounts = new Accounts({ store, now: () => new Date(), registrationEnabled: true, sessionTtlDays: 30 });
    const core = createCore({ store });
    const sender = await accounts.createUser({ username: 'raw0', password: null });
    const other = await accounts.createUser({ username: 'raw1', password: null });
    senderId = sender.id;
    for (let i = 0; i < senders; i++) {
      const { conversation } = await core.conversations.create(sender, { kind: 'group', title: `raw${i}`, memberIds: [other.id] });
      chatIds.push(conversation.id);
    }
  } finally {
    await store.close();
  }
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    const insert = db.prepare('INSERT INTO messages (conversation_id, seq, sender_id, content, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)');
    const seqs = new Map<number, number>();
    const insertBatch = db.transaction((n: number, base: number) => {
      const at = Date.now();
      for (let i = 0; i < n; i++) {
        const chat = chatIds[(base + i) % chatIds.length] ?? 0;
        const seq = (seqs.get(chat) ?? 0) + 1;
        seqs.set(chat, seq);
        insert.run(chat, seq, senderId, `raw:${base + i}`, at, at);
      }
    });
    const out: RawRound[] = [];
    for (let round = 0; round < PARAMS.rounds; round++) {
      let rows = 0;
      const start = performance.now();
      const end = start + seconds * 1000;
      while (performance.now() < end) {
        insertBatch(batch, rows);
        rows += batch;
      }
      const elapsedMs = performance.now() - start;
      out.push({ rows, elapsedMs, perSec: rows / (elapsedMs / 1000) });
      console.log(`  raw round ${round + 1}/${PARAMS.rounds}: ${int(rows / (elapsedMs / 1000))} rows/s in transactions of ${batch}`);
    }
    return out;
  } finally {
    db.close();
  }
}

async function restCase(parley: Target, fx: ParleyFixture): Promise<RestResult> {
  const p = PARAMS.rest;
  const chats: { token: string; id: number }[] = [];
  for (let i = 0; i < p.senders; i++) {
    const sender = fx.users[fx.restFrom + 2 * i];
    const other = fx.users[fx.restFrom + 2 * i + 1];
    if (!sender || !other) throw new Error('not enough users');
    const chat = (await rest(`http://127.0.0.1:${parley.server.port}`, sender.token, 'POST', '/chats/', { chat_type: 'group', title: `rest${i}`, member_ids: [other.id] })) as { id: number };
    chats.push({ token: sender.token, id: chat.id });
  }
  await restRound(parley, fx, chats, Math.min(1, p.seconds)); // warm-up
  const rounds: RestRound[] = [];
  for (let round = 0; round < PARAMS.rounds; round++) {
    const r = await restRound(parley, fx, chats, p.seconds);
    rounds.push(r);
    console.log(
      `  REST round ${round + 1}/${PARAMS.rounds}: ${int(r.perSec)} msgs/s acknowledged (${int(r.acknowledged)}, ${int(r.stored)} stored, ${int(r.failed)} failed), ` +
        `p50 ${fmt(r.p50)} ms, p99 ${fmt(r.p99)} ms, server CPU ${pct(r.serverCpu)}`,
    );
  }
  const raw = await rawRounds(p.rawBatch, p.seconds, p.senders);
  const perSec = median(rounds.map((r) => r.perSec));
  const rawPerSec = median(raw.map((r) => r.perSec));
  return {
    senders: p.senders,
    perSec,
    p50: median(rounds.map((r) => r.p50)),
    p99: median(rounds.map((r) => r.p99)),
    rawBatch: p.rawBatch,
    rawPerSec,
    ratio: perSec / rawPerSec,
    rounds,
    rawRounds: raw,
  };
}

// ── report ───────────────────────────────────────────────────────────────────

interface Results {
  latency: Map<TargetName, LatencyResult> | null;
  fanout: Map<TargetName, FanoutResult[]> | null;
  idle: Map<TargetName, IdleResult> | null;
  rest: RestResult | null;
}

interface TargetCheck {
  target: string;
  measured: string;
  pass: boolean;
}

function targets(r: Results): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const lat = r.latency;
  const bare = lat?.get('bare ws');
  const parley = lat?.get('Parley');
  if (bare && parley) {
    const p50 = parley.p50 / bare.p50;
    checks.push({ target: 'send→deliver p50 ≤ 1.5× bare ws', measured: `${fmt(p50)}× (${fmt(parley.p50)} vs ${fmt(bare.p50)} ms)`, pass: p50 <= 1.5 });
    checks.push({ target: 'send→deliver p99 < 5 ms', measured: `${fmt(parley.p99)} ms`, pass: parley.p99 < 5 });
    const cpu = parley.serverCpuMsPerMessage / bare.serverCpuMsPerMessage;
    checks.push({ target: 'server CPU per message ≤ 2× bare ws', measured: `${fmt(cpu)}× (${fmt(parley.serverCpuMsPerMessage, 3)} vs ${fmt(bare.serverCpuMsPerMessage, 3)} ms)`, pass: cpu <= 2 });
  }
  const fb = r.fanout?.get('bare ws');
  const fp = r.fanout?.get('Parley');
  if (fb && fp) {
    for (const p of fp) {
      const b = fb.find((x) => x.inFlight === p.inFlight);
      if (!b) continue;
      const ratio = p.deliveriesPerSec / b.deliveriesPerSec;
      checks.push({ target: `fan-out, ${p.inFlight} in flight ≥ 0.85× bare ws`, measured: `${fmt(ratio)}× (${int(p.deliveriesPerSec)} vs ${int(b.deliveriesPerSec)}/s)`, pass: ratio >= 0.85 });
    }
  }
  if (r.rest) {
    checks.push({
      target: 'durable REST sends ≥ 50% of raw batched inserts',
      measured: `${pct(r.rest.ratio)} (${int(r.rest.perSec)} vs ${int(r.rest.rawPerSec)}/s)`,
      pass: r.rest.ratio >= 0.5,
    });
  }
  return checks;
}

function markdown(r: Results, environment: string): string {
  const lines: string[] = [];
  const names = TARGET_NAMES;
  const head = (extra: string[]) => [`| metric | ${names.join(' | ')} | ${extra.join(' | ')} |`, `|---|${names.map(() => '---:').join('|')}|${extra.map(() => '---:').join('|')}|`];
  const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined ? `${fmt(a / b)}×` : 'n/a');
  const checks = targets(r);
  lines.push('# Real-time benchmark: Parley vs a bare `ws` broadcast and Socket.IO 4', '');
  if (QUICK) lines.push('**Quick run (`--quick`): small sizes, for a smoke test only; these numbers mean nothing.**', '');
  if (checks.length) {
    lines.push('## Targets', '', '| target | measured (median of rounds) | |', '|---|---:|---|');
    for (const c of checks) lines.push(`| ${c.target} | ${c.measured} | ${c.pass ? '**pass**' : '**miss**'} |`);
    lines.push('');
  }
  const l = PARAMS.latency;
  const f = PARAMS.fanout;
  lines.push(`## Results (median of ${PARAMS.rounds} round${PARAMS.rounds > 1 ? 's' : ''})`, '');
  lines.push(...head(['Parley / bare ws', 'Parley / Socket.IO']));
  const row = (label: string, get: (n: TargetName) => number | undefined, show: (v: number) => string, ratios = true) => {
    const v = names.map(get);
    const [b, s, p] = v;
    lines.push(`| ${label} | ${v.map((x) => (x === undefined ? 'n/a' : show(x))).join(' | ')} | ${ratios ? ratio(p, b) : ''} | ${ratios ? ratio(p, s) : ''} |`);
  };
  if (r.latency) {
    const lat = r.latency;
    const at = `${int(l.clients)} clients, rooms of ${l.roomSize}, ${int(l.ratePerSec)} msg/s`;
    row(`${at}: send→deliver p50 (ms)`, (n) => lat.get(n)?.p50, (x) => fmt(x));
    row(`${at}: send→deliver p99 (ms)`, (n) => lat.get(n)?.p99, (x) => fmt(x));
    row(`${at}: server CPU (share of a core)`, (n) => lat.get(n)?.serverCpu, pct);
    row(`${at}: server CPU per message (ms)`, (n) => lat.get(n)?.serverCpuMsPerMessage, (x) => fmt(x, 3));
    row(`${at}: load driver CPU (share of a core)`, (n) => median((lat.get(n)?.rounds ?? []).map((x) => x.driverCpu)), pct, false);
    lines.push(`| ${at}: deliveries received / expected | ${names.map((n) => `${int(lat.get(n)?.received ?? Number.NaN)} / ${int(lat.get(n)?.expected ?? Number.NaN)}`).join(' | ')} | | |`);
    lines.push(`| ${at}: p50 / p99 of each round (ms) | ${names.map((n) => (lat.get(n)?.rounds ?? []).map((x) => `${fmt(x.p50)}/${fmt(x.p99)}`).join(', ')).join(' | ')} | | |`);
  }
  if (r.fanout) {
    const fan = r.fanout;
    for (const [i, inFlight] of f.inFlight.entries()) {
      const at = `fan-out to ${int(f.members)} members, ${inFlight} in flight`;
      row(`${at}: deliveries/s`, (n) => fan.get(n)?.[i]?.deliveriesPerSec, int);
      row(`${at}: deliveries per server CPU-second`, (n) => fan.get(n)?.[i]?.deliveriesPerCpuSec, int);
      row(`${at}: load driver CPU (share of a core; near 100%: the driver set the pace)`, (n) => median((fan.get(n)?.[i]?.rounds ?? []).map((x) => x.driverCpu)), pct, false);
      lines.push(`| ${at}: deliveries/s of each round | ${names.map((n) => (fan.get(n)?.[i]?.rounds ?? []).map((x) => int(x.deliveriesPerSec)).join(', ')).join(' | ')} | | |`);
    }
  }
  if (r.idle) {
    const idle = r.idle;
    row(`${int(PARAMS.idle.connections)} idle connections: memory (RSS) per connection (KiB)`, (n) => (idle.get(n)?.bytesPerConnection ?? Number.NaN) / 1024, (x) => fmt(x, 1));
    row(`${int(PARAMS.idle.connections)} idle connections: JS heap + external per connection after GC (KiB)`, (n) => (idle.get(n)?.heapBytesPerConnection ?? Number.NaN) / 1024, (x) => fmt(x, 1));
  }
  lines.push('');
  if (r.rest) {
    const x = r.rest;
    lines.push(
      '## Durable REST sends (Parley) vs raw batched inserts (SQLite)',
      '',
      '| metric | value |',
      '|---|---:|',
      `| REST sends, ${x.senders} concurrent senders: acknowledged msgs/s | ${int(x.perSec)} |`,
      `| REST send → answer p50 / p99 (ms) | ${fmt(x.p50)} / ${fmt(x.p99)} |`,
      `| raw inserts into Parley's schema, ${x.rawBatch} rows per transaction: rows/s | ${int(x.rawPerSec)} |`,
      `| REST / raw | ${pct(x.ratio)} |`,
      `| REST msgs/s of each round | ${x.rounds.map((y) => int(y.perSec)).join(', ')} |`,
      `| raw rows/s of each round | ${x.rawRounds.map((y) => int(y.perSec)).join(', ')} |`,
      `| acknowledged / found stored, all rounds | ${int(x.rounds.reduce((s, y) => s + y.acknowledged, 0))} / ${int(x.rounds.reduce((s, y) => s + y.stored, 0))} |`,
      '',
    );
  }
  const charts: string[] = [];
  if (r.latency) charts.push('![send → deliver latency distribution](realtime-latency.svg)');
  if (r.fanout) charts.push('![fan-out deliveries/s](realtime-deliveries.svg)');
  if (charts.length) lines.push(...charts, '');
  lines.push(
    '## How it was measured',
    '',
    `- Each target is its own process; this bench is the load driver in another, with the same client code for all three (\`bench/driver.ts\`: plain \`ws\` clients that find \`"content":"\` in the frame bytes; for Socket.IO they speak Engine.IO 4 directly). Parley: \`parley serve\` on a SQLite file (the store's settings: WAL, synchronous=NORMAL), one process, \`/messaging/\` protocol. Bare ws (\`bench/bare-server.ts\`): rooms from \`?room=\`, each \`message.send\` encoded once to a frame of Parley's shape and written to every socket of the room; nothing else. Socket.IO (\`bench/socketio-server.ts\`): \`io.to(room).emit\` of the same message object, no adapter.`,
    `- Latency: ${int(l.clients)} clients in rooms of ${l.roomSize}; one member of each room sends, ${int(l.ratePerSec)} msg/s in all, open loop (each message leaves on its schedule whatever happened to earlier ones), ${l.seconds} s per round after ${l.warmupSeconds} s of warm-up. Latency = receive time − send time stamped in the content, one clock, at every other member (the sender's own echo is not counted). p50/p99 are the medians of the rounds' p50/p99. Server CPU = user + system time of the server process (/proc) over the round; per message = CPU time / messages sent.`,
    `- Fan-out: one room of ${int(f.members)} members; one member sends ${f.messages} messages per round, keeping ${f.inFlight.join(' or ')} in flight (a message is in flight until all ${int(f.members - 1)} other members have it). Deliveries/s = deliveries / (last delivery − first send). "Per server CPU-second" divides by the server's CPU time instead: the rate with a core to itself.`,
    `- Idle: ${int(PARAMS.idle.connections)} connections opened to a fresh server process (Parley: ${PARAMS.idle.perUser} per user, users in no conversation); memory per connection = (RSS after − RSS before) / connections, ${PARAMS.idle.settleMs} ms after the last one; the heap row is the growth of V8 heap used + external memory after a full GC (every server runs with \`--expose-gc\` and a SIGUSR2 probe, \`bench/mem-probe.ts\`), which RSS can hide when the heap had already grown. Source addresses rotate over 127.0.0.2–254 so ports never run out.`,
    `- REST: ${PARAMS.rest.senders} senders, each POSTing to its own group chat in a closed loop for ${PARAMS.rest.seconds} s per round; a message counts when answered 201 (answered after commit). The baseline inserts message rows (with the FTS trigger and indexes of Parley's schema) with plain SQL, ${PARAMS.rest.rawBatch} per transaction (as many as senders), into a fresh file with the same settings, from this process.`,
    '- Rounds alternate which target goes first. On a shared or small machine compare ratios within one run more than absolute numbers across runs; the per-round values show the noise.',
    '',
    `Loopback; ${environment}.`,
    '',
  );
  return lines.join('\n');
}

function charts(r: Results, samples: Map<TargetName, number[]>): { latency: string | null; deliveries: string | null } {
  const l = PARAMS.latency;
  const latency = r.latency
    ? distributionChart(
        `send → deliver, ${int(l.clients)} clients in rooms of ${l.roomSize}, ${int(l.ratePerSec)} msg/s`,
        TARGET_NAMES.map((n) => ({ name: n, values: samples.get(n) ?? [] })),
      )
    : null;
  const fan = r.fanout;
  const deliveries = fan
    ? barChart(
        `fan-out to ${int(PARAMS.fanout.members)} members (median of ${PARAMS.rounds})`,
        'deliveries/s',
        PARAMS.fanout.inFlight.map((inFlight, i) => ({
          label: `${inFlight} in flight`,
          bars: TARGET_NAMES.map((n) => ({ name: n, value: fan.get(n)?.[i]?.deliveriesPerSec ?? Number.NaN })),
        })),
      )
    : null;
  return { latency, deliveries };
}

function mapToObject<V>(m: Map<TargetName, V> | null): Record<string, V> | null {
  return m ? Object.fromEntries(m) : null;
}

async function main(): Promise<void> {
  const started = performance.now();
  const loadBefore = loadavg();
  console.log(`${QUICK ? 'quick run: ' : ''}cases ${[...SELECTED].join(', ')}; ${PARAMS.rounds} round(s) each`);
  if (PROFILE_DIR) rmSync(PROFILE_DIR, { recursive: true, force: true });
  const fx = await parleyFixture();
  console.log(`Parley: ${fx.users.length} users with tokens in ${int(performance.now() - started)} ms`);
  const results: Results = { latency: null, fanout: null, idle: null, rest: null };
  const samples = new Map<TargetName, number[]>();
  const times: Record<string, number> = {};

  if (SELECTED.has('latency') || SELECTED.has('fanout') || SELECTED.has('rest')) {
    const live: Target[] = [];
    for (const name of TARGET_NAMES) live.push(await startTarget(name, fx, PROFILE_DIR));
    const parley = live.find((t) => t.name === 'Parley');
    try {
      if (SELECTED.has('latency')) {
        const t0 = performance.now();
        console.log(`latency: ${int(PARAMS.latency.clients)} clients in rooms of ${PARAMS.latency.roomSize}, ${int(PARAMS.latency.ratePerSec)} msg/s, ${PARAMS.latency.seconds} s rounds`);
        results.latency = await latencyCase(live, samples);
        times.latency = (performance.now() - t0) / 1000;
      }
      if (SELECTED.has('fanout')) {
        const t0 = performance.now();
        console.log(`fan-out: ${PARAMS.fanout.messages} messages to ${int(PARAMS.fanout.members)} members, ${PARAMS.fanout.inFlight.join(' and ')} in flight`);
        results.fanout = await fanoutCase(live);
        times.fanout = (performance.now() - t0) / 1000;
      }
      if (SELECTED.has('rest') && parley) {
        const t0 = performance.now();
        console.log(`REST: ${PARAMS.rest.senders} concurrent senders, ${PARAMS.rest.seconds} s rounds; then raw inserts`);
        results.rest = await restCase(parley, fx);
        times.rest = (performance.now() - t0) / 1000;
      }
    } finally {
      for (const t of live) await t.server.stop();
    }
  }
  if (SELECTED.has('idle')) {
    const t0 = performance.now();
    console.log(`idle: ${int(PARAMS.idle.connections)} connections per target, a fresh server process each round`);
    results.idle = await idleCase(TARGET_NAMES, fx);
    times.idle = (performance.now() - t0) / 1000;
  }

  const loadAfter = loadavg();
  const runtimeSeconds = (performance.now() - started) / 1000;
  const caseTimes = Object.entries(times)
    .map(([name, sec]) => `${name} ${fmt(sec, 0)} s`)
    .join(', ');
  const environment = `${cpus().length} CPU(s) (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, load average ${fmt(loadBefore[0] ?? 0, 1)} before / ${fmt(loadAfter[0] ?? 0, 1)} after, ${fmt(runtimeSeconds, 0)} s in all (${caseTimes}), ${new Date().toISOString()}`;
  const md = markdown(results, environment);
  const svg = charts(results, samples);
  const json = {
    date: new Date().toISOString(),
    quick: QUICK,
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? null,
    loadAverage: { before: loadBefore, after: loadAfter },
    params: PARAMS,
    results: {
      latency: mapToObject(results.latency),
      fanout: mapToObject(results.fanout),
      idle: mapToObject(results.idle),
      rest: results.rest,
    },
    targets: targets(results),
    caseSeconds: times,
    runtimeSeconds,
  };
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(join(OUT_DIR, 'realtime.json'), `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(join(OUT_DIR, 'realtime.md'), md);
  if (svg.latency) writeFileSync(join(OUT_DIR, 'realtime-latency.svg'), svg.latency);
  if (svg.deliveries) writeFileSync(join(OUT_DIR, 'realtime-deliveries.svg'), svg.deliveries);
  if (PROFILE_DIR) {
    const profile = summarizeProfiles(PROFILE_DIR, `Parley in \`npm run bench\` (${[...SELECTED].filter((c) => c !== 'idle').join(', ')})`);
    if (profile) writeFileSync(join(OUT_DIR, 'realtime-profile.md'), profile);
    console.log(profile ? `CPU profile summary: realtime-profile.md (profiles in ${PROFILE_DIR})` : 'no CPU profile was written');
  }
  console.log(`\n${md}`);
  console.log(`Written to ${OUT_DIR.slice(BENCH_DIR.length - 'bench'.length)}/realtime.{json,md} and the SVG charts.`);
}

runMain(main);

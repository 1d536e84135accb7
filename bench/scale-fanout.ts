/**
 * Scale-out fan-out benchmark: two Parley processes sharing Redis and PostgreSQL against two
 * Socket.IO processes sharing Redis (`@socket.io/redis-adapter`), in one run.
 *
 *   npm run bench:scale                (node --import tsx bench/scale-fanout.ts; ~4–5 min on 2 cores)
 *   npm run bench:scale -- --quick     (smoke run: 100 receivers, 2 s rounds, one round, ~1 min)
 *   npm run bench:scale -- --profile   (also CPU-profiles both Parley processes → scale-fanout-profile.md)
 *   node --import tsx bench/scale-fanout.ts [--clients 500] [--senders 10] [--seconds 8] [--rates 25,100,200] [--rounds 3]
 *
 * M receivers join one room, split evenly across the two processes of a system; N senders
 * connected to process A take turns sending at a fixed rate in all (open loop) for S seconds
 * per round. Every delivery to a receiver is a latency sample (receive time − send time
 * stamped in the content, one clock);
 * deliveries/s = deliveries received / (last delivery − first send). CPU time of the server
 * processes, Redis and (Parley) its PostgreSQL backends is read from /proc around each round.
 *
 * Needs PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test) and Redis
 * (REDIS_URL, default redis://127.0.0.1:6379). Parley's tables live in a private schema
 * `bench_<random>`, dropped at the end. Loopback only, bounded loops; child processes, the
 * schema and temp files are removed even on failure or Ctrl-C. Each figure is the median of the
 * rounds; the targets (CPU per delivery ≤ Socket.IO's; 200 msg/s × 500 receivers kept up with
 * p50 < 20 ms) are printed as pass/miss. Writes bench/results/scale-fanout.{json,md} and the
 * charts scale-fanout-latency.svg and scale-fanout-deliveries.svg (--quick: bench/results/quick/).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { io as sioConnect, type Socket as SioSocket } from 'socket.io-client';
import { WebSocket } from 'ws';
import { Accounts } from '../src/auth/index.js';
import type { User } from '../src/core/index.js';
import { openPostgresStore } from '../src/store/index.js';
import { type LatencySummary, summarize } from './stats.js';
import { parleyRest as rest } from './parley-api.js';
import { summarizeProfiles } from './profile.js';
import { barChart, distributionChart } from './svg.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');

const { values: argv } = parseArgs({
  options: {
    clients: { type: 'string' },
    senders: { type: 'string' },
    seconds: { type: 'string' },
    rates: { type: 'string' },
    rounds: { type: 'string' },
    quick: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (argv.help) {
  console.log('usage: node --import tsx bench/scale-fanout.ts [--quick] [--clients 500] [--senders 10] [--seconds 8] [--rates 25,100,200] [--rounds 3] [--profile]');
  process.exit(0);
}
const positiveInt = (name: string, v: string, max: number): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`--${name} must be an integer from 1 to ${max}`);
  return n;
};

const QUICK = argv.quick === true;
const OUT_DIR = QUICK ? join(HERE, 'results', 'quick') : join(HERE, 'results');
/** CPU-profile both Parley processes (`--cpu-prof`); summary in scale-fanout-profile.md. */
const PROFILE_DIR = argv.profile === true ? join(OUT_DIR, 'profiles', 'scale-fanout') : null;
const PARAMS = {
  quick: QUICK,
  /** Receivers in the room, half on each process (the sender comes on top). */
  clients: positiveInt('clients', argv.clients ?? (QUICK ? '100' : '500'), 5000),
  /**
   * Sender connections on process A, taking turns: 200 msg/s from one connection would measure
   * a protocol's per-connection ordering (Parley handles one connection's frames in order)
   * rather than the servers; a busy room has many senders.
   */
  senders: positiveInt('senders', argv.senders ?? '10', 100),
  /** Seconds of sending per round: messages per round = rate × seconds. */
  seconds: positiveInt('seconds', argv.seconds ?? (QUICK ? '2' : '8'), 120),
  /** Send rates (msg/s), each a scenario of its own. */
  rates: (argv.rates ?? '25,100,200').split(',').map((r) => positiveInt('rates', r.trim(), 2000)),
  rounds: positiveInt('rounds', argv.rounds ?? (QUICK ? '1' : '3'), 10),
  warmupSeconds: QUICK ? 1 : 5,
  /** After the last send, how long missing deliveries are waited for before the round is reported short. */
  drainTimeoutMs: 10_000,
  connectBatch: 50,
  databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
};

const RUN_ID = randomBytes(4).toString('hex');
const SCHEMA = `bench_${RUN_ID}`;
/** PostgreSQL application_name of the Parley servers' connections, to find their backends. */
const PG_APP = `parley_bench_${RUN_ID}`;
const REDIS_PREFIX = `bench_${RUN_ID}:`;

// ── cleanup, whatever happens ────────────────────────────────────────────────

const cleanups: { name: string; fn: () => Promise<void> }[] = [];
const children = new Set<ChildProcess>();
let cleaning: Promise<void> | null = null;

function onCleanup(name: string, fn: () => Promise<void>): void {
  cleanups.push({ name, fn });
}

/** Runs the cleanups in reverse order of registration; each is bounded and may fail alone. */
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const { name, fn } of cleanups.reverse()) {
      try {
        await withTimeout(fn(), 20_000, `cleanup ${name}`);
      } catch (err) {
        console.warn(`cleanup "${name}" failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    cleanups.length = 0;
  })();
  return cleaning;
}

// `process.on`, not `once`: under `npx tsx`, Ctrl-C reaches this process twice (directly and
// relayed by tsx, sometimes late), and a signal with no listener left would end it in the
// middle of cleaning up. Later signals are ignored; every cleanup step is bounded.
let signalled = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (signalled) return;
    signalled = true;
    console.warn(`\n${signal}: cleaning up…`);
    void cleanup().finally(() => process.exit(130));
  });
}
// Last resort: never leave a server behind.
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ── child processes ──────────────────────────────────────────────────────────

interface Server {
  name: string;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Spawns `node --import tsx <args>` from the repository root and waits for the line on stdout
 * that `findUrl` recognizes. Stdout keeps being drained afterwards; stderr's tail is kept
 * for the error message if the process dies.
 */
async function spawnServer(name: string, args: string[], env: Record<string, string>, findUrl: (line: string) => string | null, nodeArgs: string[] = []): Promise<Server> {
  // parent-watch: a server whose bench was killed outright stops itself instead of lingering.
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', '--import', './bench/parent-watch.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 12_000);
      await exited;
      clearTimeout(timer);
    }
    children.delete(child);
  };
  onCleanup(`stop ${name}`, stop);
  const url = await withTimeout(
    new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
      let found = false;
      lines.on('line', (line) => {
        if (found) return;
        const u = findUrl(line);
        if (u) {
          found = true;
          resolve(u);
        }
      });
      child.once('exit', (code, signal) => {
        if (!found) reject(new Error(`${name} exited (${code ?? signal}) before listening:\n${stderr}`));
      });
    }),
    60_000,
    `${name} start`,
  );
  if (child.pid === undefined) throw new Error(`${name}: no pid`);
  return { name, url, pid: child.pid, stop };
}

/** Pino's JSON line `{"msg":"Parley listening on …","url":…}`. */
function parleyUrl(line: string): string | null {
  try {
    const o = JSON.parse(line) as { url?: unknown; msg?: unknown };
    return typeof o.msg === 'string' && o.msg.startsWith('Parley listening on') && typeof o.url === 'string' ? o.url : null;
  } catch {
    return null;
  }
}

function socketIoUrl(line: string): string | null {
  try {
    const o = JSON.parse(line) as { url?: unknown };
    return typeof o.url === 'string' ? o.url : null;
  } catch {
    return null;
  }
}

// ── CPU accounting from /proc ────────────────────────────────────────────────

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU time of a process in ms, or null if it is gone or unreadable. */
function cpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return null;
  }
}

interface CpuSample {
  servers: number;
  redis: number;
  postgres: Map<number, number>;
}

interface CpuUse {
  serversMs: number;
  redisMs: number;
  /** Parley only; approximate (a backend that closes during the round loses its share). */
  postgresMs: number;
}

class CpuMeter {
  constructor(
    private readonly redisPid: number | null,
    private readonly pgAdmin: pg.Client,
  ) {}

  async sample(serverPids: readonly number[], withPostgres: boolean): Promise<CpuSample> {
    const postgres = new Map<number, number>();
    if (withPostgres) {
      const { rows } = await this.pgAdmin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [PG_APP]);
      for (const { pid } of rows) {
        const ms = cpuMs(pid);
        if (ms !== null) postgres.set(pid, ms);
      }
    }
    return {
      servers: serverPids.reduce((s, pid) => s + (cpuMs(pid) ?? 0), 0),
      redis: this.redisPid === null ? 0 : (cpuMs(this.redisPid) ?? 0),
      postgres,
    };
  }

  static diff(a: CpuSample, b: CpuSample): CpuUse {
    let postgresMs = 0;
    for (const [pid, ms] of b.postgres) postgresMs += ms - (a.postgres.get(pid) ?? 0);
    return { serversMs: b.servers - a.servers, redisMs: b.redis - a.redis, postgresMs };
  }
}

// ── the receiving clients ────────────────────────────────────────────────────

const CONTENT = Buffer.from('"content":"');
const QUOTE = 0x22;

interface Tracking {
  total: number;
  count: number;
  /** Bytes of the frames counted (the WebSocket payload). */
  bytes: number;
  last: number | null;
  /** Latencies by the process the receiver is connected to (0: A, 1: B). */
  latencies: [number[], number[]];
  /** Messages of the phase, and latencies of the first and the last quarter of them: a backlog shows as a later quarter slower than the first. */
  messages: number;
  early: number[];
  late: number[];
  done: () => void;
}

/**
 * Tracks deliveries by phase. Message contents are `<phase>:<seq>:<sentAt>`, `sentAt` being
 * this thread's `performance.now()` when the frame left the sender; frames are scanned for
 * `"content":"` in their bytes instead of being parsed, which works for both wire formats
 * and keeps the clients cheap, so the servers set the pace.
 */
class Tracker {
  private readonly phases = new Map<string, Tracking>();

  onFrame(data: Buffer, side: 0 | 1): void {
    const at = data.indexOf(CONTENT);
    if (at < 0) return;
    const start = at + CONTENT.length;
    const end = data.indexOf(QUOTE, start);
    if (end < 0) return;
    const content = data.toString('latin1', start, end);
    const colon = content.indexOf(':');
    const lastColon = content.lastIndexOf(':');
    if (colon < 0 || lastColon === colon) return;
    const t = this.phases.get(content.slice(0, colon));
    if (!t) return;
    const now = performance.now();
    const latency = now - Number(content.slice(lastColon + 1));
    const seq = Number(content.slice(colon + 1, lastColon));
    t.count++;
    t.bytes += data.length;
    t.last = now;
    t.latencies[side].push(latency);
    if (seq < t.messages / 4) t.early.push(latency);
    else if (seq >= (t.messages * 3) / 4) t.late.push(latency);
    if (t.count >= t.total) t.done();
  }

  /**
   * Starts counting a phase. `result` resolves when `total` deliveries came, or
   * `drainTimeoutMs` after `sendingDone()` was called.
   */
  expect(phase: string, total: number, messages: number): { sendingDone(): void; result: Promise<Tracking> } {
    let resolve!: (t: Tracking) => void;
    const result = new Promise<Tracking>((r) => (resolve = r));
    let timer: NodeJS.Timeout | undefined;
    const t: Tracking = { total, count: 0, bytes: 0, last: null, latencies: [[], []], messages, early: [], late: [], done: () => finish() };
    const finish = () => {
      clearTimeout(timer);
      this.phases.delete(phase);
      resolve(t);
    };
    this.phases.set(phase, t);
    return {
      sendingDone: () => {
        if (this.phases.get(phase) === t) timer = setTimeout(finish, PARAMS.drainTimeoutMs);
      },
      result,
    };
  }
}

/** One receiving or sending connection of a system, in that system's wire protocol. */
interface Protocol {
  /** Opens a receiver; resolves once the server will deliver room messages to it. */
  openReceiver(url: string, side: 0 | 1, tracker: Tracker): Promise<WebSocket>;
}

function openWs(url: string, onText: (ws: WebSocket, data: Buffer) => void, isReady: (data: Buffer) => boolean): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true });
    let ready = false;
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`connect timeout: ${url.replace(/token=[^&]+/, 'token=…')}`));
    }, 15_000);
    ws.on('error', (err) => {
      clearTimeout(timer);
      if (!ready) reject(err);
    });
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) return;
      if (!ready && isReady(data)) {
        ready = true;
        clearTimeout(timer);
        resolve(ws);
        return;
      }
      onText(ws, data);
    });
  });
}

/** Parley's `/messaging/` protocol: connected once `session.ready` arrives. */
const parleyProtocol: Protocol = {
  openReceiver: (url, side, tracker) =>
    openWs(url, (_ws, data) => tracker.onFrame(data, side), (data) => data.includes('"session.ready"')),
};

/**
 * Socket.IO's wire protocol (Engine.IO 4 over a plain WebSocket), spoken directly so a
 * receiver costs what a Parley receiver costs: `0{…}` open → send `40` (join the default
 * namespace) → `40{…}` connected; `2` ping → `3` pong; `42[…]` events.
 */
const socketIoProtocol: Protocol = {
  openReceiver: (url, side, tracker) =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true });
      let ready = false;
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`connect timeout: ${url}`));
      }, 15_000);
      ws.on('error', (err) => {
        clearTimeout(timer);
        if (!ready) reject(err);
      });
      ws.on('message', (data: Buffer, isBinary) => {
        if (isBinary) return;
        const type = data[0];
        if (type === 0x34 /* 4: message */) {
          if (data[1] === 0x32 /* 2: event */) tracker.onFrame(data, side);
          else if (data[1] === 0x30 /* 0: connect */ && !ready) {
            ready = true;
            clearTimeout(timer);
            resolve(ws);
          }
        } else if (type === 0x32 /* 2: ping */) ws.send('3');
        else if (type === 0x30 /* 0: open */) ws.send('40');
      });
    }),
};

/** Sends the benchmark's messages into the room. */
interface Sender {
  send(content: string): void;
  /** Error frames the server answered with so far. */
  errors(): { count: number; first: string | null };
  close(): Promise<void>;
}

function closeWs(ws: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    if (ws.readyState === ws.CLOSED) return resolve();
    const timer = setTimeout(() => {
      ws.terminate();
      resolve();
    }, 2000);
    ws.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    ws.close(1000);
  });
}

// ── the two systems ──────────────────────────────────────────────────────────

interface System {
  name: string;
  protocol: Protocol;
  servers: [Server, Server];
  /** Where receiver `i` (0-based) connects; even on A, odd on B. */
  receiverUrl(i: number): string;
  /** Makes the room (once every receiver is connected) and connects the sender to A. */
  openSender(): Promise<Sender>;
  /** Whether PostgreSQL does part of the work (its CPU is counted). */
  usesPostgres: boolean;
  /** Before the receivers disconnect (Parley: drop the room, so leaving costs no presence storm). */
  beforeClose(): Promise<void>;
}

async function parleySystem(users: { user: User; token: string }[], tmp: string): Promise<System> {
  const configFile = join(tmp, 'parley.config.json');
  // The bench clients send no `session.heartbeat`; a long threshold keeps them connected.
  writeFileSync(configFile, JSON.stringify({ inactivityThreshold: 86_400 }));
  const url = new URL(PARAMS.databaseUrl);
  url.searchParams.set('options', `-c search_path=${SCHEMA}`);
  url.searchParams.set('application_name', PG_APP);
  // A private channel/key prefix where the broker supports `?prefix=` (ioredis ignores it otherwise).
  const redisUrl = new URL(PARAMS.redisUrl);
  redisUrl.searchParams.set('prefix', REDIS_PREFIX);
  const env = {
    DATABASE_URL: url.toString(),
    REDIS_URL: redisUrl.toString(),
    // `info`, not `silent`: the "Parley listening on" line is how the bench learns the port.
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
    PARLEY_CONFIG: configFile,
    PARLEY_DATA_DIR: tmp,
    PARLEY_SECRET: randomBytes(24).toString('base64url'),
  };
  const args = ['src/cli/main.ts', 'serve', '--port', '0'];
  const profile = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  const servers = (await Promise.all([
    spawnServer('Parley A', args, env, parleyUrl, profile),
    spawnServer('Parley B', args, env, parleyUrl, profile),
  ])) as [Server, Server];
  const wsBase = servers.map((s) => s.url.replace(/^http/, 'ws'));
  const senders = users.slice(0, PARAMS.senders);
  const receivers = users.slice(PARAMS.senders);
  const [owner] = senders;
  if (!owner) throw new Error('no users');
  let roomId: number | null = null;
  return {
    name: 'Parley',
    protocol: parleyProtocol,
    servers,
    usesPostgres: true,
    receiverUrl: (i) => `${wsBase[i % 2]}/messaging/?token=${receivers[i]?.token ?? ''}`,
    async openSender() {
      // Made after everyone connected: a member coming online notifies the others, and 500
      // connections into an existing room would measure that storm instead. Over REST, as a
      // user makes one: the servers learn of it the way they learn of any change.
      const conversation = (await rest(servers[0].url, owner.token, 'POST', '/chats/', {
        chat_type: 'group',
        title: 'scale-out fan-out',
        member_ids: [...senders.slice(1), ...receivers].map((u) => u.user.id),
      })) as { id: number };
      roomId = conversation.id;
      let errors = 0;
      let first: string | null = null;
      const sockets = await Promise.all(
        senders.map(async (u) => {
          const ws = await openWs(
            `${wsBase[0]}/messaging/?token=${u.token}`,
            (_ws, data) => {
              if (data.includes('"error"')) {
                errors++;
                first ??= data.toString('utf8').slice(0, 200);
              }
            },
            (data) => data.includes('"session.ready"'),
          );
          ws.on('close', (code) => {
            if (code !== 1000 && code !== 1005) {
              errors++;
              first ??= `sender closed with ${code}`;
            }
          });
          return ws;
        }),
      );
      const id = conversation.id;
      let next = 0;
      return {
        send: (content) => sockets[next++ % sockets.length]?.send(JSON.stringify({ event_type: 'message.send', data: { room_id: id, content } })),
        errors: () => ({ count: errors, first }),
        close: async () => {
          await Promise.all(sockets.map(closeWs));
        },
      };
    },
    async beforeClose() {
      if (roomId !== null) await rest(servers[0].url, owner.token, 'DELETE', `/chats/${roomId}/`);
      roomId = null;
    },
  };
}

async function socketIoSystem(): Promise<System> {
  const env = { REDIS_URL: PARAMS.redisUrl, SIO_KEY: `bench_${RUN_ID}` };
  const args = ['bench/socketio-server.ts'];
  const servers = (await Promise.all([
    spawnServer('Socket.IO A', args, env, socketIoUrl),
    spawnServer('Socket.IO B', args, env, socketIoUrl),
  ])) as [Server, Server];
  const wsUrls = servers.map((s) => `${s.url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`);
  return {
    name: 'Socket.IO',
    protocol: socketIoProtocol,
    servers,
    usesPostgres: false,
    receiverUrl: (i) => wsUrls[i % 2] ?? '',
    async openSender() {
      // The senders are the real client library; they are in the room too, as Parley's are.
      let errors = 0;
      let first: string | null = null;
      const sockets = await Promise.all(
        Array.from({ length: PARAMS.senders }, async () => {
          const socket: SioSocket = sioConnect(servers[0].url, { transports: ['websocket'], forceNew: true, reconnection: false });
          await withTimeout(
            new Promise<void>((resolve, reject) => {
              socket.once('connect', () => resolve());
              socket.once('connect_error', (err) => reject(err));
            }),
            15_000,
            'Socket.IO sender connect',
          );
          socket.on('error.dispatch', (e: unknown) => {
            errors++;
            first ??= JSON.stringify(e);
          });
          socket.on('disconnect', (reason) => {
            if (reason !== 'io client disconnect') {
              errors++;
              first ??= `sender disconnected: ${reason}`;
            }
          });
          return socket;
        }),
      );
      let next = 0;
      return {
        send: (content) => void sockets[next++ % sockets.length]?.emit('message.send', { content }),
        errors: () => ({ count: errors, first }),
        close: async () => {
          for (const socket of sockets) socket.disconnect();
        },
      };
    },
    async beforeClose() {},
  };
}

// ── the scenario ─────────────────────────────────────────────────────────────

interface Connected {
  system: System;
  receivers: WebSocket[];
  sender: Sender;
  connectMs: number;
}

async function connect(system: System, tracker: Tracker): Promise<Connected> {
  const t0 = performance.now();
  const receivers: WebSocket[] = [];
  // A few at a time: hundreds of simultaneous handshakes only measure the accept queue.
  for (let i = 0; i < PARAMS.clients; i += PARAMS.connectBatch) {
    const batch = Array.from({ length: Math.min(PARAMS.connectBatch, PARAMS.clients - i) }, (_, j) => i + j);
    const opened = await Promise.allSettled(batch.map((k) => system.protocol.openReceiver(system.receiverUrl(k), (k % 2) as 0 | 1, tracker)));
    for (const o of opened) if (o.status === 'fulfilled') receivers.push(o.value);
    const failed = opened.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) {
      await Promise.all(receivers.map(closeWs));
      throw new Error(`${system.name}: a receiver failed to connect: ${String(failed.reason)}`);
    }
  }
  const connectMs = performance.now() - t0;
  const sender = await system.openSender();
  return { system, receivers, sender, connectMs };
}

async function disconnect(c: Connected): Promise<void> {
  await c.system.beforeClose();
  await c.sender.close();
  for (let i = 0; i < c.receivers.length; i += 100) await Promise.all(c.receivers.slice(i, i + 100).map(closeWs));
}

interface RoundResult {
  rate: number;
  sent: number;
  expected: number;
  received: number;
  latency: LatencySummary;
  /** p50/p99 of receivers on process A (same process as the sender) and on B. */
  latencyA: { p50: number; p99: number };
  latencyB: { p50: number; p99: number };
  elapsedMs: number;
  deliveriesPerSec: number;
  frameBytes: number;
  /** How late the sender fell behind its schedule at worst (the load generator's own lag). */
  senderLagMs: number;
  sendErrors: number;
  firstSendError: string | null;
  cpu: CpuUse;
  /** CPU ms per 1,000 deliveries: servers + Redis + PostgreSQL. */
  cpuPer1k: number;
  /** p50 of the first and of the last quarter of the messages: a growing backlog makes the second larger. */
  earlyP50: number;
  lateP50: number;
  /** All delivered (≥ 99.9%), at ≥ 95% of the offered deliveries/s, and no growing backlog (last quarter p50 ≤ 2× first + 5 ms). */
  keptUp: boolean;
  /** CPU used during the round, in cores: the two servers together, and this process (the load generator). */
  serverCores: number;
  loadGeneratorCores: number;
  /** Raw samples, merged over rounds for the summary; not written to the JSON. */
  samples: number[];
}

/**
 * Waits (up to 20 s) until both servers are quiet (under 5% of a core each over half a second):
 * a system that fell behind is still delivering its backlog after the round, and the next round
 * must not share the machine with it.
 */
async function settle(system: System): Promise<void> {
  const deadline = performance.now() + 20_000;
  while (performance.now() < deadline) {
    const before = system.servers.map((s) => cpuMs(s.pid));
    await sleep(500);
    const busy = system.servers.some((s, i) => {
      const a = before[i];
      const b = cpuMs(s.pid);
      return a !== null && a !== undefined && b !== null && b - a >= 25;
    });
    if (!busy) return;
  }
  console.warn(`  ${system.name} still busy 20 s after the round`);
}

let phaseCounter = 0;

async function round(c: Connected, rate: number, count: number, tracker: Tracker, meter: CpuMeter, label: string): Promise<RoundResult> {
  const phase = `${label}${++phaseCounter}`;
  const expected = count * c.receivers.length;
  const errorsBefore = c.sender.errors().count;
  const watch = tracker.expect(phase, expected, count);
  const pids = c.system.servers.map((s) => s.pid);
  const cpu0 = await meter.sample(pids, c.system.usesPostgres);
  const self0 = process.cpuUsage();
  const interval = 1000 / rate;
  const start = performance.now();
  let lag = 0;
  // Open loop: each message leaves on its schedule whether or not earlier ones arrived, so a
  // slow system shows up as latency rather than as a lower send rate.
  for (let i = 0; i < count; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const sentAt = performance.now();
    lag = Math.max(lag, sentAt - due);
    c.sender.send(`${phase}:${i}:${sentAt.toFixed(3)}`);
  }
  watch.sendingDone();
  const t = await watch.result;
  const self = process.cpuUsage(self0);
  const cpu1 = await meter.sample(pids, c.system.usesPostgres);
  const samples = [...t.latencies[0], ...t.latencies[1]];
  const sideA = summarize(t.latencies[0]);
  const sideB = summarize(t.latencies[1]);
  const elapsedMs = (t.last ?? performance.now()) - start;
  const errs = c.sender.errors();
  const cpu = CpuMeter.diff(cpu0, cpu1);
  const deliveriesPerSec = t.count / (elapsedMs / 1000);
  const earlyP50 = summarize(t.early).p50;
  const lateP50 = summarize(t.late).p50;
  return {
    rate,
    sent: count,
    expected,
    received: t.count,
    latency: summarize(samples),
    latencyA: { p50: sideA.p50, p99: sideA.p99 },
    latencyB: { p50: sideB.p50, p99: sideB.p99 },
    elapsedMs,
    deliveriesPerSec,
    frameBytes: t.count > 0 ? t.bytes / t.count : Number.NaN,
    senderLagMs: lag,
    sendErrors: errs.count - errorsBefore,
    firstSendError: errs.first,
    cpu,
    cpuPer1k: t.count > 0 ? ((cpu.serversMs + cpu.redisMs + cpu.postgresMs) * 1000) / t.count : Number.NaN,
    earlyP50,
    lateP50,
    keptUp: t.count >= expected * 0.999 && deliveriesPerSec >= 0.95 * rate * c.receivers.length && lateP50 <= 2 * earlyP50 + 5,
    serverCores: cpu.serversMs / elapsedMs,
    loadGeneratorCores: (self.user + self.system) / 1000 / elapsedMs,
    samples,
  };
}

interface RateResult {
  rate: number;
  rounds: Omit<RoundResult, 'samples'>[];
  /** Median of the rounds' p50 and p99. */
  latency: { p50: number; p99: number };
  latencyA: { p50: number; p99: number };
  latencyB: { p50: number; p99: number };
  expected: number;
  received: number;
  /** Median round. */
  deliveriesPerSec: number;
  sendErrors: number;
  frameBytes: number;
  /** CPU ms per 1,000 deliveries of the median round (by total), split by process. */
  cpuPer1k: { servers: number; redis: number; postgres: number; total: number };
  /** Rounds that kept up with the offered rate (see RoundResult.keptUp). */
  roundsKeptUp: number;
  /** Kept up in most rounds. */
  keptUp: boolean;
}

function median(values: readonly number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function combine(rate: number, rounds: RoundResult[]): RateResult {
  const byCpu = [...rounds].sort((a, b) => a.cpuPer1k - b.cpuPer1k);
  const mid = byCpu[Math.floor((byCpu.length - 1) / 2)];
  const per1k = (ms: number) => (mid && mid.received > 0 ? (ms * 1000) / mid.received : Number.NaN);
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
  const keptUp = rounds.filter((r) => r.keptUp).length;
  return {
    rate,
    rounds: rounds.map(({ samples: _drop, ...r }) => r),
    latency: { p50: median(rounds.map((r) => r.latency.p50)), p99: median(rounds.map((r) => r.latency.p99)) },
    latencyA: { p50: median(rounds.map((r) => r.latencyA.p50)), p99: median(rounds.map((r) => r.latencyA.p99)) },
    latencyB: { p50: median(rounds.map((r) => r.latencyB.p50)), p99: median(rounds.map((r) => r.latencyB.p99)) },
    expected: rounds.reduce((s, r) => s + r.expected, 0),
    received: rounds.reduce((s, r) => s + r.received, 0),
    deliveriesPerSec: median(rounds.map((r) => r.deliveriesPerSec)),
    sendErrors: rounds.reduce((s, r) => s + r.sendErrors, 0),
    frameBytes: mean(rounds.map((r) => r.frameBytes)),
    cpuPer1k: {
      servers: per1k(mid?.cpu.serversMs ?? Number.NaN),
      redis: per1k(mid?.cpu.redisMs ?? Number.NaN),
      postgres: per1k(mid?.cpu.postgresMs ?? Number.NaN),
      total: mid?.cpuPer1k ?? Number.NaN,
    },
    roundsKeptUp: keptUp,
    keptUp: keptUp * 2 > rounds.length,
  };
}

// ── report ───────────────────────────────────────────────────────────────────

function fmt(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}
function int(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a';
}
const ratio = (a: number, b: number) => fmt(a / b);

type RateResults = { rate: number; parley: RateResult; sio: RateResult; samples: { parley: number[]; sio: number[] } }[];

function table(results: RateResults): string {
  const rows: string[][] = [];
  const perRound = (r: RateResult) => r.rounds.map((x) => fmt(x.latency.p50, 1)).join(' / ');
  const cores = (r: RateResult) => {
    const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / Math.max(1, xs.length);
    return `${fmt(mean(r.rounds.map((x) => x.serverCores)))} / ${fmt(mean(r.rounds.map((x) => x.loadGeneratorCores)))}`;
  };
  const keptUp = (r: RateResult) => `${r.keptUp ? 'yes' : '**no**'} (${r.roundsKeptUp}/${r.rounds.length} rounds)`;
  for (const { rate, parley: p, sio: s } of results) {
    const at = `${rate} msg/s`;
    rows.push(
      [`**${at}**: latency p50 (ms)`, fmt(p.latency.p50), fmt(s.latency.p50), ratio(p.latency.p50, s.latency.p50)],
      [`${at}: latency p99 (ms)`, fmt(p.latency.p99), fmt(s.latency.p99), ratio(p.latency.p99, s.latency.p99)],
      [`${at}: p50 of each round (ms)`, perRound(p), perRound(s), ''],
      [`${at}: p50 on A (sender's process) / on B (ms)`, `${fmt(p.latencyA.p50)} / ${fmt(p.latencyB.p50)}`, `${fmt(s.latencyA.p50)} / ${fmt(s.latencyB.p50)}`, ''],
      [`${at}: deliveries/s (offered ${int(rate * PARAMS.clients)})`, int(p.deliveriesPerSec), int(s.deliveriesPerSec), ratio(p.deliveriesPerSec, s.deliveriesPerSec)],
      [`${at}: kept up`, keptUp(p), keptUp(s), ''],
      [`${at}: deliveries received / expected, all rounds`, `${int(p.received)} / ${int(p.expected)}`, `${int(s.received)} / ${int(s.expected)}`, ''],
      [
        `${at}: CPU ms per 1k deliveries, servers + Redis + PostgreSQL`,
        `${fmt(p.cpuPer1k.servers, 1)} + ${fmt(p.cpuPer1k.redis, 1)} + ${fmt(p.cpuPer1k.postgres, 1)} = ${fmt(p.cpuPer1k.total, 1)}`,
        `${fmt(s.cpuPer1k.servers, 1)} + ${fmt(s.cpuPer1k.redis, 1)} = ${fmt(s.cpuPer1k.total, 1)}`,
        ratio(p.cpuPer1k.total, s.cpuPer1k.total),
      ],
      [`${at}: cores busy, both servers / load generator`, cores(p), cores(s), ''],
    );
  }
  const head = '| metric | Parley ×2 | Socket.IO ×2 | ratio Parley/Socket.IO |\n|---|---:|---:|---:|';
  return [head, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

interface TargetCheck {
  target: string;
  measured: string;
  pass: boolean;
}

/** The issue's targets for two processes, from the medians of this run. */
function targets(results: RateResults): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const { rate, parley: p, sio: s } of results) {
    const r = p.cpuPer1k.total / s.cpuPer1k.total;
    checks.push({ target: `${rate} msg/s: CPU per delivery ≤ Socket.IO + redis adapter`, measured: `${fmt(r)}× (${fmt(p.cpuPer1k.total, 1)} vs ${fmt(s.cpuPer1k.total, 1)} ms per 1k)`, pass: r <= 1 });
  }
  const at200 = results.find((x) => x.rate === 200);
  if (at200) {
    const p = at200.parley;
    checks.push({
      target: `200 msg/s × ${int(PARAMS.clients)} receivers: kept up, p50 < 20 ms`,
      measured: `${p.keptUp ? 'kept up' : 'fell behind'} (${p.roundsKeptUp}/${p.rounds.length} rounds), p50 ${fmt(p.latency.p50)} ms`,
      pass: p.keptUp && p.latency.p50 < 20,
    });
  }
  return checks;
}

// ── main ─────────────────────────────────────────────────────────────────────

async function main(): Promise<void> {
  const started = performance.now();
  const loadBefore = loadavg();
  const tmp = mkdtempSync(join(tmpdir(), 'parley-scale-'));
  onCleanup('temp dir', async () => rmSync(tmp, { recursive: true, force: true }));

  const pgAdmin = new pg.Client({ connectionString: PARAMS.databaseUrl, application_name: 'parley_bench_admin' });
  await pgAdmin.connect();
  onCleanup('postgres admin connection', () => pgAdmin.end());
  onCleanup(`drop schema ${SCHEMA}`, async () => {
    await pgAdmin.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
  });

  const redis = new Redis(PARAMS.redisUrl, { maxRetriesPerRequest: 2 });
  onCleanup('redis connection', async () => {
    await redis.quit();
  });
  const info = await redis.info('server');
  const redisPid = Number(/process_id:(\d+)/.exec(info)?.[1] ?? Number.NaN);
  const meter = new CpuMeter(Number.isFinite(redisPid) && cpuMs(redisPid) !== null ? redisPid : null, pgAdmin);

  // Users and tokens, straight into the database before the servers start: registering 500
  // users over HTTP would mostly time password hashing.
  if (PROFILE_DIR) rmSync(PROFILE_DIR, { recursive: true, force: true });
  console.log(`schema ${SCHEMA}: creating ${PARAMS.clients + PARAMS.senders} users…`);
  const store = openPostgresStore({ connectionString: PARAMS.databaseUrl, schema: SCHEMA, poolSize: 8, applicationName: 'parley_bench_setup' });
  onCleanup('bench store', () => store.close());
  await store.migrate();
  const accounts = new Accounts({ store, now: () => new Date(), registrationEnabled: true, sessionTtlDays: 30 });
  const users: { user: User; token: string }[] = new Array(PARAMS.clients + PARAMS.senders);
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < users.length) {
        const i = next++;
        const user = await accounts.createUser({ username: `bench${i}`, password: null });
        users[i] = { user, token: await accounts.issueToken(user, 'api') };
      }
    }),
  );

  // Keys a killed Parley process could leave in Redis: everything under the private prefix,
  // and this run's presence entries under the default `parley:` prefix (a broker without `?prefix=`).
  const serverPids: number[] = [];
  onCleanup('redis keys', async () => {
    let cursor = '0';
    for (let i = 0; i < 1000; i++) {
      const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${REDIS_PREFIX}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = nextCursor;
      if (cursor === '0') break;
    }
    cursor = '0';
    for (let i = 0; i < 1000; i++) {
      const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', 'parley:presence:*', 'COUNT', 1000);
      for (const key of keys) {
        const stale = (await redis.smembers(key)).filter((m) => serverPids.some((pid) => m.startsWith(`${pid}-`)));
        if (stale.length > 0) await redis.srem(key, ...stale);
      }
      cursor = nextCursor;
      if (cursor === '0') break;
    }
  });

  console.log('starting 2 Parley and 2 Socket.IO processes…');
  const systems = await Promise.all([parleySystem(users, tmp), socketIoSystem()]);
  for (const s of systems) serverPids.push(...s.servers.map((x) => x.pid));
  // Registered after the servers, so it runs before they are stopped: the room goes first,
  // then the sockets, and leaving costs no presence storm.
  const connected: Connected[] = [];
  onCleanup('client connections', async () => {
    for (const c of connected.splice(0)) await disconnect(c);
  });
  const tracker = new Tracker();
  for (const system of systems) {
    const c = await connect(system, tracker);
    connected.push(c);
    console.log(`${system.name}: ${PARAMS.clients} receivers connected in ${int(c.connectMs)} ms`);
  }

  // Warm-up: JIT, connection pools, prepared statements.
  const firstRate = PARAMS.rates[0] ?? 25;
  for (const c of connected) {
    const w = await round(c, firstRate, Math.max(10, firstRate * PARAMS.warmupSeconds), tracker, meter, 'w');
    console.log(`  warm-up ${c.system.name}: ${int(w.received)}/${int(w.expected)} delivered, p50 ${fmt(w.latency.p50)} ms`);
    if (w.received === 0) throw new Error(`${c.system.name}: nothing delivered during warm-up (send errors: ${w.sendErrors}, ${w.firstSendError ?? 'none'})`);
  }

  const results: RateResults = [];
  const top = Math.max(...PARAMS.rates);
  for (const rate of PARAMS.rates) {
    const messages = rate * PARAMS.seconds;
    console.log(`rate ${rate} msg/s: ${messages} messages (${PARAMS.seconds} s) × ${PARAMS.clients} receivers, ${PARAMS.rounds} rounds per system`);
    const byName = new Map<string, RoundResult[]>();
    for (let r = 0; r < PARAMS.rounds; r++) {
      // Rounds alternate which system goes first, so a change in machine load hits both alike.
      for (const c of r % 2 === 0 ? connected : [...connected].reverse()) {
        const res = await round(c, rate, messages, tracker, meter, 'r');
        await settle(c.system);
        if (res.sendErrors > 0) console.warn(`  ${c.system.name}: ${res.sendErrors} send errors (${res.firstSendError ?? ''})`);
        const list = byName.get(c.system.name) ?? [];
        list.push(res);
        byName.set(c.system.name, list);
        console.log(
          `  round ${r + 1}/${PARAMS.rounds} ${c.system.name}: p50 ${fmt(res.latency.p50)} ms, p99 ${fmt(res.latency.p99)} ms, ${int(res.deliveriesPerSec)} deliveries/s, ` +
            `${int(res.received)}/${int(res.expected)}, ${res.keptUp ? 'kept up' : 'fell behind'} (p50 first/last quarter ${fmt(res.earlyP50)}/${fmt(res.lateP50)} ms), ` +
            `${fmt(res.cpuPer1k, 1)} CPU ms per 1k, sender lag ≤ ${fmt(res.senderLagMs, 1)} ms`,
        );
      }
    }
    const parley = byName.get('Parley');
    const sio = byName.get('Socket.IO');
    if (!parley || !sio) throw new Error('missing rounds');
    // Raw samples only for the chart of the highest rate (millions of numbers otherwise).
    const samples = rate === top ? { parley: parley.flatMap((r) => r.samples), sio: sio.flatMap((r) => r.samples) } : { parley: [], sio: [] };
    results.push({ rate, parley: combine(rate, parley), sio: combine(rate, sio), samples });
  }

  // Disconnect and stop now (cleanup would too), so the report is written after a clean stop.
  for (const c of connected.splice(0)) await disconnect(c);
  await Promise.all(systems.flatMap((s) => s.servers.map((x) => x.stop())));

  const loadAfter = loadavg();
  const runtimeSeconds = (performance.now() - started) / 1000;
  const environment = `${cpus().length} CPU(s) (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, load average ${fmt(loadBefore[0] ?? 0, 1)} before / ${fmt(loadAfter[0] ?? 0, 1)} after, ${fmt(runtimeSeconds, 0)} s, ${new Date().toISOString()}`;
  const checks = targets(results);
  const md = [
    '# Scale-out fan-out: 2 Parley processes vs 2 Socket.IO processes, both over Redis',
    '',
    ...(QUICK ? ['**Quick run (`--quick`): small sizes, for a smoke test only; these numbers mean nothing.**', ''] : []),
    '## Targets',
    '',
    '| target | measured (median of rounds) | |',
    '|---|---:|---|',
    ...checks.map((c) => `| ${c.target} | ${c.measured} | ${c.pass ? '**pass**' : '**miss**'} |`),
    '',
    `## Results (median of ${PARAMS.rounds} round${PARAMS.rounds > 1 ? 's' : ''})`,
    '',
    table(results),
    '',
    `![latency by percentile at ${top} msg/s](scale-fanout-latency.svg)`,
    '![deliveries/s by rate](scale-fanout-deliveries.svg)',
    '',
    '## How it was measured',
    '',
    `- ${int(PARAMS.clients)} receivers in one room, half connected to process A and half to B; ${PARAMS.senders} senders on A take turns sending at a fixed rate in all (open loop) for ${PARAMS.seconds} s per round, ${PARAMS.rounds} rounds per rate and system, alternating which system goes first, after a ${PARAMS.warmupSeconds} s warm-up. Every delivery to a receiver is a latency sample (receive time − send time, one clock); p50/p99 are the medians of the rounds' p50/p99. A latency ratio above 1 means Parley is slower.`,
    '- Deliveries/s = deliveries received / (last delivery − first send): at a rate both keep up with, it is rate × receivers for both, and the latency and CPU rows tell them apart. "Kept up": every message delivered (≥ 99.9%), at ≥ 95% of the offered deliveries/s, and no growing backlog (p50 of the last quarter of the messages ≤ 2× that of the first quarter + 5 ms), in most rounds.',
    '- Parley: `parley serve` (the `/messaging/` WebSocket protocol: `message.send` → `message.dispatch`), PostgreSQL store in a private schema, Redis broker; the room is made over REST once every receiver is connected. Each message is authorized, stored, appended to the event log and published once through Redis; both processes deliver to their own sockets, the sender\'s process included.',
    `- Socket.IO 4 with \`@socket.io/redis-adapter\` (ioredis): the server broadcasts a message object of the same shape to the room, with no authentication and no storage. It delivers to local sockets directly and publishes once for the other process. Frames average ${int(results[0]?.parley.frameBytes ?? Number.NaN)} bytes for Parley, ${int(results[0]?.sio.frameBytes ?? Number.NaN)} for Socket.IO.`,
    '- CPU: user + system time of the two server processes, Redis and (Parley) the servers\' PostgreSQL backends, from /proc, per 1,000 deliveries, median round. PostgreSQL time is approximate (a backend closed mid-round loses its share). "Cores busy" is CPU time / round time: the two servers together (2.00 = both saturated), and the load generator, a single thread (near 1.00 means the clients, not the servers, set the pace).',
    '- Receivers on both sides are plain `ws` clients that find `"content":"` in the frame bytes (for Socket.IO speaking Engine.IO 4 directly, answering pings), so the load generator costs the same per delivery for both; the Socket.IO senders are `socket.io-client`. The senders are room members too, on both systems; their own copies are not counted.',
    '- The load generator, the four servers, Redis and PostgreSQL share the machine: on a small machine, compare ratios more than absolute numbers, and check the per-round p50s for noise (another process waking up shows as one bad round).',
    '',
    `Loopback; ${environment}.`,
    '',
  ].join('\n');
  const json = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? null,
    loadAverage: { before: loadBefore, after: loadAfter },
    params: { ...PARAMS, databaseUrl: PARAMS.databaseUrl.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@') },
    targets: checks,
    results: results.map(({ rate, parley, sio }) => ({
      rate,
      parley,
      socketIo: sio,
      ratios: {
        latencyP50: parley.latency.p50 / sio.latency.p50,
        latencyP99: parley.latency.p99 / sio.latency.p99,
        deliveriesPerSec: parley.deliveriesPerSec / sio.deliveriesPerSec,
        cpuPer1k: parley.cpuPer1k.total / sio.cpuPer1k.total,
      },
    })),
    runtimeSeconds,
  };
  const topResult = results.find((r) => r.rate === top);
  const latencySvg = distributionChart(`2 processes over Redis: ${top} msg/s × ${int(PARAMS.clients)} receivers`, [
    { name: 'Socket.IO ×2', values: topResult?.samples.sio ?? [] },
    { name: 'Parley ×2', values: topResult?.samples.parley ?? [] },
  ]);
  const deliveriesSvg = barChart(
    `2 processes over Redis, ${int(PARAMS.clients)} receivers: deliveries/s (median of ${PARAMS.rounds})`,
    'deliveries/s',
    results.map((r) => ({
      label: `${r.rate} msg/s`,
      bars: [
        { name: 'offered', value: r.rate * PARAMS.clients },
        { name: 'Socket.IO ×2', value: r.sio.deliveriesPerSec },
        { name: 'Parley ×2', value: r.parley.deliveriesPerSec },
      ],
    })),
  );
  const out = OUT_DIR;
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'scale-fanout.json'), `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(join(out, 'scale-fanout.md'), md);
  writeFileSync(join(out, 'scale-fanout-latency.svg'), latencySvg);
  writeFileSync(join(out, 'scale-fanout-deliveries.svg'), deliveriesSvg);
  if (PROFILE_DIR) {
    const profile = summarizeProfiles(PROFILE_DIR, 'two Parley processes in `npm run bench:scale`');
    if (profile) writeFileSync(join(out, 'scale-fanout-profile.md'), profile);
    console.log(profile ? `CPU profile summary: scale-fanout-profile.md (profiles in ${PROFILE_DIR})` : 'no CPU profile was written');
  }
  console.log(`\n${md}`);
  console.log(`Written to ${out.slice(ROOT.length + 1)}/scale-fanout.{json,md} and the SVG charts.`);
}

main()
  .then(
    () => 0,
    (err: unknown) => {
      console.error(err);
      return 1;
    },
  )
  .then(async (code) => {
    await cleanup();
    process.exit(code);
  });

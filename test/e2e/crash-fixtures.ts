import { type ChildProcess, spawn } from 'node:child_process';
import WebSocket from 'ws';
import type { TestUser } from './harness.js';
import { API } from './rest-fixtures.js';
import { sleep } from './scale-fixtures.js';

/**
 * Helpers of the crash test (crash-durability.test.ts): `parley serve` processes that are
 * SIGKILLed and restarted on the same port, senders that retry every unanswered send with its
 * client_id until it is answered, and resuming clients on every live transport that count
 * what they receive per client_id. Nothing here reaches into the server: all of it is what a
 * client sees.
 */

// ── processes ──────────────────────────────────────────────────────────────

const CLI = ['--import', 'tsx', 'src/cli/main.ts'];
const KEEP_OUTPUT = 20_000;

/** One `parley serve` on a fixed port, killed with SIGKILL and started again on that port. */
export class ParleyProcess {
  private child: ChildProcess | null = null;
  private tail = '';
  /** Log lines at warn level and above, over every life of the process (bounded). */
  readonly warnings: string[] = [];
  up = false;
  /** When it last started listening (ms since the epoch). */
  upSince = 0;
  kills = 0;
  /** Exits nobody asked for (a crash of its own), with the last output. */
  readonly unexpectedExits: string[] = [];
  private ending = false;

  constructor(
    readonly name: string,
    readonly port: number,
    /** Added to this process's environment; undefined removes a variable. */
    private readonly env: Record<string, string | undefined>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The last lines it printed, for failure messages. */
  output(): string {
    return this.tail;
  }

  /** Starts it and resolves once it listens (it migrates first). */
  start(): Promise<void> {
    // info level: the "listening" line is how we know it is up.
    const env: Record<string, string | undefined> = { ...process.env, PARLEY_CONFIG: '', LOG_LEVEL: 'info', HOST: '127.0.0.1', ...this.env };
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    const child = spawn(process.execPath, [...CLI, 'serve', '--port', String(this.port)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.ending = false;
    let partial = '';
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${this.name} did not start within 60 s: ${this.tail.slice(-4000)}`));
      }, 60_000);
      const onData = (b: Buffer) => {
        const text = b.toString();
        this.tail = (this.tail + text).slice(-KEEP_OUTPUT);
        partial += text;
        const lines = partial.split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          if (!this.up && line.includes('Parley listening on')) {
            this.up = true;
            this.upSince = Date.now();
            clearTimeout(timer);
            resolve();
          }
          const level = /"level":(\d+)/.exec(line)?.[1];
          if (level && Number(level) >= 40 && this.warnings.length < 500) this.warnings.push(line.slice(0, 600));
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.on('exit', (code, signal) => {
        if (!this.ending) this.unexpectedExits.push(`${this.name} exited by itself (${code ?? signal}): ${this.tail.slice(-1500)}`);
        this.up = false;
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${code ?? signal}) before listening: ${this.tail.slice(-4000)}`));
      });
    });
  }

  /** SIGKILL: no shutdown, no flushing; in-flight requests and sockets are cut. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.up = false;
    this.ending = true;
    this.kills++;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
  }

  /** SIGTERM, SIGKILL after 15 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.up = false;
    this.ending = true;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await gone;
    clearTimeout(force);
  }
}

/** The process `preferred` if it is up, else another one that is, waiting while none is. */
export async function pickUp(all: readonly ParleyProcess[], preferred: number, stop: () => boolean = () => false): Promise<ParleyProcess | null> {
  for (;;) {
    for (let k = 0; k < all.length; k++) {
      const p = all[(preferred + k) % all.length];
      if (p?.up) return p;
    }
    if (stop()) return null;
    await sleep(50);
  }
}

// ── the ledger of sends ────────────────────────────────────────────────────

export interface Ack {
  /** The message id the answer carried. */
  id: number;
  /** 201 (stored now), 200 (a retry that found it), or 'ws' (its message.dispatch came back). */
  how: 201 | 200 | 'ws';
  process: string;
  /** When the answer came (ms since the epoch). */
  at: number;
}

/** Every send of the run, by client_id: how often it was tried and how it was answered. */
export class Ledger {
  readonly attempts = new Map<string, number>();
  readonly acks = new Map<string, Ack>();
  /** Answers that were neither a success nor a retryable failure (should be none). */
  readonly refused: string[] = [];
  /** Retryable failures seen, by kind (connection cut, 503, timeout…). */
  readonly failures = new Map<string, number>();

  tried(cid: string): void {
    this.attempts.set(cid, (this.attempts.get(cid) ?? 0) + 1);
  }

  failed(kind: string): void {
    this.failures.set(kind, (this.failures.get(kind) ?? 0) + 1);
  }

  acked(cid: string, ack: Omit<Ack, 'at'>): void {
    if (!this.acks.has(cid)) this.acks.set(cid, { ...ack, at: Date.now() });
  }

  /** Sends `p` answered since it last started: whether it is taking load. */
  answeredBy(p: ParleyProcess): number {
    let n = 0;
    for (const a of this.acks.values()) if (a.process === p.name && a.at >= p.upSince) n++;
    return n;
  }

  /** client_ids answered only after a retry, and those whose retry found the stored message (200). */
  retried(): { retried: number; foundOnRetry: number } {
    let retried = 0;
    let foundOnRetry = 0;
    for (const [cid, n] of this.attempts) {
      if (n > 1 && this.acks.has(cid)) retried++;
      if (this.acks.get(cid)?.how === 200) foundOnRetry++;
    }
    return { retried, foundOnRetry };
  }
}

export interface SenderControl {
  /** True once senders should finish their current message and stop. */
  stopping(): boolean;
  /** True when the run is given up: stop at once, answered or not. */
  abandoned(): boolean;
}

/**
 * A REST sender: one message at a time, each with its own client_id, retried (same client_id,
 * on whichever process is up) until it is answered 200 or 201.
 */
export async function restSender(user: TestUser, chatId: number, tag: string, procs: readonly ParleyProcess[], home: number, ledger: Ledger, ctl: SenderControl): Promise<void> {
  for (let n = 0; !ctl.stopping(); n++) {
    const cid = `${tag}-${n}`;
    for (let attempt = 0; !ctl.abandoned(); attempt++) {
      const p = await pickUp(procs, home, ctl.abandoned);
      if (!p) return;
      ledger.tried(cid);
      try {
        const r = await fetch(`${p.url}${API}/chats/${chatId}/messages/`, {
          method: 'POST',
          headers: { authorization: `Token ${user.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ content: `crash test ${cid}`, client_id: cid }),
          signal: AbortSignal.timeout(15_000),
        });
        const text = await r.text();
        if (r.status === 200 || r.status === 201) {
          const body = JSON.parse(text) as { id: number; client_id: string | null };
          if (body.client_id !== cid) ledger.refused.push(`${cid}: answered with client_id ${String(body.client_id)}`);
          ledger.acked(cid, { id: body.id, how: r.status, process: p.name });
          break;
        }
        if (r.status === 503 || r.status === 502) ledger.failed(`HTTP ${r.status}`);
        else {
          ledger.refused.push(`${cid}: HTTP ${r.status} ${text.slice(0, 200)}`);
          if (r.status < 500) break; // a 4xx would repeat forever; reported as refused
          ledger.failed(`HTTP ${r.status}`);
        }
      } catch (e) {
        ledger.failed(e instanceof Error && e.name === 'TimeoutError' ? 'timeout' : 'connection cut');
      }
      await sleep(Math.min(20 * 2 ** attempt, 200));
    }
  }
}

/** A `/messaging/` socket of one user, taking frames as they come. */
class MessagingSocket {
  readonly ws: WebSocket;
  readonly opened: Promise<boolean>;
  readonly closed: Promise<void>;
  private listeners = new Set<(f: Record<string, any>) => void>();
  ready = false;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on('error', () => {});
    this.closed = new Promise((resolve) => this.ws.on('close', () => resolve()));
    this.opened = new Promise((resolve) => {
      this.ws.once('open', () => resolve(true));
      this.ws.once('close', () => resolve(false));
    });
    this.ws.on('message', (data) => {
      let f: Record<string, any>;
      try {
        f = JSON.parse(data.toString()) as Record<string, any>;
      } catch {
        return;
      }
      for (const l of [...this.listeners]) l(f);
    });
  }

  on(l: (f: Record<string, any>) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  send(eventType: string, data: unknown): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ event_type: eventType, data }));
  }

  close(): void {
    this.ws.terminate();
  }
}

const wsBase = (p: ParleyProcess) => p.url.replace(/^http/, 'ws');

/**
 * A `/messaging/` sender: `message.send` with a client_id; answered when its `message.dispatch`
 * (the broadcast, or the reply to a retry) comes back. A cut socket is reopened (on whichever
 * process is up) and the same client_id sent again; so is one with no answer in 10 s.
 */
export async function messagingSender(user: TestUser, chatId: number, tag: string, procs: readonly ParleyProcess[], home: number, ledger: Ledger, ctl: SenderControl): Promise<void> {
  let sock: MessagingSocket | null = null;
  let on: ParleyProcess | null = null;
  let beat = Date.now();
  try {
    for (let n = 0; !ctl.stopping(); n++) {
      const cid = `${tag}-${n}`;
      for (let attempt = 0; !ctl.abandoned(); attempt++) {
        if (!sock || sock.ws.readyState !== WebSocket.OPEN) {
          sock?.close();
          on = await pickUp(procs, home, ctl.abandoned);
          if (!on) return;
          sock = new MessagingSocket(`${wsBase(on)}/messaging/?token=${encodeURIComponent(user.token)}`);
          if (!(await sock.opened)) {
            ledger.failed('ws connect refused');
            sock = null;
            await sleep(100);
            continue;
          }
        }
        if (Date.now() - beat > 10_000) {
          sock.send('session.heartbeat', {});
          beat = Date.now();
        }
        const s = sock;
        const outcome = await new Promise<Record<string, any> | 'closed' | 'timeout' | 'error'>((resolve) => {
          const timer = setTimeout(() => finish('timeout'), 10_000);
          const off = s.on((f) => {
            if (f.eventType === 'message.dispatch' && f.data?.client_id === cid) finish(f);
            else if (f.error !== undefined) finish('error');
          });
          void s.closed.then(() => finish('closed'));
          function finish(v: Record<string, any> | 'closed' | 'timeout' | 'error') {
            clearTimeout(timer);
            off();
            resolve(v);
          }
          ledger.tried(cid);
          s.send('message.send', { room_id: chatId, content: `crash test ${cid}`, client_id: cid });
        });
        if (typeof outcome === 'object') {
          ledger.acked(cid, { id: outcome.data.id as number, how: 'ws', process: on?.name ?? '?' });
          break;
        }
        ledger.failed(`ws ${outcome}`);
        if (outcome === 'timeout') sock.close();
        await sleep(Math.min(20 * 2 ** attempt, 200));
      }
    }
  } finally {
    sock?.close();
  }
}

// ── resuming clients ───────────────────────────────────────────────────────

export type Transport = '/messaging/' | '/messages/ws/' | 'SSE' | 'long-poll';
export const TRANSPORTS: readonly Transport[] = ['/messaging/', '/messages/ws/', 'SSE', 'long-poll'];

/**
 * A client of one user on one transport that starts from a cursor, counts every message event
 * it receives by client_id, and whenever its connection is cut comes back with the last cursor
 * it saw (on its own process if up, else another), until `stop()`.
 */
export class Resumer {
  /** Message events received, by client_id (null client_ids are not counted). */
  readonly seen = new Map<string, number>();
  cursor: string;
  connects = 0;
  /** Resync answers (the start cursor must never be too old: each is a failure). */
  readonly resyncs: string[] = [];
  private stopped = false;
  private stopCurrent: () => void = () => {};
  private readonly loop: Promise<void>;

  constructor(
    readonly transport: Transport,
    readonly label: string,
    private readonly user: TestUser,
    private readonly procs: readonly ParleyProcess[],
    private readonly home: number,
    start: string,
  ) {
    this.cursor = start;
    this.loop = this.run();
  }

  private count(cid: string | null | undefined): void {
    if (typeof cid === 'string') this.seen.set(cid, (this.seen.get(cid) ?? 0) + 1);
  }

  has(cid: string): boolean {
    return this.seen.has(cid);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopCurrent();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const p = await pickUp(this.procs, this.home, () => this.stopped);
      if (!p) return;
      this.connects++;
      try {
        if (this.transport === 'long-poll') await this.poll(p);
        else if (this.transport === 'SSE') await this.sse(p);
        else await this.socket(p);
      } catch {
        // cut: come back with the cursor
      }
      if (!this.stopped) await sleep(50);
    }
  }

  /** Both WebSocket paths: `?cursor=` on connect. */
  private async socket(p: ParleyProcess): Promise<void> {
    const messaging = this.transport === '/messaging/';
    const q = new URLSearchParams({ token: this.user.token, cursor: this.cursor });
    const ws = new WebSocket(`${wsBase(p)}${messaging ? '/messaging/' : '/messages/ws/'}?${q}`);
    ws.on('error', () => {});
    const beat = setInterval(() => {
      if (messaging && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ event_type: 'session.heartbeat', data: {} }));
    }, 10_000);
    this.stopCurrent = () => ws.terminate();
    ws.on('message', (data) => {
      const f = JSON.parse(data.toString()) as Record<string, any>;
      if (messaging) {
        if (f.eventType === 'message.dispatch' && typeof f.cursor === 'string') this.count(f.data?.client_id);
        if (f.eventType === 'resync') this.resyncs.push(JSON.stringify(f.data));
        if (typeof f.cursor === 'string') this.cursor = f.cursor;
        else if (f.eventType === 'resync' && typeof f.data?.cursor === 'string') this.cursor = f.data.cursor;
      } else {
        if (f.type === 'new_message') this.count(f.message?.client_id);
        if (f.type === 'resync') this.resyncs.push(JSON.stringify(f));
        if (typeof f.cursor === 'string') this.cursor = f.cursor;
      }
    });
    await new Promise((resolve) => ws.on('close', resolve));
    clearInterval(beat);
  }

  /** SSE: `Last-Event-ID`; the id of each event is its cursor. */
  private async sse(p: ParleyProcess): Promise<void> {
    const abort = new AbortController();
    this.stopCurrent = () => abort.abort();
    if (this.stopped) return;
    const r = await fetch(`${p.url}${API}/events/`, {
      headers: { accept: 'text/event-stream', authorization: `Token ${this.user.token}`, 'last-event-id': this.cursor },
      signal: abort.signal,
    });
    if (!r.body || !(r.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      await r.text().catch(() => '');
      throw new Error(`not a stream: ${r.status}`);
    }
    const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      let cut: number;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        let id: string | null = null;
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'id') id = val;
          else if (field === 'event') event = val;
          else if (field === 'data') data.push(val);
        }
        if (data.length === 0) continue;
        const payload = JSON.parse(data.join('\n')) as Record<string, any>;
        if (event === 'new_message') this.count(payload.message?.client_id);
        if (event === 'resync') this.resyncs.push(JSON.stringify(payload));
        if (id) this.cursor = id;
      }
    }
  }

  /** Long-poll: `?cursor=`, the answer's `cursor` for the next poll. */
  private async poll(p: ParleyProcess): Promise<void> {
    while (!this.stopped && p.up) {
      const abort = new AbortController();
      this.stopCurrent = () => abort.abort();
      const r = await fetch(`${p.url}${API}/events/?cursor=${encodeURIComponent(this.cursor)}&timeout=2`, {
        headers: { authorization: `Token ${this.user.token}` },
        signal: AbortSignal.any([abort.signal, AbortSignal.timeout(15_000)]),
      });
      const text = await r.text();
      if (r.status !== 200) throw new Error(`poll: ${r.status} ${text.slice(0, 200)}`);
      const body = JSON.parse(text) as { events: Record<string, any>[]; cursor: string; resync?: unknown };
      for (const e of body.events) if (e.type === 'new_message') this.count(e.message?.client_id);
      if (body.resync) this.resyncs.push(JSON.stringify(body.resync));
      this.cursor = body.cursor;
    }
  }
}

// ── the verdict ────────────────────────────────────────────────────────────

/** Stored messages of a chat, every page (page 1 is the newest; nothing is sent meanwhile). */
export async function history(user: TestUser, base: string, chatId: number): Promise<{ id: number; client_id: string | null }[]> {
  const all: { id: number; client_id: string | null }[] = [];
  for (let page = 1; ; page++) {
    const r = await fetch(`${base}${API}/chats/${chatId}/messages/?page=${page}`, { headers: { authorization: `Token ${user.token}` } });
    if (r.status === 404 && page > 1) break;
    if (r.status !== 200) throw new Error(`history page ${page}: ${r.status} ${await r.text()}`);
    const body = (await r.json()) as { count: number; results: { id: number; client_id: string | null }[] };
    all.push(...body.results);
    if (body.results.length === 0 || all.length >= body.count) break;
  }
  return all.sort((x, y) => x.id - y.id);
}

const listed = (cids: readonly string[], max = 40): string => (cids.length === 0 ? 'none' : `${cids.length}: ${cids.slice(0, max).join(', ')}${cids.length > max ? ', …' : ''}`);

export interface Verdict {
  /** One line per problem; empty when the run kept every promise. */
  problems: string[];
  /** What happened, for the log. */
  summary: string;
}

/**
 * Compares what was acknowledged with what is stored and with what each resuming client got:
 * lost (acknowledged, not stored), duplicated (stored twice), without event (acknowledged,
 * seen by no resuming client), and per client: missing or received more than once.
 */
export function verdict(ledger: Ledger, stored: readonly { id: number; client_id: string | null }[], clients: readonly Resumer[]): Verdict {
  const problems: string[] = [];
  const acked = new Map<string, number>();
  for (const [cid, ack] of ledger.acks) acked.set(cid, ack.id);

  const storedBy = new Map<string, number[]>();
  for (const m of stored) if (m.client_id !== null) storedBy.set(m.client_id, [...(storedBy.get(m.client_id) ?? []), m.id]);

  const lost = [...acked.keys()].filter((cid) => !storedBy.has(cid));
  const duplicated = [...storedBy].filter(([, ids]) => ids.length > 1).map(([cid, ids]) => `${cid} (ids ${ids.join('/')})`);
  const wrongId = [...ledger.acks].filter(([cid, a]) => storedBy.get(cid)?.[0] !== undefined && storedBy.get(cid)?.[0] !== a.id).map(([cid, a]) => `${cid} (answered ${a.id}, stored ${storedBy.get(cid)?.join('/')})`);
  const unanswered = [...storedBy.keys()].filter((cid) => !acked.has(cid));
  const withoutEvent = [...acked.keys()].filter((cid) => !clients.some((c) => c.has(cid)));
  const ackHow = (cid: string) => {
    const a = ledger.acks.get(cid);
    return a ? `${cid} [${a.how} from ${a.process}, ${ledger.attempts.get(cid) ?? 0} tries]` : cid;
  };

  if (lost.length) problems.push(`acknowledged but not stored (lost) ${listed(lost)}`);
  if (duplicated.length) problems.push(`stored more than once (duplicated) ${listed(duplicated)}`);
  if (wrongId.length) problems.push(`answered with another message's id ${listed(wrongId)}`);
  if (unanswered.length) problems.push(`stored but never acknowledged ${listed(unanswered)}`);
  if (withoutEvent.length) problems.push(`acknowledged without its event (no resuming client got it) ${listed(withoutEvent.map(ackHow))}`);
  if (ledger.refused.length) problems.push(`sends refused ${listed(ledger.refused, 10)}`);
  for (const c of clients) {
    const missing = [...acked.keys()].filter((cid) => !c.has(cid) && !withoutEvent.includes(cid));
    const twice = [...c.seen].filter(([, n]) => n > 1).map(([cid, n]) => `${cid}×${n}`);
    const phantom = [...c.seen.keys()].filter((cid) => !storedBy.has(cid));
    if (missing.length) problems.push(`${c.label}: missing ${listed(missing.map(ackHow))}`);
    if (twice.length) problems.push(`${c.label}: received more than once ${listed(twice)}`);
    if (phantom.length) problems.push(`${c.label}: received events of messages not stored ${listed(phantom)}`);
    if (c.resyncs.length) problems.push(`${c.label}: resync answers ${c.resyncs.join(' ')}`);
  }
  const { retried, foundOnRetry } = ledger.retried();
  const failures = [...ledger.failures].map(([k, n]) => `${k} ×${n}`).join(', ') || 'none';
  const summary =
    `${acked.size} acknowledged, ${stored.length} stored; ${retried} answered after a retry (${foundOnRetry} of them 200: committed before the cut); ` +
    `retryable failures: ${failures}; lost ${lost.length}, duplicated ${duplicated.length}, without event ${withoutEvent.length}; ` +
    `resuming clients (messages received / connections): ${clients.map((c) => `${c.label} ${c.seen.size}/${c.connects}`).join('; ')}`;
  return { problems, summary };
}

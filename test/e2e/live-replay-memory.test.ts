import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { TestUser } from './harness.js';
import { API } from './rest-fixtures.js';
import { type ServerProcess, eventually, register, sleep, spawnServe } from './scale-fixtures.js';

/**
 * Black box, on a `parley serve` child process so its memory is its own: 100 clients resume
 * from an old cursor with thousands of events (megabytes) behind it on `/messages/ws/`,
 * `/messaging/` and SSE, and never read. The replay is streamed by what each client reads, so
 * the server grows by far less than the gaps add up to, and gives it back when they close.
 * The child runs with the inspector on loopback so the test can ask for a full garbage
 * collection before reading what is really held (an idle server may not collect for minutes).
 */

const MESSAGES = 2000;
/** ~3 KB per message: a gap of ~6 MB per client, ~600 MB for all of them. */
const CONTENT = 'x'.repeat(3000);
const READERS = 4;
const PER_READER = 25; // = maxConnectionsPerUser below: all 100 fit, none more
const MAX_GROWTH_MB = 100;
/** What one resuming client may keep alive in the server (its buffer, its replay's state). */
const MAX_HELD_PER_CLIENT_KB = 400;

const dir = mkdtempSync(join(tmpdir(), 'parley-replay-mem-'));
let server: ServerProcess;
let inspector: Inspector;
let base: string;
let readers: TestUser[] = [];
let chatId: number;
let cursor: string;

/** The server process's resident memory, MB (Linux /proc). */
function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** The child's inspector: a full garbage collection, then `process.memoryUsage()` in MB. */
class Inspector {
  private next = 0;
  private constructor(private readonly ws: WebSocket) {}

  static async open(output: () => string): Promise<Inspector> {
    const url = await eventually(async () => /Debugger listening on (ws:\/\/\S+)/.exec(output())?.[1], 'the inspector URL', 10_000, 100);
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return new Inspector(ws);
  }

  private call(method: string, params: object = {}): Promise<any> {
    const id = ++this.next;
    return new Promise((resolve, reject) => {
      const onMessage = (data: Buffer) => {
        const m = JSON.parse(data.toString());
        if (m.id !== id) return;
        this.ws.off('message', onMessage);
        if (m.error) reject(new Error(`${method}: ${JSON.stringify(m.error)}`));
        else resolve(m.result);
      };
      this.ws.on('message', onMessage);
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  async collectedMemory(): Promise<{ rss: number; held: number }> {
    await this.call('HeapProfiler.collectGarbage');
    await this.call('HeapProfiler.collectGarbage');
    const r = await this.call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
    const m = JSON.parse(r.result.value) as { rss: number; heapUsed: number; external: number };
    return { rss: m.rss / 2 ** 20, held: (m.heapUsed + m.external) / 2 ** 20 };
  }

  close(): void {
    this.ws.close();
  }
}

/**
 * A client that sends its request and never reads: the socket is paused from the start, so
 * what the server sends stays in the kernel's buffers and then in the server's.
 */
function deafClient(path: string, headers: Record<string, string>): Promise<Socket> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: url.hostname, port: Number(url.port) });
    socket.pause();
    socket.once('error', reject);
    socket.once('connect', () => {
      const lines = [`GET ${path} HTTP/1.1`, `Host: ${url.host}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''];
      socket.write(lines.join('\r\n'));
      resolve(socket);
    });
  });
}

const upgrade = { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' };

function openDeaf(kind: 'messages' | 'messaging' | 'sse', user: TestUser): Promise<Socket> {
  const q = `token=${encodeURIComponent(user.token)}&cursor=${encodeURIComponent(cursor)}`;
  if (kind === 'messages') return deafClient(`/messages/ws/?${q}`, upgrade);
  if (kind === 'messaging') return deafClient(`/messaging/?${q}`, upgrade);
  return deafClient(`${API}/events/?${q}`, { Accept: 'text/event-stream' });
}

/** Resumes on `/messages/ws/` and reads everything: how many messages came before `ready`. */
async function readingResume(user: TestUser): Promise<number> {
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/messages/ws/?token=${encodeURIComponent(user.token)}&cursor=${encodeURIComponent(cursor)}`);
  let count = 0;
  try {
    return await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready after ${count} messages`)), 60_000);
      ws.on('message', (data) => {
        const f = JSON.parse(data.toString());
        if (f.type === 'new_message') count++;
        if (f.type === 'ready') {
          clearTimeout(timer);
          resolve(count);
        }
      });
      ws.on('close', (code) => reject(new Error(`closed ${code} after ${count} messages`)));
      ws.on('error', reject);
    });
  } finally {
    ws.terminate();
  }
}

beforeAll(async () => {
  const config = join(dir, 'parley.config.json');
  writeFileSync(config, JSON.stringify({ maxConnectionsPerUser: PER_READER }));
  server = await spawnServe({
    PARLEY_DATA_DIR: dir,
    DATABASE_URL: `sqlite:${join(dir, 'mem.sqlite3')}`,
    PARLEY_CONFIG: config,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --inspect=127.0.0.1:0`,
  });
  inspector = await Inspector.open(server.output);
  base = server.url;
  const sender = await register(base, 'memsender');
  readers = [];
  for (let i = 0; i < READERS; i++) readers.push(await register(base, `memreader${i}`));
  const chat = await sender.client.post(`${API}/chats/`, { chat_type: 'group', title: 'Backlog', member_ids: readers.map((r) => r.id) });
  if (chat.status !== 201) throw new Error(`chat: ${chat.status} ${chat.text}`);
  chatId = chat.body.id;
  const head = await readers[0]!.client.get(`${API}/events/`);
  cursor = head.body.cursor;
  // The backlog, sent by a few concurrent senders.
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < MESSAGES) {
        next++;
        const r = await sender.client.post(`${API}/chats/${chatId}/messages/`, { content: CONTENT });
        if (r.status !== 201) throw new Error(`send: ${r.status} ${r.text}`);
      }
    }),
  );
}, 240_000);

afterAll(async () => {
  inspector?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

// Memory is read from /proc (Linux, as in CI).
const describeOnLinux = existsSync('/proc/self/status') ? describe : describe.skip;

describeOnLinux('replay memory (a parley serve process)', () => {
  it('100 resuming clients that never read: the server grows by < 100 MB, holds a few hundred KB each, and lets it go when they close', async () => {
    const pid = server.child.pid!;
    // Warm up (code paths, caches), then measure from there.
    expect(await readingResume(readers[0]!)).toBe(MESSAGES);
    await sleep(1000);
    // The server as it runs (not just after a full collection, which shrinks it for a while).
    const baselineRss = rssMb(pid);
    const baseline = await inspector.collectedMemory();

    const sockets: Socket[] = [];
    let peak = baselineRss;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 100);
    let held: number;
    try {
      const kinds = ['messages', 'messaging', 'sse'] as const;
      for (const reader of readers) {
        for (let i = 0; i < PER_READER; i++) sockets.push(await openDeaf(kinds[i % kinds.length]!, reader));
      }
      // Every slot is taken (the server holds all 100): one more of any reader is refused…
      const refused = await readingResume(readers[1]!).catch((e: Error) => e.message);
      expect(refused).toBe('closed 4008 after 0 messages');
      // …and the server has stopped growing: no sample grows it for 3 s (bounded).
      let last = rssMb(pid);
      let still = 0;
      for (let waited = 0; still < 3000 && waited < 30_000; waited += 500) {
        await sleep(500);
        const now = rssMb(pid);
        still = now > last + 2 ? 0 : still + 500;
        last = Math.max(last, now);
      }
      held = (await inspector.collectedMemory()).held - baseline.held;
    } finally {
      clearInterval(sampler);
      for (const s of sockets) s.destroy();
    }
    const growth = peak - baselineRss;
    console.log(
      `replay memory: baseline ${baselineRss.toFixed(0)} MB, peak ${peak.toFixed(0)} MB (+${growth.toFixed(0)} MB) for ${sockets.length} clients; ` +
        `held after a full GC: ${held.toFixed(1)} MB (${((held * 1024) / sockets.length).toFixed(0)} KB per client)`,
    );
    expect(growth).toBeLessThan(MAX_GROWTH_MB);
    expect((held * 1024) / sockets.length).toBeLessThan(MAX_HELD_PER_CLIENT_KB);

    // Released: every slot is free again (a reading client resumes in full on each reader)…
    for (const reader of readers) {
      await eventually(async () => ((await readingResume(reader).catch(() => -1)) === MESSAGES ? true : undefined), 'a slot to be free again', 20_000, 500);
    }
    // …and what the clients held is let go.
    const after = await inspector.collectedMemory();
    console.log(`replay memory after they closed: RSS ${(after.rss - baselineRss).toFixed(0)} MB, held ${(after.held - baseline.held).toFixed(1)} MB above the baseline`);
    expect(after.held - baseline.held).toBeLessThan(5);
    expect(after.rss - baselineRss).toBeLessThan(MAX_GROWTH_MB / 2);
  }, 180_000);
});

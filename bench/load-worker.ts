import { parentPort } from 'node:worker_threads';
import { WebSocket } from 'ws';
import type { ConnectReply, ExpectReply, LoadCommand, LoadRequest, LoadResponse, SendReply } from './load-protocol.js';

/**
 * The load generator: WebSocket clients and an HTTP sender, in a worker thread. It reads a
 * frame's `"content":"…"` straight from the bytes instead of parsing the JSON, so the clients
 * cost as little as possible and the servers, not the clients, set the pace.
 */

const port = parentPort;
if (!port) throw new Error('load-worker must run in a worker thread');

const CONTENT = Buffer.from('"content":"');
const QUOTE = 0x22;
const groups = new Map<string, WebSocket[]>();

interface Tracking {
  total: number;
  count: number;
  first: number | null;
  last: number | null;
  latencies: number[] | null;
  done: () => void;
}
const tracking = new Map<string, Tracking>();

function onFrame(data: Buffer): void {
  const at = data.indexOf(CONTENT);
  if (at < 0) return;
  const start = at + CONTENT.length;
  const end = data.indexOf(QUOTE, start);
  if (end < 0) return;
  const content = data.toString('latin1', start, end);
  const colon = content.indexOf(':');
  if (colon < 0) return;
  const t = tracking.get(content.slice(0, colon));
  if (!t) return;
  const now = performance.now();
  t.count++;
  t.first ??= now;
  t.last = now;
  if (t.latencies) t.latencies.push(now - Number(content.slice(content.lastIndexOf(':') + 1)));
  if (t.count >= t.total) t.done();
}

async function connect(group: string, urls: string[], awaitReady: boolean): Promise<ConnectReply> {
  const t0 = performance.now();
  const sockets: WebSocket[] = [];
  groups.set(group, sockets);
  // A few at a time: a thousand simultaneous handshakes only measure the accept queue.
  const BATCH = 50;
  for (let i = 0; i < urls.length; i += BATCH) {
    sockets.push(...(await Promise.all(urls.slice(i, i + BATCH).map((url) => open(url, awaitReady)))));
  }
  return { connected: sockets.length, ms: performance.now() - t0 };
}

function open(url: string, awaitReady: boolean): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true });
    const timer = setTimeout(() => reject(new Error(`connect timeout: ${url}`)), 15_000);
    const ok = () => {
      clearTimeout(timer);
      resolve(ws);
    };
    ws.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    ws.on('message', (data: Buffer, isBinary) => {
      if (!isBinary) onFrame(data);
    });
    if (awaitReady) {
      const onReady = (data: Buffer) => {
        if (data.includes('"type":"ready"')) {
          ws.off('message', onReady);
          ok();
        }
      };
      ws.on('message', onReady);
    } else {
      ws.once('open', ok);
    }
  });
}

function expectFrames(c: Extract<LoadCommand, { cmd: 'expect' }>): Promise<ExpectReply> {
  return new Promise((resolve) => {
    const t: Tracking = { total: c.total, count: 0, first: null, last: null, latencies: c.keepLatencies ? [] : null, done: () => finish() };
    const timer = setTimeout(() => finish(), c.timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      tracking.delete(c.phase);
      resolve({ count: t.count, first: t.first, last: t.last, latencies: t.latencies ?? [] });
    };
    tracking.set(c.phase, t);
  });
}

async function send(c: Extract<LoadCommand, { cmd: 'send' }>): Promise<SendReply> {
  let errors = 0;
  let firstError: string | null = null;
  const post = async (seq: number) => {
    const sentAt = performance.now();
    try {
      const r = await fetch(c.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...c.headers },
        body: JSON.stringify({ content: `${c.phase}:${seq}:${sentAt.toFixed(3)}` }),
      });
      await r.arrayBuffer();
      if (r.status >= 300) throw new Error(`HTTP ${r.status}`);
    } catch (err) {
      errors++;
      firstError ??= err instanceof Error ? err.message : String(err);
    }
  };
  const start = performance.now();
  if (c.ratePerSec) {
    // Open loop: each message leaves on its schedule whether or not earlier ones were answered,
    // so a slow server shows up as latency instead of a lower send rate.
    const interval = 1000 / c.ratePerSec;
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < c.count; i++) {
      const wait = start + i * interval - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      inflight.push(post(i));
    }
    await Promise.all(inflight);
  } else {
    let next = 0;
    const lane = async () => {
      while (next < c.count) await post(next++);
    };
    await Promise.all(Array.from({ length: Math.max(1, c.concurrency ?? 1) }, lane));
  }
  return { sent: c.count, errors, firstError, start, end: performance.now() };
}

async function close(group: string): Promise<void> {
  const sockets = groups.get(group) ?? [];
  groups.delete(group);
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
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
        }),
    ),
  );
}

async function run(c: LoadCommand): Promise<unknown> {
  switch (c.cmd) {
    case 'connect':
      return connect(c.group, c.urls, c.awaitReady);
    case 'expect':
      return expectFrames(c);
    case 'send':
      return send(c);
    case 'close':
      return close(c.group);
  }
}

port.on('message', (request: LoadRequest) => {
  run(request).then(
    (value) => port.postMessage({ id: request.id, ok: true, value } satisfies LoadResponse),
    (err: unknown) => port.postMessage({ id: request.id, ok: false, error: err instanceof Error ? err.message : String(err) } satisfies LoadResponse),
  );
});

/**
 * The load driver of `bench/realtime.ts`: WebSocket clients that speak either Parley's
 * `/messaging/` protocol (Parley and the bare `ws` server) or Socket.IO's (Engine.IO 4 spoken
 * directly over a plain `ws` socket), and count deliveries by reading a frame's
 * `"content":"…"` straight from its bytes instead of parsing it. The same code, at the same
 * cost per frame, drives every target, so the servers and not the clients set the pace.
 *
 * Message contents are `<phase>:<seq>:<sentAt>` (`phase` without a colon); `sentAt` is this
 * process's `performance.now()` when the frame left, so latencies are measured on one clock.
 */
import { WebSocket } from 'ws';

export type Wire = 'messaging' | 'socket.io';

/** One phase of a scenario: told of every delivery of its messages. */
export interface PhaseListener {
  delivery(seq: number, latencyMs: number, now: number): void;
}

const CONTENT = Buffer.from('"content":"');
const QUOTE = 0x22;

export class Tracker {
  private readonly phases = new Map<string, PhaseListener>();

  listen(phase: string, listener: PhaseListener): () => void {
    this.phases.set(phase, listener);
    return () => {
      if (this.phases.get(phase) === listener) this.phases.delete(phase);
    };
  }

  frame(data: Buffer): void {
    const at = data.indexOf(CONTENT);
    if (at < 0) return;
    const start = at + CONTENT.length;
    const end = data.indexOf(QUOTE, start);
    if (end < 0) return;
    const content = data.toString('latin1', start, end);
    const first = content.indexOf(':');
    const last = content.lastIndexOf(':');
    if (first < 0 || last === first) return;
    const listener = this.phases.get(content.slice(0, first));
    if (!listener) return;
    const now = performance.now();
    listener.delivery(Number(content.slice(first + 1, last)), now - Number(content.slice(last + 1)), now);
  }
}

/** An open client. Its deliveries go to the tracker it was opened with (none for a sender). */
export interface Client {
  send(room: string | number, content: string): void;
  /** Error frames or unexpected closes so far, and the first of them. */
  errors(): { count: number; first: string | null };
  close(): Promise<void>;
  terminate(): void;
}

/**
 * Source addresses rotate over 127.0.0.2–127.0.0.254: each has its own ephemeral port range,
 * so tens of thousands of connections (and their TIME_WAITs) never run out of ports.
 */
let nextSource = 0;
function sourceAddress(): string {
  return `127.0.0.${2 + (nextSource++ % 253)}`;
}

export function openClient(url: string, wire: Wire, tracker: Tracker | null): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true, localAddress: sourceAddress() });
    let ready = false;
    let errors = 0;
    let firstError: string | null = null;
    const fail = (what: string) => {
      errors++;
      firstError ??= what;
    };
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`connect timeout: ${url.replace(/token=[^&]+/, 'token=…')}`));
    }, 30_000);
    const client: Client = {
      send: (room, content) => {
        if (ws.readyState !== ws.OPEN) return fail('send on a closed socket');
        ws.send(
          wire === 'messaging'
            ? JSON.stringify({ event_type: 'message.send', data: { room_id: room, content } })
            : `42${JSON.stringify(['message.send', { room_id: room, content }])}`,
        );
      },
      errors: () => ({ count: errors, first: firstError }),
      close: () => closeWs(ws),
      terminate: () => ws.terminate(),
    };
    const isReady = () => {
      ready = true;
      clearTimeout(timer);
      resolve(client);
    };
    ws.on('error', (err) => {
      clearTimeout(timer);
      if (!ready) reject(err);
      else fail(err.message);
    });
    ws.on('close', (code) => {
      if (ready && code !== 1000 && code !== 1005) fail(`closed with ${code}`);
    });
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) return;
      if (wire === 'messaging') {
        if (!ready) {
          if (data.includes('"session.ready"')) isReady();
          return;
        }
        if (tracker) tracker.frame(data);
        else if (data.includes('"error')) fail(data.toString('utf8', 0, Math.min(200, data.length)));
        return;
      }
      // Engine.IO 4: `0{…}` open → `40` joins the default namespace → `40{…}` connected;
      // `2` ping → `3` pong; `42[…]` events.
      const type = data[0];
      if (type === 0x34 /* 4: message */) {
        if (data[1] === 0x32 /* 2: event */) {
          if (tracker) tracker.frame(data);
          else if (data.includes('"error.dispatch"')) fail(data.toString('utf8', 0, Math.min(200, data.length)));
        } else if (data[1] === 0x30 /* 0: connect */ && !ready) isReady();
      } else if (type === 0x32 /* 2: ping */) ws.send('3');
      else if (type === 0x30 /* 0: open */) ws.send('40');
    });
  });
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

/**
 * Opens one client per URL, `batch` handshakes at a time (thousands at once only measure the
 * accept queue). On a failure, closes what it opened and throws.
 */
export async function openClients(urls: readonly string[], wire: Wire, tracker: Tracker | null, batch = 50): Promise<Client[]> {
  const clients: Client[] = [];
  for (let i = 0; i < urls.length; i += batch) {
    const opened = await Promise.allSettled(urls.slice(i, i + batch).map((url) => openClient(url, wire, tracker)));
    for (const o of opened) if (o.status === 'fulfilled') clients.push(o.value);
    const failed = opened.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) {
      await closeClients(clients);
      throw new Error(`${clients.length}/${urls.length} connected, then: ${String(failed.reason)}`);
    }
  }
  return clients;
}

export async function closeClients(clients: readonly Client[], batch = 500): Promise<void> {
  for (let i = 0; i < clients.length; i += batch) await Promise.all(clients.slice(i, i + batch).map((c) => c.close()));
}

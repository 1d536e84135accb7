import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { MemoryBroker } from '../../src/broker/index.js';
import { loadConfig } from '../../src/config/index.js';
import type { Broker } from '../../src/core/ports/broker.js';
import { Client, type TestServer, type TestUser } from './harness.js';
import { headCursor, longPoll, openSse, openWs, startPoll } from './live-fixtures.js';
import { createGroup, newUser, send } from './rest-fixtures.js';

/**
 * A broker that can hold deliveries back, as a remote broker (Redis) may deliver late:
 * `publish` is accepted at once, subscribers run when the gate opens. Order is kept.
 */
class GatedBroker implements Broker {
  private readonly inner = new MemoryBroker();
  private gated = false;
  private readonly queue: [string, string][] = [];
  private holdNextMessage = false;
  private heldMessage: [string, string] | null = null;

  hold(): void {
    this.gated = true;
  }

  /**
   * Holds back the next `message.created` event only, so the events after it overtake it
   * (as they may when another process published it); `releaseHeld` delivers it late.
   */
  overtakeNextMessage(): void {
    this.holdNextMessage = true;
  }

  async releaseHeld(): Promise<void> {
    const held = this.heldMessage;
    this.heldMessage = null;
    if (held) await this.inner.publish(...held);
  }

  onInterruption(listener: (phase: 'lost' | 'restored') => void): () => void {
    return this.inner.onInterruption(listener);
  }

  async open(): Promise<void> {
    this.gated = false;
    for (const [topic, payload] of this.queue.splice(0)) await this.inner.publish(topic, payload);
  }

  async publish(topic: string, payload: string): Promise<void> {
    if (this.holdNextMessage && (JSON.parse(payload) as { body?: { type?: string } }).body?.type === 'message.created') {
      this.holdNextMessage = false;
      this.heldMessage = [topic, payload];
    } else if (this.gated) this.queue.push([topic, payload]);
    else await this.inner.publish(topic, payload);
  }

  subscribe(topic: string, handler: (payload: string) => void) {
    return this.inner.subscribe(topic, handler);
  }

  setPresence(userId: number, nodeId: string, present: boolean): Promise<number> {
    return this.inner.setPresence(userId, nodeId, present);
  }

  onlineUsers(userIds: readonly number[]): Promise<Set<number>> {
    return this.inner.onlineUsers(userIds);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

const broker = new GatedBroker();
let s: TestServer;
beforeAll(async () => {
  // As the harness does, with the gated broker.
  const dir = mkdtempSync(join(tmpdir(), 'parley-test-'));
  const config = loadConfig({ cwd: dir, env: {}, overrides: { port: 0, host: '127.0.0.1', dataDir: dir, logLevel: 'silent' } });
  const app = await buildApp({ config, broker });
  const url = await app.listen();
  const anon = new Client(url);
  s = {
    url,
    app,
    anon,
    async user(username) {
      const r = await anon.post('/auth/register', { username, password: `pw-${username}-secret` });
      return { id: r.body.user.id, username, token: r.body.token, client: new Client(url, r.body.token) };
    },
    async close() {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
afterAll(() => s.close());

/**
 * An event is in the log (and so in a replay) before the broker delivers it. A client that
 * resumes in between must get it once: from the replay, not again live.
 */
describe('an event replayed before the broker delivers it is not sent twice', () => {
  let a: TestUser;
  let b: TestUser;
  let chat: any;
  beforeAll(async () => {
    a = await newUser(s, 'fa');
    b = await newUser(s, 'fb');
    chat = await createGroup(a, [b], 'Late broker');
  });

  it('long-poll: a waiting poll ignores the late delivery of an event it was already past', async () => {
    const before = await headCursor(b);
    broker.hold();
    const m = await send(a, chat.id, 'late');
    const first = await longPoll(b, { cursor: before, timeout: 5 });
    expect(first.body.events.map((e: any) => e.message.id)).toEqual([m.id]);
    const { response } = await startPoll(s, b, first.body.cursor, 0.5);
    await broker.open();
    expect((await response).body).toEqual({ events: [], cursor: first.body.cursor });
  });

  it('SSE: the replayed event is not repeated when the broker delivers it', async () => {
    const before = await headCursor(b);
    broker.hold();
    const m = await send(a, chat.id, 'late sse');
    const r = await openSse(s, b, { cursor: before });
    await r.next('ready');
    await broker.open();
    const sentinel = await send(a, chat.id, 'sse sentinel');
    await r.next('new_message', (e) => e.data.message.id === sentinel.id);
    expect(r.events.items.filter((e) => e.data.message?.id === m.id)).toHaveLength(1);
    await r.close();
  });

  it('/messages/ws/: the replayed event is not repeated when the broker delivers it', async () => {
    const before = await headCursor(b);
    broker.hold();
    const m = await send(a, chat.id, 'late ws');
    const c = openWs(s, b, { cursor: before });
    await c.next('ready');
    await broker.open();
    const sentinel = await send(a, chat.id, 'ws sentinel');
    await c.next('new_message', (f) => f.message.id === sentinel.id);
    const copies = c.frames.items.filter((f) => f.type === 'new_message' && f.message.id === m.id);
    await c.close();
    expect(copies).toHaveLength(1);
  });
});

/**
 * Another process's event can reach this one after a later event. A long-poll woken by the
 * later one answers from the log, so it neither skips the late one nor repeats it when it
 * finally arrives.
 */
describe('an event that arrives after a later one', () => {
  it('long-poll: neither skipped nor repeated', async () => {
    const a = await newUser(s, 'oa');
    const b = await newUser(s, 'ob');
    const chat = await createGroup(a, [b], 'Overtaken');
    const cursor = await headCursor(b);
    const { response } = await startPoll(s, b, cursor, 10);
    await s.app.hub.flush(); // the poll's presence change is out of the way
    broker.overtakeNextMessage();
    const first = await send(a, chat.id, 'overtaken');
    const second = await send(a, chat.id, 'overtaking');
    const got: number[] = [];
    let r = await response;
    for (let polls = 0; !got.includes(second.id) && polls < 10; polls++) {
      if (polls > 0) r = await longPoll(b, { cursor: r.body.cursor, timeout: 5 });
      got.push(...r.body.events.filter((e: any) => e.type === 'new_message').map((e: any) => e.message.id));
    }
    expect(got).toEqual([first.id, second.id]);
    // The overtaken event is delivered late now; the next poll does not repeat it.
    const { response: next } = await startPoll(s, b, r.body.cursor, 0.5);
    await broker.releaseHeld();
    expect((await next).body).toEqual({ events: [], cursor: r.body.cursor });
  });
});

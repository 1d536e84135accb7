import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer, TestUser } from './harness.js';
import { type SseClient, type WsClient, connectWs, eventually, headCursor, longPoll, openSse, openWs, startPoll } from './live-fixtures.js';
import { WebSocket } from 'ws';
import { type Peer, connect, wsUrl as messagingUrl } from './messaging-client.js';
import { createGroup, expectStatus, newUser, send, startRestServer } from './rest-fixtures.js';

/**
 * `maxConnectionsPerUser`: one user's live connections on a process (both WebSocket faces,
 * SSE streams, waiting long-polls) are counted together; past the cap a WebSocket is closed
 * with 4008 and SSE / long-poll get 429 with a `detail`. Other users are not affected.
 */

const CAP = 3;
let s: TestServer;
beforeAll(async () => {
  s = await startRestServer({ maxConnectionsPerUser: CAP });
});
afterAll(() => s.close());

describe('maxConnectionsPerUser', () => {
  let a: TestUser;
  let b: TestUser;
  let chatId: number;
  const wsClients: WsClient[] = [];
  const peers: Peer[] = [];
  const streams: SseClient[] = [];

  beforeAll(async () => {
    a = await newUser(s, 'capa');
    b = await newUser(s, 'capb');
    chatId = (await createGroup(a, [b], 'Cap')).id;
  });

  afterAll(async () => {
    for (const p of peers) p.close();
    for (const w of wsClients) await w.close();
    for (const e of streams) await e.close();
  });

  it('the (cap+1)th connection of one user is refused on every transport; another user is not affected', async () => {
    // The cap is reached with one connection of each kind: /messages/ws/, /messaging/ and SSE.
    wsClients.push(await connectWs(s, a));
    peers.push(await connect(s, a.token));
    const stream = await openSse(s, a);
    streams.push(stream);
    await stream.next('ready');

    const refused = openWs(s, a);
    expect(await refused.closed).toBe(4008);
    expect(await messagingCloseCode(a)).toBe(4008);

    const sse = await fetch(`${s.url}/messages/api/events/`, { headers: { accept: 'text/event-stream', authorization: `Token ${a.token}` } });
    expect(sse.status).toBe(429);
    expect(await sse.json()).toEqual({ detail: expect.stringMatching(/too many connections.*3/i) });

    const poll = await longPoll(a, { cursor: await headCursor(b), timeout: 1 });
    expectStatus(poll, 429);
    expect(poll.body.detail).toMatch(/too many connections/i);

    // Another user connects and follows as usual, on every transport.
    const wb = await connectWs(s, b);
    wsClients.push(wb);
    const cursor = await headCursor(b);
    const { response } = await startPoll(s, b, cursor, 10);
    const sent = await send(a, chatId, 'to b, past a cap that is not theirs');
    expect((await response).body.events.map((e: any) => e.message?.id)).toEqual([sent.id]);
    await wb.next('new_message', (f) => f.message.id === sent.id);

    // A's existing connections still work.
    await wsClients[0]!.next('new_message', (f) => f.message.id === sent.id);
    await stream.next('new_message', (e) => e.data.message.id === sent.id);
  });

  it('a closed connection gives its slot back', async () => {
    const first = wsClients.shift()!;
    await first.close();
    await eventually(() => countOf(a) < CAP, 'the slot to be given back');
    const again = await connectWs(s, a);
    wsClients.push(again);
    expect((await again.next('ready')).type).toBe('ready');
    // Full again.
    expect(await openWs(s, a).closed).toBe(4008);
  });

  it('a waiting long-poll holds a slot while it waits, and gives it back when answered', async () => {
    const c = await newUser(s, 'capc');
    const cursor = await headCursor(c);
    const polls = [];
    for (let i = 0; i < CAP; i++) polls.push((await startPoll(s, c, cursor, 2)).response);
    const over = await longPoll(c, { cursor, timeout: 1 });
    expectStatus(over, 429);
    for (const r of await Promise.all(polls)) expectStatus(r, 200);
    expectStatus(await longPoll(c, { cursor, timeout: 0 }), 200);
  });

  /** Live connections of `user` in the hub (excluding the long-poll presence lease, if any). */
  function countOf(user: TestUser): number {
    return s.app.hub.connectionsOf(user.id).size;
  }

  /** Opens `/messaging/` as `user`; resolves with the close code. */
  function messagingCloseCode(user: TestUser): Promise<number> {
    const ws = new WebSocket(messagingUrl(s, { token: user.token }));
    ws.on('error', () => {});
    return new Promise((resolve) => ws.on('close', (code) => resolve(code)));
  }
});

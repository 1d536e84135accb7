import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Schemas } from '../../src/faces/messaging/schemas.js';
import { type TestServer, type TestUser, startServer } from '../e2e/harness.js';
import { fdsSettle, snapshot } from './meter.js';
import { type Schema, fromSchema, seeds } from './schema-arbitrary.js';

/**
 * Fuzzing both WebSocket faces from their frame schemas: `/messaging/` from the TypeBox schemas
 * of its client events (`Schemas`), `/messages/ws/` from the JSON Schema of its client frames
 * below (the `MessagesClientFrame` type), each mixed with unknown events, malformed JSON,
 * binary and oversized frames. Holds: no internal error (4006 / "Internal server error"), no
 * 1011 close, the socket answers a heartbeat afterwards, descriptors and heap back to baseline.
 */

const FRAMES = Number(process.env.FUZZ_FRAMES ?? 300);

/** `MessagesClientFrame` (src/protocol/messages-frames.ts) as a JSON Schema. */
const LiveClientFrame: Schema = {
  anyOf: [
    { type: 'object', properties: { type: { const: 'ping' } }, required: ['type'] },
    { type: 'object', properties: { type: { const: 'typing' }, chat_id: { type: 'integer', minimum: 1 }, is_typing: { type: 'boolean' } }, required: ['type', 'chat_id', 'is_typing'] },
  ],
};

let s: TestServer;
let alice: TestUser;
let ids: number[] = [];

beforeAll(async () => {
  s = await startServer();
  alice = await s.user('alice');
  const bob = await s.user('bob');
  const chat = (await alice.client.post('/messages/api/chats/', { chat_type: 'group', title: 'Fuzz', member_ids: [bob.id] })).body.id as number;
  const message = (await alice.client.post(`/messages/api/chats/${chat}/messages/`, { content: 'hello' })).body.id as number;
  ids = [alice.id, bob.id, chat, message];
});
afterAll(() => s.close());

const garbage: fc.Arbitrary<string | Buffer> = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.constantFrom('{', '[]', 'null', '{"event_type":', '{"type":', `{"event_type":"message.send","data":${'['.repeat(5000)}${']'.repeat(5000)}}`),
  fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  fc.constant('x'.repeat(300_000)),
);

function messagingFrames(): fc.Arbitrary<string | Buffer> {
  const events = Object.keys(Schemas);
  const known = fc.constantFrom(...events).chain((event_type) =>
    fromSchema((Schemas as Record<string, Schema>)[event_type], ids).map((data) => JSON.stringify({ event_type, data })),
  );
  const unknown = fc.record({ event_type: fc.string({ maxLength: 20 }), data: fc.jsonValue({ maxDepth: 2 }) }).map((f) => JSON.stringify(f));
  return fc.oneof({ weight: 8, arbitrary: known }, { weight: 1, arbitrary: unknown }, { weight: 1, arbitrary: garbage });
}

function liveFrames(): fc.Arbitrary<string | Buffer> {
  return fc.oneof({ weight: 8, arbitrary: fromSchema(LiveClientFrame, ids).map((f) => JSON.stringify(f)) }, { weight: 2, arbitrary: garbage });
}

interface Tally {
  frames: number;
  internal: string[];
  closes: Record<string, number>;
}

/** Sends frames on a socket, reopening it when the server closes it; then checks it still answers. */
async function fuzz(path: string, frames: (string | Buffer)[], heartbeat: string, isReply: (f: any) => boolean, tally: Tally): Promise<void> {
  const url = `${s.url.replace('http', 'ws')}${path}?token=${alice.token}`;
  let ws: WebSocket | null = null;
  const open = async (): Promise<WebSocket> => {
    const socket = new WebSocket(url);
    socket.on('message', (d) => {
      const text = d.toString();
      if (/Internal server error|"code":4006/.test(text)) tally.internal.push(`${path}: ${text.slice(0, 200)}`);
    });
    socket.on('close', (code) => {
      tally.closes[code] = (tally.closes[code] ?? 0) + 1;
      if (code === 1011) tally.internal.push(`${path}: closed 1011`);
    });
    socket.on('error', () => undefined);
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    return socket;
  };
  for (const [i, frame] of frames.entries()) {
    if (!ws || ws.readyState !== WebSocket.OPEN) ws = await open();
    ws.send(frame);
    tally.frames += 1;
    // Every few frames, wait for the server to catch up, so a failure points near its frame.
    if (i % 25 === 24) await roundTrip(ws, heartbeat, isReply).catch(() => undefined);
  }
  if (!ws || ws.readyState !== WebSocket.OPEN) ws = await open();
  await roundTrip(ws, heartbeat, isReply);
  ws.close();
}

function roundTrip(ws: WebSocket, heartbeat: string, isReply: (f: any) => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no heartbeat reply: hung')), 10_000);
    const onMessage = (d: WebSocket.RawData) => {
      try {
        if (!isReply(JSON.parse(d.toString()))) return;
      } catch {
        return;
      }
      clearTimeout(timer);
      ws.off('message', onMessage);
      resolve();
    };
    ws.on('message', onMessage);
    ws.once('close', () => {
      clearTimeout(timer);
      reject(new Error('closed'));
    });
    ws.send(heartbeat);
  });
}

it(`both WebSocket faces, ${FRAMES} frames per face and seed: no internal error, no hang, no leak`, async () => {
  const tally: Tally = { frames: 0, internal: [], closes: {} };
  await fuzz('/messaging/', fc.sample(messagingFrames(), { seed: 1, numRuns: 50 }), '{"event_type":"session.heartbeat","data":{}}', (f) => f.status === 'success', tally);
  const before = snapshot();
  for (const seed of seeds()) {
    console.log(`fuzz-ws: seed ${seed} (replay: FUZZ_SEED=${seed})`);
    await fuzz('/messaging/', fc.sample(messagingFrames(), { seed, numRuns: FRAMES }), '{"event_type":"session.heartbeat","data":{}}', (f) => f.status === 'success', tally);
    await fuzz('/messages/ws/', fc.sample(liveFrames(), { seed, numRuns: FRAMES }), '{"type":"ping"}', (f) => f.type === 'pong', tally);
  }
  const fds = await fdsSettle(before.fds, 5);
  const after = { ...snapshot(), fds };
  console.log(
    `fuzz-ws: ${tally.frames} frames; closes by code ${JSON.stringify(tally.closes)}; internal errors ${tally.internal.length}; ` +
      `fds ${before.fds} → ${after.fds}; heap ${before.heapMiB.toFixed(1)} → ${after.heapMiB.toFixed(1)} MiB`,
  );
  expect(tally.internal, tally.internal.slice(0, 5).join('\n')).toEqual([]);
  expect(after.fds).toBeLessThanOrEqual(before.fds + 5);
  expect(after.heapMiB).toBeLessThan(before.heapMiB + 40);
});

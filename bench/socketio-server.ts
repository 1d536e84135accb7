/**
 * The Socket.IO side of `bench/scale-fanout.ts`: a Socket.IO 4 server with the Redis adapter,
 * run as its own process (the bench spawns two). Not meant to be run by hand.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 SIO_KEY=bench_ab12 node --import tsx bench/socketio-server.ts
 *
 * Every connection joins one room. A `message.send` event `{content}` is answered the way
 * Parley's `/messaging/` face answers it, minus the work Parley does and this does not
 * (authentication, storage, the event log): a `message.dispatch` with a message object of the
 * same shape is broadcast to the room, across processes through Redis. Prints
 * `{"url": "http://127.0.0.1:PORT"}` on stdout once listening; SIGTERM stops it.
 */
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';

const ROOM = 'bench';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const key = process.env.SIO_KEY ?? 'socket.io';

const pub = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
const sub = pub.duplicate();
for (const c of [pub, sub]) c.on('error', (err) => console.error(`redis: ${err.message}`));

const http = createServer();
const io = new Server(http, {
  adapter: createAdapter(pub, sub, { key }),
  transports: ['websocket'],
  serveClient: false,
  perMessageDeflate: false,
});

// Ids unique across the two processes without coordination, like a database would hand out.
let nextId = process.pid * 1_000_000;
const sender = { id: 1, username: 'sender', display_name: 'sender', avatar_url: null };

io.on('connection', (socket) => {
  void socket.join(ROOM);
  socket.on('message.send', (data: unknown) => {
    const content = typeof data === 'object' && data !== null ? (data as { content?: unknown }).content : undefined;
    if (typeof content !== 'string' || content.length === 0) {
      socket.emit('error.dispatch', { code: 4003, detail: 'content: This field is required.' });
      return;
    }
    const now = new Date().toISOString();
    // The fields of Parley's `message.dispatch`, so both systems send frames of similar size.
    io.to(ROOM).emit('message.dispatch', {
      id: ++nextId,
      room_id: 1,
      sender,
      content,
      created_at: now,
      updated_at: now,
      is_edited: false,
      is_deleted: false,
      parent_message_id: null,
      forwarded_from_id: null,
      attachments: [],
      client_id: null,
      reactions: [],
    });
  });
});

http.listen(0, '127.0.0.1', () => {
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  const force = setTimeout(() => process.exit(1), 5000);
  force.unref();
  io.close(() => {
    void Promise.allSettled([pub.quit(), sub.quit()]).then(() => process.exit(0));
  });
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

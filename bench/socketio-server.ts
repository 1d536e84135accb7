/**
 * The Socket.IO 4 target of `bench/realtime.ts` (one process, no adapter) and of
 * `bench/scale-fanout.ts` (two processes over `@socket.io/redis-adapter`). Not meant to be run
 * by hand.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 SIO_KEY=bench_ab12 node --import tsx bench/socketio-server.ts
 *   SIO_REDIS=0 PORT=8080 node --import tsx bench/socketio-server.ts
 *
 * Every connection joins the room named by its `?room=` query (default `bench`). A
 * `message.send` event `{content, room_id?}` is answered the way Parley's `/messaging/` face
 * answers it, minus the work Parley does and this does not (authentication, storage, the event
 * log): a `message.dispatch` with a message object of the same shape is broadcast to the room
 * (`room_id`, else the sender's room), across processes through Redis when the adapter is on.
 * Listens on `PORT` (default: any) and prints `{"url": "http://127.0.0.1:PORT"}` on stdout once
 * listening; SIGTERM stops it.
 */
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';

const ROOM = 'bench';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const key = process.env.SIO_KEY ?? 'socket.io';

const withRedis = process.env.SIO_REDIS !== '0';
const redis = withRedis ? [new Redis(redisUrl, { maxRetriesPerRequest: 2 })] : [];
const [pub] = redis;
const sub = pub?.duplicate();
if (sub) redis.push(sub);
for (const c of redis) c.on('error', (err) => console.error(`redis: ${err.message}`));

const http = createServer();
const io = new Server(http, {
  ...(pub && sub ? { adapter: createAdapter(pub, sub, { key }) } : {}),
  transports: ['websocket'],
  serveClient: false,
  perMessageDeflate: false,
});

// Ids unique across the two processes without coordination, like a database would hand out.
let nextId = process.pid * 1_000_000;
const sender = { id: 1, username: 'sender', display_name: 'sender', avatar_url: null };

io.on('connection', (socket) => {
  const query = socket.handshake.query.room;
  const own = typeof query === 'string' && query !== '' ? query : ROOM;
  void socket.join(own);
  socket.on('message.send', (data: unknown) => {
    const fields = typeof data === 'object' && data !== null ? (data as { content?: unknown; room_id?: unknown }) : {};
    const content = fields.content;
    const room = typeof fields.room_id === 'string' || typeof fields.room_id === 'number' ? String(fields.room_id) : own;
    if (typeof content !== 'string' || content.length === 0) {
      socket.emit('error.dispatch', { code: 4003, detail: 'content: This field is required.' });
      return;
    }
    const now = new Date().toISOString();
    // The fields of Parley's `message.dispatch`, so both systems send frames of similar size.
    io.to(room).emit('message.dispatch', {
      id: ++nextId,
      room_id: room,
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

http.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
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
    void Promise.allSettled(redis.map((c) => c.quit())).then(() => process.exit(0));
  });
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

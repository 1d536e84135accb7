/**
 * The ceiling of `bench/realtime.ts`: a bare `ws` broadcast server, run as its own process.
 * Not meant to be run by hand.
 *
 *   PORT=8080 node --import tsx bench/bare-server.ts
 *
 * It speaks the part of Parley's `/messaging/` protocol the bench uses, with nothing behind it:
 * a socket joins the room named by `?room=` and gets `session.ready`; a `message.send`
 * `{room_id, content}` becomes one `message.dispatch` frame shaped like Parley's, serialized and
 * encoded once and written to every socket of the room (the sender's too, as
 * Parley and Socket.IO do). No authentication, storage,
 * membership, event log or broker. SIGTERM stops it.
 */
import { createServer } from 'node:http';
import { type WebSocket, WebSocketServer } from 'ws';

const port = Number(process.env.PORT ?? 0);
const rooms = new Map<string, Set<WebSocket>>();
const READY = Buffer.from(JSON.stringify({ type: 'session', eventType: 'session.ready', data: {} }));
const sender = { id: 1, username: 'sender', display_name: 'sender', avatar_url: null };
let nextId = 0;

const http = createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ server: http, perMessageDeflate: false });

wss.on('connection', (ws, req) => {
  const room = new URL(req.url ?? '/', 'http://x').searchParams.get('room') ?? 'default';
  let members = rooms.get(room);
  if (!members) rooms.set(room, (members = new Set()));
  members.add(ws);
  ws.on('close', () => {
    members.delete(ws);
    if (members.size === 0) rooms.delete(room);
  });
  ws.on('message', (data: Buffer) => {
    let content: unknown;
    try {
      content = (JSON.parse(data.toString('utf8')) as { data?: { content?: unknown } }).data?.content;
    } catch {
      return;
    }
    if (typeof content !== 'string') return;
    const now = new Date().toISOString();
    // Encoded to bytes once, not once per socket: the best a broadcast can do.
    const frame = Buffer.from(
      JSON.stringify({
        type: 'broadcast_group',
        eventType: 'message.dispatch',
        data: {
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
        },
      }),
    );
    for (const peer of members) if (peer.readyState === peer.OPEN) peer.send(frame, { binary: false });
  });
  ws.send(READY, { binary: false });
});

http.listen(port, '127.0.0.1');

function stop(): void {
  const force = setTimeout(() => process.exit(1), 5000);
  force.unref();
  for (const ws of wss.clients) ws.terminate();
  wss.close(() => http.close(() => process.exit(0)));
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

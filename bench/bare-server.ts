import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

/**
 * The ceiling: the same shape as Parley's send path with nothing else. `POST /send` with
 * `{content}` builds a frame shaped like Parley's `new_message` (so the bytes on the wire are
 * comparable), serializes and encodes it once, sends it to every connected socket, and answers 201 with the
 * message. No authentication, storage, membership, event log or broker.
 */
export interface BareServer {
  url: string;
  wsUrl: string;
  clients(): number;
  close(): Promise<void>;
}

export async function startBareServer(): Promise<BareServer> {
  let nextId = 0;
  const server: Server = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/send') {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const { content } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { content: string };
      const now = new Date().toISOString();
      const message = {
        id: ++nextId,
        chat: 1,
        content,
        created_at: now,
        updated_at: now,
        is_edited: false,
        is_deleted: false,
        sender: { id: 1, username: 'sender', display_name: 'sender', avatar_url: '/avatars/1.svg' },
        reactions: [],
        read_by: [1],
        parent_id: null,
        client_id: null,
      };
      // Encoded to bytes once, not once per socket: the best a broadcast can do.
      const frame = Buffer.from(JSON.stringify({ type: 'new_message', chat_id: 1, message, cursor: Buffer.from(`c1:${nextId}`).toString('base64url') }));
      for (const ws of wss.clients) if (ws.readyState === ws.OPEN) ws.send(frame, { binary: false });
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify(message));
    });
  });
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/`,
    clients: () => wss.clients.size,
    async close() {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A Fastify app that registers Parley as a plugin next to its own routes.
 *
 * Parley's paths (`/auth/`, `/messages/api/`, `/api/dm/`, `/api/docs/`, `/avatars/`, and the
 * WebSocket paths `/messaging/` and `/messages/ws/`) are served by Parley; everything else,
 * `/` included, is the host's. Closing the host closes Parley.
 *
 *   npx tsx examples/fastify-plugin/server.ts     # http://127.0.0.1:3000
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { pathToFileURL } from 'node:url';
import { type Parley, type ParleyOptions, createParley } from '../../src/index.js';

export interface Running {
  url: string;
  parley: Parley;
  app: FastifyInstance;
}

let running: FastifyInstance | null = null;

const PRODUCTS = [
  { id: 1, name: 'Teapot', price: 18 },
  { id: 2, name: 'Cup', price: 6 },
];

/** Starts the app on `port` (0: any free port); resolves once it listens. */
export async function start(port = 3000, options: ParleyOptions = {}): Promise<Running> {
  const parley = await createParley({ databaseUrl: ':memory:', ...options });

  const app = Fastify({ logger: false });
  app.get('/', async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shop</title></head>
<body><h1>Shop</h1>
<p>Ask the seller about a product: the chat is Parley, on this same server.</p>
<script type="module" src="/static/parley-widgets.js"></script>
<section id="chat" aria-label="Messages"></section>
</body></html>`),
  );
  app.get('/api/products', async () => PRODUCTS);
  app.post<{ Body: { name: string } }>('/api/echo', async (request) => ({ youSent: request.body }));

  await app.register(parley.fastifyPlugin);
  const address = await app.listen({ port, host: '127.0.0.1' });
  running = app;
  return { url: address, parley, app };
}

/** Closes the host, which closes Parley with it. */
export async function stop(): Promise<void> {
  const app = running;
  running = null;
  await app?.close();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { url } = await start(Number(process.env.PORT ?? 3000));
  console.log(`Shop with Parley on ${url} — Parley's API docs at ${url}/api/docs/`);
  const shutdown = () => void stop().then(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

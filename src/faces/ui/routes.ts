import { access, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type as T } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { type FaceDeps, typed } from '../http/face-deps.js';
import { demoPage, messagesPage, uiLocales } from './pages.js';

/** Where `node ui/build.mjs` writes the bundles (the repository root, from src/ and from dist/ alike). */
const bundleDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'dist-ui');

const bundles: Record<string, string> = {
  'parley-messages.js': 'application/javascript; charset=utf-8',
  'parley-messages.js.map': 'application/json; charset=utf-8',
  'parley-widgets.js': 'application/javascript; charset=utf-8',
  'parley-widgets.js.map': 'application/json; charset=utf-8',
};

const pageCsp =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' https: data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export interface UiFaceOptions {
  /** Serve the demo page at `/demo/`. Default: `config.demoPage`, else true. */
  demo?: boolean;
  /** Where the bundles are (tests may point elsewhere). Default `dist-ui/` at the repository root. */
  bundleDir?: string;
}

/** The locale of a page: `?lang=`, else the best of Accept-Language, else English. */
function localeOf(request: FastifyRequest, query: string | undefined): string {
  const wishes = [query, ...(request.headers['accept-language'] ?? '').split(',').map((p) => p.split(';')[0]?.trim())];
  for (const w of wishes) {
    const base = w?.toLowerCase().split('-')[0];
    if (base && uiLocales.includes(base)) return base;
  }
  return 'en';
}

const html = (reply: FastifyReply, body: string) =>
  reply
    .type('text/html; charset=utf-8')
    .header('content-security-policy', pageCsp)
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', 'no-store')
    .send(body);

/**
 * The web UI: the `/messages/` page, the widget script `/static/parley-widgets.js`
 * (`<parley-dm>`, `<parley-room>`) and the `/demo/` page. The bundles are built by
 * `node ui/build.mjs` into `dist-ui/`; without them the routes answer 503 saying so.
 *
 * CORS for the sites that embed the widgets is answered for every route by
 * `installCors` (src/faces/http/cors.ts).
 */
export const uiFace = ({ config }: FaceDeps, options: UiFaceOptions = {}): FastifyPluginAsync => {
  const plugin: FastifyPluginAsync = async (scope) => {
    const app = typed(scope);
    const dir = options.bundleDir ?? bundleDir;
    const demo = options.demo ?? config.demoPage;
    const missing = (reply: FastifyReply) =>
      reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('The web UI is not built: run `node ui/build.mjs` (npm run build does it), then reload.\n');

    app.get('/messages/', { schema: { hide: true, querystring: T.Object({ lang: T.Optional(T.String({ maxLength: 20 })) }) } }, async (request, reply) => {
      if (!(await exists(join(dir, 'parley-messages.js')))) return missing(reply);
      return html(reply, messagesPage(localeOf(request, request.query.lang)));
    });

    // One route per bundle file, not `/static/:file`: embedded in a host app, Parley must not
    // claim the host's own `/static/` files (see `handles()` in src/index.ts).
    for (const [file, type] of Object.entries(bundles)) {
      app.get(`/static/${file}`, { schema: { hide: true } }, async (_request, reply) => {
        let body: Buffer;
        try {
          body = await readFile(join(dir, file));
        } catch {
          return missing(reply);
        }
        return reply
          .type(type)
          .header('x-content-type-options', 'nosniff')
          .header('cache-control', 'no-cache')
          .header('cross-origin-resource-policy', 'cross-origin')
          .send(body);
      });
    }

    if (demo) {
      app.get(
        '/demo/',
        {
          schema: {
            hide: true,
            querystring: T.Object({ lang: T.Optional(T.String({ maxLength: 20 })), seller: T.Optional(T.Integer({ minimum: 1 })) }),
          },
        },
        async (request, reply) => {
          if (!(await exists(join(dir, 'parley-widgets.js')))) return missing(reply);
          return html(reply, demoPage(localeOf(request, request.query.lang), request.query.seller ?? 1));
        },
      );
    }
  };
  return plugin;
};

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

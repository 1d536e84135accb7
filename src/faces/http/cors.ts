import type { FastifyInstance } from 'fastify';

/**
 * CORS for the origins in `allowedOrigins` (the sites that embed Parley's widgets), on every
 * route: the widgets call the API with the visitor's cookie, so credentials are allowed and
 * only listed origins are echoed back, never `*` itself.
 */
export function installCors(app: FastifyInstance, allowedOrigins: readonly string[]): void {
  const allowed = new Set(allowedOrigins);
  const originAllowed = (origin: string | undefined): origin is string => !!origin && (allowed.has(origin) || allowed.has('*'));

  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    if (!originAllowed(origin)) return;
    reply.header('access-control-allow-origin', origin);
    reply.header('access-control-allow-credentials', 'true');
    reply.header('vary', 'Origin');
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method']) {
      return reply
        .code(204)
        .header('access-control-allow-methods', 'GET, POST, PUT, PATCH, DELETE')
        .header('access-control-allow-headers', 'content-type, authorization, accept')
        .header('access-control-max-age', '600')
        .send();
    }
  });
}

import type { FastifyInstance } from 'fastify';
import { OriginPolicy } from './origins.js';

/**
 * CORS for the origins in `allowedOrigins` (the sites that embed Parley's widgets), on every
 * route: the widgets call the API with the visitor's cookie, so credentials are allowed for
 * listed origins, which are echoed back. "*" lets any other site call with a token: it is
 * answered `*` without credentials, so a browser never sends or exposes the cookie to it.
 */
export function installCors(app: FastifyInstance, allowedOrigins: readonly string[]): void {
  const policy = new OriginPolicy(allowedOrigins);

  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    if (!origin) return;
    const verdict = policy.verdict(origin, undefined);
    if (verdict === 'refused' || verdict === 'own') return;
    if (verdict === 'listed') {
      reply.header('access-control-allow-origin', origin);
      reply.header('access-control-allow-credentials', 'true');
      reply.header('vary', 'Origin');
    } else {
      reply.header('access-control-allow-origin', '*');
    }
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

import type {} from '@fastify/cookie';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type RequestAuthenticator, parseAuthorization } from '../../auth/index.js';
import { ParleyError } from '../../core/errors.js';
import type { User } from '../../core/types.js';

export const SESSION_COOKIE = 'parley_session';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated user, or null. Set for every request before any handler runs. */
    user: User | null;
    /** Why credentials that were sent did not authenticate, if they did not. */
    authProblem: string | null;
    /** The raw token that authenticated this request (to revoke it on logout). */
    authToken: string | null;
  }
}

/** Only the event stream (SSE / long-poll) reads `?token=`: an EventSource cannot send headers. */
const QUERY_TOKEN_PATH = /\/messages\/api\/events\/?$/;

/**
 * Resolves the user of every request through the `RequestAuthenticator`: the host's
 * `authenticate`, then `Authorization: Token <t>` (DRF style) or `Authorization: Bearer <t>`
 * (a JWT when `jwt` is configured), or the HttpOnly session cookie. A header wins over the
 * cookie. Credentials that fail leave `authProblem` for the 401 of a protected route.
 */
export function installAuthentication(app: FastifyInstance, authenticator: RequestAuthenticator): void {
  app.decorateRequest('user', null);
  app.decorateRequest('authProblem', null);
  app.decorateRequest('authToken', null);
  app.addHook('onRequest', async (request) => {
    const header = parseAuthorization(request.headers.authorization);
    const query = request.method === 'GET' && QUERY_TOKEN_PATH.test(request.url.split('?')[0] ?? '') ? (request.query as { token?: unknown }).token : undefined;
    const outcome = await authenticator.authenticate(request.raw, {
      ...header,
      queryToken: typeof query === 'string' && query !== '' ? query : null,
      // As before: a header, even a bad one, means the cookie is not looked at.
      cookieToken: request.headers.authorization === undefined ? (request.cookies[SESSION_COOKIE] ?? null) : null,
    });
    request.user = outcome.user;
    request.authProblem = outcome.problem;
    request.authToken = outcome.token;
  });
}

/** The request's user, or the 401 the seeds describe. Call it first in protected handlers. */
export function requireUser(request: FastifyRequest): User {
  if (request.user) return request.user;
  throw new ParleyError('unauthenticated', request.authProblem ?? 'Authentication credentials were not provided.');
}

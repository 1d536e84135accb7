import type {} from '@fastify/cookie';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Accounts } from '../../auth/index.js';
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

/**
 * Resolves the user of every request from `Authorization: Token <t>` (DRF style),
 * `Authorization: Bearer <t>`, or the HttpOnly session cookie. A header wins over the cookie.
 */
export function installAuthentication(app: FastifyInstance, accounts: Accounts): void {
  app.decorateRequest('user', null);
  app.decorateRequest('authProblem', null);
  app.decorateRequest('authToken', null);
  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    let token: string | null = null;
    if (header !== undefined) {
      const m = /^(Token|Bearer)\s+(\S+)\s*$/i.exec(header);
      if (!m || m[2] === undefined) {
        request.authProblem = 'Invalid token header.';
        return;
      }
      token = m[2];
    } else {
      token = request.cookies[SESSION_COOKIE] ?? null;
    }
    if (token === null) return;
    const user = await accounts.userForToken(token);
    if (user) {
      request.user = user;
      request.authToken = token;
    } else {
      request.authProblem = 'Invalid token.';
    }
  });
}

/** The request's user, or the 401 the seeds describe. Call it first in protected handlers. */
export function requireUser(request: FastifyRequest): User {
  if (request.user) return request.user;
  throw new ParleyError('unauthenticated', request.authProblem ?? 'Authentication credentials were not provided.');
}

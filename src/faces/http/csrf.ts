import type { FastifyInstance } from 'fastify';
import { ParleyError } from '../../core/errors.js';
import { OriginPolicy } from './origins.js';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Cross-site request forgery defence for cookie sessions: an unsafe request (POST, PUT,
 * PATCH, DELETE) that carries cookies and no `Authorization` header must come from Parley's
 * own pages or an origin in `allowedOrigins`, judged by `Origin` (or `Referer`, or the
 * browser's `Sec-Fetch-Site`). SameSite=Lax alone lets other origins of the same site through.
 * Token and header authentication are unaffected: a page elsewhere cannot send them for the
 * visitor. Refused before the body is read: 403 with a `detail`.
 */
export function installCsrfProtection(app: FastifyInstance, allowedOrigins: readonly string[], publicUrl: string | null): void {
  const policy = new OriginPolicy(allowedOrigins, publicUrl);
  app.addHook('onRequest', async (request) => {
    if (SAFE.has(request.method) || request.headers.authorization !== undefined || !request.headers.cookie) return;
    const origin = request.headers.origin ?? originOf(request.headers.referer);
    // `request.host` honours X-Forwarded-Host only with `trustProxy`.
    const host = request.host;
    const allowed =
      origin !== null && origin !== 'null'
        ? ['own', 'listed'].includes(policy.verdict(origin, host))
        : // No Origin or Referer at all: not a browser page, unless the browser says it is another site's.
          !['cross-site', 'same-site'].includes(String(request.headers['sec-fetch-site'] ?? ''));
    if (!allowed) {
      throw new ParleyError(
        'forbidden',
        'Cross-origin request with cookie credentials refused: send it from this site or an origin in allowedOrigins, or authenticate with the Authorization header.',
      );
    }
  });
}

function originOf(referer: string | undefined): string | null {
  if (!referer) return null;
  try {
    return new URL(referer).origin;
  } catch {
    return null;
  }
}

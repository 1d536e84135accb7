import { Type as T } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { notFound } from '../../core/index.js';
import { type FaceDeps, typed } from '../http/face-deps.js';
import { Id } from '../http/schemas.js';
import { avatarSvg } from './avatar.js';

const ANONYMOUS_AVATAR = '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64" role="img" aria-label="User"><rect width="64" height="64" rx="32" fill="#94a3b8"/></svg>';
import { homePage } from './home-page.js';

/**
 * Pages for people: the sign-up/sign-in page at `/` (unless `signupPage` is false, as when
 * a host app owns `/`) and the default avatars.
 */
export const webFace =
  ({ core, config }: FaceDeps, { signupPage = true }: { signupPage?: boolean } = {}): FastifyPluginAsync =>
  async (scope) => {
    const app = typed(scope);

    if (signupPage) {
      const home = homePage(config.registrationEnabled);
      app.get('/', { schema: { hide: true } }, async (_request, reply) =>
        reply
          .type('text/html; charset=utf-8')
          .header('content-security-policy', "default-src 'self'; script-src 'unsafe-inline' 'self'; style-src 'unsafe-inline' 'self'; frame-ancestors 'none'")
          .header('x-content-type-options', 'nosniff')
          .send(home),
      );
    }

    app.get(
      '/avatars/:id.svg',
      { schema: { tags: ['users'], summary: 'Default avatar (initials; one neutral picture for every id without credentials)', security: [], params: T.Object({ id: Id }) } },
      async (request, reply) => {
        // Anonymous requests get one neutral picture for every id, so they learn neither which
        // ids exist nor anyone's initials; signed-in users see initials (404 for unknown ids).
        if (!request.user) {
          return reply
            .type('image/svg+xml')
            .header('cache-control', 'private, max-age=300')
            .header('vary', 'Cookie, Authorization')
            .header('x-content-type-options', 'nosniff')
            .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
            .send(ANONYMOUS_AVATAR);
        }
        const user = await core.users.get(request.params.id);
        if (!user) throw notFound();
        return reply
          .type('image/svg+xml')
          .header('cache-control', 'private, max-age=3600')
          .header('vary', 'Cookie, Authorization')
          .header('x-content-type-options', 'nosniff')
          .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
          .send(avatarSvg(user.id, core.users.displayName(user)));
      },
    );
  };

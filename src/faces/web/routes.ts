import { Type as T } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { notFound } from '../../core/index.js';
import { type FaceDeps, typed } from '../http/face-deps.js';
import { Id } from '../http/schemas.js';
import { avatarSvg } from './avatar.js';
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
      { schema: { tags: ['users'], summary: 'Default avatar (initials)', security: [], params: T.Object({ id: Id }) } },
      async (request, reply) => {
        const user = await core.users.get(request.params.id);
        if (!user) throw notFound();
        return reply
          .type('image/svg+xml')
          .header('cache-control', 'public, max-age=3600')
          .header('x-content-type-options', 'nosniff')
          .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
          .send(avatarSvg(user.id, core.users.displayName(user)));
      },
    );
  };

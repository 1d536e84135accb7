import { Type as T } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { type User, featureDisabled } from '../../core/index.js';
import { SESSION_COOKIE, requireUser } from '../http/authenticate.js';
import { type FaceDeps, typed } from '../http/face-deps.js';
import { userDetail } from '../http/present.js';
import { ErrorDetail, ErrorInvalid, UserDetail } from '../http/schemas.js';

const Credentials = T.Object(
  {
    username: T.String({ minLength: 1, maxLength: 150 }),
    password: T.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);

const Registration = T.Object(
  {
    username: T.String({ minLength: 1, maxLength: 150 }),
    password: T.String({ minLength: 1, maxLength: 1024 }),
    email: T.Optional(T.String({ maxLength: 254 })),
    display_name: T.Optional(T.String({ maxLength: 150 })),
  },
  { additionalProperties: false },
);

const UserAndToken = T.Object({ user: UserDetail, token: T.String() });
const tags = ['auth'];

/**
 * Built-in accounts: `/auth/register`, `/auth/login`, `/auth/logout`, `/auth/me`. `me` and
 * `logout` also serve users from the host (`authenticate`, JWT); register and login are 403
 * with `builtInAccounts: false`.
 */
export const authFace =
  ({ core, accounts, config }: FaceDeps): FastifyPluginAsync =>
  async (scope) => {
    const app = typed(scope);

    /**
     * With `builtInAccounts: false` there are no Parley passwords: registering and signing in
     * answer 403 with a detail saying so, as every setting that turns a feature off does.
     */
    const builtInOnly = () => {
      if (!config.builtInAccounts) {
        throw featureDisabled('Built-in accounts are turned off: sign in through the host application.');
      }
    };

    /** Issues a session token and sets it as the HttpOnly cookie; API clients use the token. */
    const signIn = async (request: FastifyRequest, reply: FastifyReply, user: User) => {
      const token = await accounts.issueToken(user, 'session');
      reply.setCookie(SESSION_COOKIE, token, {
        httpOnly: true,
        sameSite: 'lax',
        path: '/',
        // `request.protocol` reads X-Forwarded-Proto only with `trustProxy`.
        secure: request.protocol === 'https' || (config.publicUrl?.startsWith('https://') ?? false),
        maxAge: Math.round(config.sessionTtlDays * 86_400),
      });
      return { user: userDetail(core, user), token };
    };

    app.post(
      '/register',
      {
        schema: {
          tags,
          summary: 'Create an account and sign in',
          security: [],
          body: Registration,
          response: { 201: UserAndToken, 400: ErrorInvalid, 403: ErrorDetail },
        },
      },
      async (request, reply) => {
        builtInOnly();
        const b = request.body;
        const user = await accounts.register({ username: b.username, password: b.password, email: b.email, displayName: b.display_name });
        return reply.code(201).send(await signIn(request, reply, user));
      },
    );

    app.post(
      '/login',
      {
        schema: {
          tags,
          summary: 'Sign in with username and password',
          security: [],
          body: Credentials,
          description: 'Throttled by `loginThrottle`: 429 + `Retry-After` when an address or a username has used its budget.',
          response: { 200: UserAndToken, 400: ErrorInvalid, 401: ErrorDetail, 403: ErrorDetail, 429: ErrorDetail },
        },
      },
      async (request, reply) => {
        builtInOnly();
        const user = await accounts.login(request.body.username, request.body.password, request.ip);
        return signIn(request, reply, user);
      },
    );

    app.post(
      '/logout',
      { schema: { tags, summary: 'Revoke the token or session used for this request', response: { 204: T.Null(), 401: ErrorDetail } } },
      async (request, reply) => {
        requireUser(request);
        if (request.authToken) await accounts.revoke(request.authToken);
        reply.clearCookie(SESSION_COOKIE, { path: '/' });
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/me',
      { schema: { tags, summary: 'The signed-in user', response: { 200: UserDetail, 401: ErrorDetail } } },
      async (request) => userDetail(core, requireUser(request)),
    );
  };

import type { IncomingMessage } from 'node:http';
import type { Core, HostIdentity, User } from '../core/index.js';
import { ParleyError } from '../core/errors.js';
import type { Accounts } from './accounts.js';
import { JwtRejected, type JwtVerifier, looksLikeJwt } from './jwt.js';

/**
 * The host application's sign-in, run for every HTTP request and every WebSocket upgrade:
 * return the request's user (from the host's session cookie, a header, anything), or
 * null/undefined to let Parley's own credentials decide. Throwing answers 401 (and is logged).
 */
export type HostAuthenticate = (
  request: IncomingMessage,
) => HostIdentity | null | undefined | Promise<HostIdentity | null | undefined>;

/** Credentials a transport found on a request, before anyone checked them. */
export interface Credentials {
  /** Token from `Authorization: Token|Bearer <t>`; null without the header. Wins over the cookie. */
  headerToken: string | null;
  /** The Authorization header was there but not in a form Parley reads (HTTP answers 401 for it). */
  badHeader: boolean;
  /** `?token=` (WebSockets, SSE and long-poll only); wins over the header, as it always has on WebSockets. */
  queryToken: string | null;
  /** The session cookie. */
  cookieToken: string | null;
}

/** Who a request is, or why its credentials failed. */
export interface AuthOutcome {
  user: User | null;
  /** Shown as the 401 detail when credentials were sent but did not authenticate. */
  problem: string | null;
  /** A Parley token that authenticated (so logout can revoke it). */
  token: string | null;
}

export interface RequestAuthenticatorOptions {
  core: Core;
  accounts: Accounts;
  /** Whether Parley's own tokens and session cookies count. */
  builtInAccounts: boolean;
  authenticate?: HostAuthenticate | undefined;
  jwt?: JwtVerifier | null | undefined;
  log: { warn(obj: object, msg: string): void };
}

const NONE: AuthOutcome = { user: null, problem: null, token: null };

/**
 * Decides who a request is, the same way for every transport: the host's `authenticate`
 * first; then a JWT (a token with three dot-separated parts, when `jwt` is configured) from
 * the header, `?token=` or the cookie; then Parley's own tokens (when built-in accounts are on).
 * Users the host names are provisioned on first sight by their external id.
 */
export class RequestAuthenticator {
  constructor(private readonly o: RequestAuthenticatorOptions) {}

  async authenticate(request: IncomingMessage, credentials: Credentials): Promise<AuthOutcome> {
    if (this.o.authenticate) {
      let identity: HostIdentity | null | undefined;
      try {
        identity = await this.o.authenticate(request);
      } catch (err) {
        this.o.log.warn({ err }, 'host authenticate() threw; answering 401');
        return { ...NONE, problem: 'Authentication failed.' };
      }
      if (identity !== null && identity !== undefined) return this.hostUser(identity, 'host authenticate()');
    }
    if (credentials.queryToken === null && credentials.badHeader) return { ...NONE, problem: 'Invalid token header.' };
    const token = credentials.queryToken ?? credentials.headerToken ?? credentials.cookieToken;
    if (token === null || token === '') return NONE;
    if (this.o.jwt && looksLikeJwt(token)) {
      let identity: HostIdentity;
      try {
        identity = await this.o.jwt.verify(token);
      } catch (err) {
        if (err instanceof JwtRejected) return { ...NONE, problem: err.message };
        throw err;
      }
      return this.hostUser(identity, 'JWT');
    }
    if (!this.o.builtInAccounts) return { ...NONE, problem: 'Invalid token.' };
    const user = await this.o.accounts.userForToken(token);
    return user ? { user, problem: null, token } : { ...NONE, problem: await this.o.accounts.tokenProblem(token) };
  }

  /** The Parley user for a host identity; an unusable identity is a 401, logged for the host. */
  private async hostUser(identity: HostIdentity, source: string): Promise<AuthOutcome> {
    let user: User;
    try {
      user = await this.o.core.users.provision(identity);
    } catch (err) {
      if (err instanceof ParleyError && err.code === 'validation') {
        this.o.log.warn({ err }, `${source} returned an unusable identity; answering 401`);
        return { ...NONE, problem: 'Authentication failed.' };
      }
      throw err;
    }
    if (!user.isActive) return { ...NONE, problem: 'User inactive or deleted.' };
    return { user, problem: null, token: null };
  }
}

/** Splits an `Authorization` header into Parley's token, or says it is not one Parley reads. */
export function parseAuthorization(header: string | undefined): { headerToken: string | null; badHeader: boolean } {
  if (header === undefined) return { headerToken: null, badHeader: false };
  const m = /^(?:Token|Bearer)\s+(\S+)\s*$/i.exec(header);
  return m?.[1] ? { headerToken: m[1], badHeader: false } : { headerToken: null, badHeader: true };
}

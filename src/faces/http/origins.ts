/**
 * Who may call Parley from a browser page, decided once for CORS, CSRF and WebSocket upgrades
 * from `allowedOrigins` (entries are checked to be exact origins when the config loads):
 * - `own`: the page is Parley's own (the Origin's host is the request's Host);
 * - `listed`: an origin in `allowedOrigins`; it may send the visitor's cookie;
 * - `any`: `allowedOrigins` holds "*": any other site may call with a token, never with the
 *   cookie (a page elsewhere must not act as the signed-in visitor);
 * - `refused`: none of these.
 */
export type OriginVerdict = 'own' | 'listed' | 'any' | 'refused';

export class OriginPolicy {
  private readonly listed: Set<string>;
  private readonly wildcard: boolean;

  constructor(allowedOrigins: readonly string[], private readonly publicUrl: string | null = null) {
    this.listed = new Set(allowedOrigins.filter((o) => o !== '*'));
    this.wildcard = allowedOrigins.includes('*');
  }

  verdict(origin: string, host: string | undefined): OriginVerdict {
    if (this.listed.has(origin)) return 'listed';
    try {
      const u = new URL(origin);
      if ((host !== undefined && u.host === host) || (this.publicUrl !== null && u.origin === new URL(this.publicUrl).origin)) return 'own';
    } catch {
      return 'refused';
    }
    return this.wildcard ? 'any' : 'refused';
  }
}

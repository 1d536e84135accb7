import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import type { Credentials, RequestAuthenticator, Revocations } from '../../auth/index.js';
import type { UserId } from '../../core/index.js';

export interface SessionGuardOptions {
  authenticator: RequestAuthenticator;
  revocations: Revocations;
  log: { warn(obj: object, msg: string): void };
}

interface Tracked {
  ws: WebSocket;
  userId: UserId;
  /** The face's "not authenticated" close code (4001 on both protocols). */
  closeCode: number;
  request: IncomingMessage;
  credentials: Credentials;
  /** The Parley token that authenticated the socket, if one did. */
  token: string | null;
}

/** The close reason a client sees when its credentials stop counting. */
export const SESSION_ENDED = 'Session ended: signed out, expired or deactivated.';

/**
 * Ends WebSockets whose credentials no longer hold: at once when this process revokes their
 * token (logout), and at each `check()` otherwise, which asks the same authenticator the
 * upgrade asked, with the upgrade's credentials: an expired session or JWT, a deactivated user,
 * a token revoked on another process, or a host `authenticate` that now says no. Such a socket
 * is closed with its face's unauthenticated code (4001).
 */
export class SessionGuard {
  private readonly tracked = new Set<Tracked>();
  private checking: Promise<void> | null = null;

  constructor(private readonly o: SessionGuardOptions) {
    o.revocations.on(({ token }) => {
      for (const t of this.tracked) if (t.token === token) this.end(t);
    });
  }

  /** Watches a socket until it closes. */
  track(entry: Tracked): void {
    this.tracked.add(entry);
    entry.ws.once('close', () => this.tracked.delete(entry));
  }

  /** Re-authenticates every socket (one at a time, so a check costs no more than one upgrade each). */
  check(): Promise<void> {
    this.checking ??= (async () => {
      try {
        for (const t of [...this.tracked]) {
          if (!this.tracked.has(t)) continue;
          try {
            const outcome = await this.o.authenticator.authenticate(t.request, t.credentials);
            if (outcome.user?.id !== t.userId) this.end(t);
          } catch (err) {
            // A store hiccup is not a reason to cut anyone off; the next check asks again.
            this.o.log.warn({ err }, 'websocket session check failed');
          }
        }
      } finally {
        this.checking = null;
      }
    })();
    return this.checking;
  }

  private end(t: Tracked): void {
    this.tracked.delete(t);
    t.ws.close(t.closeCode, SESSION_ENDED);
  }
}

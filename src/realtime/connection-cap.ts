import type { UserId } from '../core/index.js';

/**
 * How many live connections (WebSockets of both faces, SSE streams, waiting long-polls) one
 * user holds on this process, capped at `max` (the `maxConnectionsPerUser` setting): a client
 * that reconnects in a loop, or one token handed to thousands of scripts, cannot make the
 * server hold unbounded sockets for one account.
 */
export class ConnectionCap {
  private readonly counts = new Map<UserId, number>();

  constructor(readonly max: number) {}

  /**
   * Takes a slot for `userId`: the function that gives it back (calling it again does
   * nothing), or null when the user holds `max` connections already.
   */
  acquire(userId: UserId): (() => void) | null {
    const held = this.counts.get(userId) ?? 0;
    if (held >= this.max) return null;
    this.counts.set(userId, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const now = (this.counts.get(userId) ?? 1) - 1;
      if (now > 0) this.counts.set(userId, now);
      else this.counts.delete(userId);
    };
  }

  /** The connections `userId` holds now. */
  held(userId: UserId): number {
    return this.counts.get(userId) ?? 0;
  }
}

/** A credential that stopped counting: a Parley token revoked by logout. */
export interface Revocation {
  token: string;
}

/**
 * Tells whoever holds long-lived connections that credentials were revoked, so a socket opened
 * with them ends at once instead of at its next periodic check. In-process only: other processes
 * notice at their next check (`SessionGuard`).
 */
export class Revocations {
  private readonly listeners = new Set<(r: Revocation) => void>();

  /** Subscribes; returns the unsubscribe function. */
  on(listener: (r: Revocation) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(revocation: Revocation): void {
    for (const l of this.listeners) l(revocation);
  }
}

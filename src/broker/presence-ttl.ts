/**
 * Presence entries belong to a process (a node) and expire unless that process keeps
 * refreshing them, so the users of a killed process do not stay online forever.
 */

/** How long a node's presence outlives its last refresh, by default. */
export const DEFAULT_PRESENCE_TTL_MS = 30_000;

/** How often a node refreshes its presence: three chances before it expires. */
export function refreshEvery(ttlMs: number): number {
  return Math.max(10, Math.floor(ttlMs / 3));
}

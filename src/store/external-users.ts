import { createHash } from 'node:crypto';
import type { ExternalUserInput } from '../core/ports/store.js';
import type { User } from '../core/types.js';

/** Usernames are at most this long (the built-in accounts' rule). */
const USERNAME_MAX = 150;
/** Numbered suffixes tried before falling back to one derived from the external id. */
const NUMBERED = 20;

/**
 * The usernames `upsertExternalUser` tries, in order: the wanted one, `name_2` … `name_20`,
 * then `name_<hash>` and `name_<hash>_2` … from the external id. Every store tries the same
 * list, so the outcome of a collision is the same on SQLite and PostgreSQL.
 */
export function usernameCandidates(wanted: string, externalId: string): string[] {
  const withSuffix = (suffix: string) => `${wanted.slice(0, USERNAME_MAX - suffix.length)}${suffix}`;
  const out = [wanted.slice(0, USERNAME_MAX)];
  for (let n = 2; n <= NUMBERED; n++) out.push(withSuffix(`_${n}`));
  const hash = createHash('sha256').update(externalId).digest('hex').slice(0, 10);
  out.push(withSuffix(`_${hash}`));
  for (let n = 2; n <= NUMBERED; n++) out.push(withSuffix(`_${hash}_${n}`));
  return out;
}

/**
 * The profile changes a stored external user needs, given the resolved username. Only fields
 * the host set (not undefined) and that differ are included.
 */
export function externalUserPatch(
  user: User,
  input: ExternalUserInput,
  username: string,
): { username?: string; displayName?: string; email?: string; avatarUrl?: string | null } {
  const patch: { username?: string; displayName?: string; email?: string; avatarUrl?: string | null } = {};
  if (username !== user.username) patch.username = username;
  if (input.displayName !== undefined && input.displayName !== user.displayName) patch.displayName = input.displayName;
  if (input.email !== undefined && input.email !== user.email) patch.email = input.email;
  if (input.avatarUrl !== undefined && input.avatarUrl !== user.avatarUrl) patch.avatarUrl = input.avatarUrl;
  return patch;
}

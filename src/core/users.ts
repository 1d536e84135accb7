import type { CoreContext } from './context.js';
import { ParleyError, invalid } from './errors.js';
import type { ExternalUserInput } from './ports/store.js';
import type { HostIdentity, UserDirectory } from './ports/user-directory.js';
import type { User, UserId } from './types.js';

const SEARCH_LIMIT = 20;
const EXTERNAL_ID_MAX = 255;
const USERNAME_MAX = 150;
const DISPLAY_NAME_MAX = 150;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** User lookups for the faces, through the configured display-name and avatar hooks. */
export class Users {
  constructor(
    private readonly ctx: CoreContext,
    /** The host's user directory, if it has one (`CoreOptions.directory`). */
    private readonly directory: UserDirectory = {},
  ) {}

  async get(id: UserId): Promise<User | null> {
    return this.ctx.store.getUser(id);
  }

  /** The users with these ids, by id; unknown ids are absent. */
  async byIds(ids: Iterable<UserId>): Promise<Map<UserId, User>> {
    const users = await this.ctx.store.getUsers([...new Set(ids)]);
    return new Map(users.map((u) => [u.id, u]));
  }

  /**
   * Other active users matching name, username or email. With a directory that can search, the
   * host's directory answers (its users are provisioned); otherwise Parley's own users.
   */
  async search(actor: User, query: string): Promise<User[]> {
    const q = query.trim();
    if (q === '') throw invalid('q', 'This query parameter is required.');
    const found = this.directory.search
      ? await this.provisionAll(await this.directory.search(q, SEARCH_LIMIT + 1))
      : await this.ctx.store.searchUsers(q, SEARCH_LIMIT + 1);
    return found.filter((u) => u.id !== actor.id && u.isActive).slice(0, SEARCH_LIMIT);
  }

  /**
   * The Parley users of these host ids, by host id. Ids Parley has not seen are asked of the
   * directory's `lookup` (and provisioned); ids nobody knows are absent.
   */
  async byExternalIds(externalIds: Iterable<string>): Promise<Map<string, User>> {
    const out = new Map<string, User>();
    const missing: string[] = [];
    for (const id of new Set(externalIds)) {
      const user = await this.ctx.store.getUserByExternalId(id);
      if (user) out.set(id, user);
      else missing.push(id);
    }
    if (missing.length > 0 && this.directory.lookup) {
      const wanted = new Set(missing);
      for (const identity of await this.directory.lookup(missing)) {
        if (!wanted.has(identity.id)) continue;
        out.set(identity.id, await this.provision(identity));
      }
    }
    return out;
  }

  /**
   * The Parley user for a host identity: created on first sight, its profile updated when the
   * host's changed. Throws `validation` for an identity without a usable id.
   */
  async provision(identity: HostIdentity): Promise<User> {
    return this.ctx.store.upsertExternalUser({ ...normalizeIdentity(identity), now: this.ctx.now() });
  }

  displayName(user: User): string {
    return this.ctx.settings.displayName(user);
  }

  avatarUrl(user: User): string {
    return this.ctx.settings.avatarUrl(user);
  }

  /** Provisions in order; one host entry that cannot be used is left out, not fatal. */
  private async provisionAll(identities: readonly HostIdentity[]): Promise<User[]> {
    const users: User[] = [];
    const seen = new Set<UserId>();
    for (const identity of identities) {
      let user: User;
      try {
        user = await this.provision(identity);
      } catch (e) {
        if (e instanceof ParleyError && e.code === 'validation') continue;
        throw e;
      }
      if (!seen.has(user.id)) users.push(user);
      seen.add(user.id);
    }
    return users;
  }
}

/**
 * A host identity made safe to store: the id checked, the username reduced to the characters
 * usernames allow, display name and email trimmed (an email that is not one is dropped), and
 * avatar URLs limited to http(s) and root-relative ones.
 */
export function normalizeIdentity(identity: HostIdentity): Omit<ExternalUserInput, 'now'> {
  const id = typeof identity?.id === 'string' ? identity.id.trim() : typeof identity?.id === 'number' ? String(identity.id) : '';
  if (id === '' || id.length > EXTERNAL_ID_MAX) {
    throw invalid('id', `A host identity needs an "id": a non-empty string of at most ${EXTERNAL_ID_MAX} characters.`);
  }
  const rawName = typeof identity.username === 'string' && identity.username.trim() !== '' ? identity.username.trim() : id;
  const username = rawName.replace(/[^\p{L}\p{N}_.@+-]/gu, '_').slice(0, USERNAME_MAX) || 'user';
  const out: Omit<ExternalUserInput, 'now'> = { externalId: id, username };
  if (typeof identity.displayName === 'string' && identity.displayName.trim() !== '') {
    out.displayName = identity.displayName.trim().slice(0, DISPLAY_NAME_MAX);
  }
  if (typeof identity.email === 'string') {
    const email = identity.email.trim();
    out.email = email === '' || EMAIL.test(email) ? email : '';
  }
  if (identity.avatarUrl === null) out.avatarUrl = null;
  else if (typeof identity.avatarUrl === 'string' && /^(https?:\/\/|\/(?!\/))/i.test(identity.avatarUrl.trim())) {
    out.avatarUrl = identity.avatarUrl.trim();
  }
  return out;
}

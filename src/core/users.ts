import type { CoreContext } from './context.js';
import { invalid } from './errors.js';
import type { User, UserId } from './types.js';

const SEARCH_LIMIT = 20;

/** User lookups for the faces, through the configured display-name and avatar hooks. */
export class Users {
  constructor(private readonly ctx: CoreContext) {}

  async get(id: UserId): Promise<User | null> {
    return this.ctx.store.getUser(id);
  }

  /** The users with these ids, by id; unknown ids are absent. */
  async byIds(ids: Iterable<UserId>): Promise<Map<UserId, User>> {
    const users = await this.ctx.store.getUsers([...new Set(ids)]);
    return new Map(users.map((u) => [u.id, u]));
  }

  /** Other active users matching name, username or email. */
  async search(actor: User, query: string): Promise<User[]> {
    const q = query.trim();
    if (q === '') throw invalid('q', 'This query parameter is required.');
    const found = await this.ctx.store.searchUsers(q, SEARCH_LIMIT + 1);
    return found.filter((u) => u.id !== actor.id).slice(0, SEARCH_LIMIT);
  }

  displayName(user: User): string {
    return this.ctx.settings.displayName(user);
  }

  avatarUrl(user: User): string {
    return this.ctx.settings.avatarUrl(user);
  }
}

import type { Core, User } from '../../core/index.js';

/** The user shapes both HTTP faces share. Names and avatars go through the core's hooks. */
export const userSummary = (core: Core, u: User) => ({
  id: u.id,
  username: u.username,
  display_name: core.users.displayName(u),
  avatar_url: core.users.avatarUrl(u),
});

export const userDetail = (core: Core, u: User) => ({ ...userSummary(core, u), email: u.email });

export const iso = (d: Date): string => d.toISOString();

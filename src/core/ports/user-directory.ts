/**
 * A user as the host application describes it: from its `authenticate` function, from the
 * claims of a JWT, or from its user directory. Parley provisions a user for it on first sight
 * and finds that user again by `id` (the host's id, kept as the user's external id).
 */
export interface HostIdentity {
  /** The host's own stable id for the user (any string up to 255 characters). */
  id: string;
  /** Wanted username; defaults to `id`. Characters outside letters, digits and `@.+-_` become `_`; suffixed (`_2`…) if another user has it. */
  username?: string | undefined;
  /** Defaults to the username on first sight; left as is when absent later. */
  displayName?: string | undefined;
  email?: string | undefined;
  /** An `http(s)://` or root-relative URL; `null` removes it (the default avatar is used). */
  avatarUrl?: string | null | undefined;
}

/**
 * The host application's user database, answering for Parley: user search (the REST user
 * search, the UI's "start a DM" search) and lookups by the host's ids. Every user returned is
 * provisioned (created or updated) in Parley and handed on as a Parley user.
 */
export interface UserDirectory {
  /** The users with these host ids; unknown ids are simply absent. */
  lookup?(externalIds: string[]): Promise<HostIdentity[]>;
  /** Users matching `query` (already trimmed, never empty), at most `limit` of them. */
  search?(query: string, limit: number): Promise<HostIdentity[]>;
}

import type { User, UserId } from './types.js';

/**
 * The settings the core obeys. They mirror the seed packages' settings in camelCase; the
 * config module fills them from the file, the environment and code.
 */
export interface CoreSettings {
  /** `MESSAGE_SOFT_DELETE`: keep deleted messages (flagged) instead of removing them. */
  messageSoftDelete: boolean;
  /** `ENABLE_NOTIFICATION`: pending notifications on connect (real-time protocol). */
  enableNotification: boolean;
  /** `DIRECTMESSAGES_ALLOWED_RECIPIENTS`: null or [] = anyone may message anyone. */
  allowedRecipients: UserId[] | null;
  enableDms: boolean;
  enableChatRooms: boolean;
  showDeletedMessageIndicators: boolean;
  allowRenamingChatRooms: boolean;
  allowRenamingDms: boolean;
  allowEditingOwnMessages: boolean;
  allowDeletingOwnMessages: boolean;
  allowAddingReactions: boolean;
  /** Longest message content, in characters. */
  messageMaxLength: number;
  /** Most members a group, channel or room may have. */
  maxMembers: number;
  /**
   * Contact-list hook: may `user` start a DM with `candidate`? Default: any active user but
   * themself. Replace it to limit DMs to friends, staff, the same organisation…
   */
  canContact: (user: User, candidate: User) => boolean | Promise<boolean>;
  /** How a user's name is shown. Default: the display name, else the username. */
  displayName: (user: User) => string;
  /** A user's avatar URL. Default: their own, else an SVG with their initials. */
  avatarUrl: (user: User) => string;
}

export const defaultCoreSettings: CoreSettings = {
  messageSoftDelete: false,
  enableNotification: true,
  allowedRecipients: null,
  enableDms: true,
  enableChatRooms: true,
  showDeletedMessageIndicators: true,
  allowRenamingChatRooms: true,
  allowRenamingDms: true,
  allowEditingOwnMessages: true,
  allowDeletingOwnMessages: true,
  allowAddingReactions: true,
  messageMaxLength: 10_000,
  maxMembers: 10_000,
  canContact: (user, candidate) => candidate.isActive && candidate.id !== user.id,
  displayName: (user) => user.displayName || user.username,
  avatarUrl: (user) => user.avatarUrl ?? `/avatars/${user.id}.svg`,
};

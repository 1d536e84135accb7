import type { CoreSettings } from './settings.js';
import type { Conversation, Member, Message, User } from './types.js';

/** What a permission check knows: who asks, about which conversation, as which member. */
export interface PolicyContext {
  actor: User;
  conversation: Conversation;
  /** The actor's membership, or null when they are not a member. */
  member: Member | null;
}

/** Which membership change `haveRoomPermissionsToAddOrRemoveMembers` is asked about. */
export type MembersAction = 'add' | 'remove';

/** Which room-wide change `haveAdminPrivileges` is asked about. */
export type AdminAction = 'modify' | 'delete';

/**
 * Every permission rule in one object. Faces never decide who may do what: they call the
 * core, which asks the policy. A host can replace any method (see `createPolicy`).
 *
 * Two vocabularies name the same rules, and overriding either one works:
 *
 * - the `can…` methods are what the core calls;
 * - the seed's `PermissionHandler` checks (realtime_chat_messaging, seed 001:
 *   `have_room_permission`, `have_message_permission`, `is_message_sender`,
 *   `have_room_permissions_to_add_or_remove_members`, `have_send_message_permission`,
 *   `have_admin_privileges`) are methods of the same name in camelCase. Each default `can…`
 *   method asks the matching seed check (through `this`, so on the merged policy), and each
 *   default seed check holds the actual rule. Override a seed check and every `can…` that
 *   relies on it follows; override a `can…` and only that one operation changes.
 *
 * A check that answers false for `canView` / `haveRoomPermission` makes the conversation
 * invisible (404); any other false answer is a 403.
 */
export interface Policy {
  /** May the actor see the conversation and its messages? Default: `haveRoomPermission`. */
  canView(ctx: PolicyContext): Promise<boolean>;
  /** May the actor post? Default: `haveSendMessagePermission`. */
  canPost(ctx: PolicyContext): Promise<boolean>;
  /** May the actor rename or otherwise modify the conversation? Default: `haveAdminPrivileges(ctx, 'modify')`. */
  canModify(ctx: PolicyContext): Promise<boolean>;
  /** May the actor delete the whole conversation? Default: `haveAdminPrivileges(ctx, 'delete')`. */
  canDelete(ctx: PolicyContext): Promise<boolean>;
  /** May the actor add members? Default: `haveRoomPermissionsToAddOrRemoveMembers(ctx, 'add')`. */
  canAddMembers(ctx: PolicyContext): Promise<boolean>;
  /** May the actor remove `target`? Default: `haveRoomPermissionsToAddOrRemoveMembers(ctx, 'remove', target)`. */
  canRemoveMember(ctx: PolicyContext, target: Member): Promise<boolean>;
  /** May the actor edit this message? Default: `isMessageSender`. */
  canEditMessage(ctx: PolicyContext, message: Message): Promise<boolean>;
  /** May the actor delete this message for everyone? Default: `isMessageSender`. */
  canDeleteMessage(ctx: PolicyContext, message: Message): Promise<boolean>;
  /** May the actor react to messages in this conversation? Members. */
  canReact(ctx: PolicyContext): Promise<boolean>;

  /**
   * Seed `have_room_permission`: may the actor see the room? Members can; so can anyone for
   * public rooms and channels.
   */
  haveRoomPermission(ctx: PolicyContext): Promise<boolean>;
  /**
   * Seed `have_message_permission`: may the actor access this message (read it, react to it,
   * acknowledge or mark it read)? Asked after the room is visible; false is a 404. Default:
   * `canView`, i.e. whoever sees the room sees its messages.
   */
  haveMessagePermission(ctx: PolicyContext, message: Message): Promise<boolean>;
  /** Seed `is_message_sender`: is the actor the (member) sender of this message? */
  isMessageSender(ctx: PolicyContext, message: Message): Promise<boolean>;
  /**
   * Seed `have_room_permissions_to_add_or_remove_members`. Adding: admins of groups, staff
   * (admins, moderators) of channels and rooms, nobody in DMs. Removing `target`: admins remove
   * anyone; a member may remove themself.
   */
  haveRoomPermissionsToAddOrRemoveMembers(ctx: PolicyContext, action: MembersAction, target?: Member): Promise<boolean>;
  /**
   * Seed `have_send_message_permission`: may the actor post? Members can, except in channels
   * where only admins and moderators post.
   */
  haveSendMessagePermission(ctx: PolicyContext): Promise<boolean>;
  /**
   * Seed `have_admin_privileges`: may the actor `modify` (rename, make public) or `delete`
   * the room? Modify: admins, and both members of a DM (the rename switches are checked by the
   * core). Delete: admins of groups, channels and rooms.
   */
  haveAdminPrivileges(ctx: PolicyContext, action: AdminAction): Promise<boolean>;
}

const isAdmin = (m: Member | null): boolean => m?.role === 'admin';
const isStaff = (m: Member | null): boolean => m?.role === 'admin' || m?.role === 'moderator';

/**
 * The default rules; `overrides` replaces individual methods. Methods call each other
 * through `this`, so an override is seen by every default that relies on it.
 */
export function createPolicy(_settings: CoreSettings, overrides: Partial<Policy> = {}): Policy {
  const base: Policy = {
    async canView(ctx) {
      return this.haveRoomPermission(ctx);
    },
    async canPost(ctx) {
      return this.haveSendMessagePermission(ctx);
    },
    async canModify(ctx) {
      return this.haveAdminPrivileges(ctx, 'modify');
    },
    async canDelete(ctx) {
      return this.haveAdminPrivileges(ctx, 'delete');
    },
    async canAddMembers(ctx) {
      return this.haveRoomPermissionsToAddOrRemoveMembers(ctx, 'add');
    },
    async canRemoveMember(ctx, target) {
      return this.haveRoomPermissionsToAddOrRemoveMembers(ctx, 'remove', target);
    },
    async canEditMessage(ctx, message) {
      return this.isMessageSender(ctx, message);
    },
    async canDeleteMessage(ctx, message) {
      return this.isMessageSender(ctx, message);
    },
    async canReact({ member }) {
      return member !== null;
    },

    async haveRoomPermission({ conversation, member }) {
      return member !== null || (conversation.isPublic && conversation.kind !== 'dm' && conversation.kind !== 'group');
    },
    async haveMessagePermission(ctx) {
      return this.canView(ctx);
    },
    async isMessageSender({ actor, member }, message) {
      return member !== null && message.senderId === actor.id;
    },
    async haveRoomPermissionsToAddOrRemoveMembers({ conversation, member }, action, target) {
      if (action === 'remove') {
        if (member === null || target === undefined) return false;
        return member.userId === target.userId || isAdmin(member);
      }
      if (conversation.kind === 'dm') return false;
      return conversation.kind === 'group' ? isAdmin(member) : isStaff(member);
    },
    async haveSendMessagePermission({ conversation, member }) {
      if (member === null) return false;
      return conversation.kind === 'channel' ? isStaff(member) : true;
    },
    async haveAdminPrivileges({ conversation, member }, action) {
      if (action === 'delete') return conversation.kind !== 'dm' && isAdmin(member);
      // Both members may rename their DM; the rename switches are checked by the core.
      if (member === null) return false;
      return conversation.kind === 'dm' ? true : isAdmin(member);
    },
  };
  return { ...base, ...overrides };
}

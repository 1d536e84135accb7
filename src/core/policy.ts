import type { CoreSettings } from './settings.js';
import type { Conversation, Member, Message, User } from './types.js';

/** What a permission check knows: who asks, about which conversation, as which member. */
export interface PolicyContext {
  actor: User;
  conversation: Conversation;
  /** The actor's membership, or null when they are not a member. */
  member: Member | null;
}

/**
 * Every permission rule in one object. Faces never decide who may do what: they call the
 * core, which asks the policy. A host can replace any method (see `createPolicy`).
 *
 * A check that answers false for `canView` makes the conversation invisible (404); any other
 * false answer is a 403.
 */
export interface Policy {
  /** May the actor see the conversation and its messages? Members can; so can anyone for public rooms and channels. */
  canView(ctx: PolicyContext): Promise<boolean>;
  /** May the actor post? Members can, except in channels where only admins and moderators post. */
  canPost(ctx: PolicyContext): Promise<boolean>;
  /** May the actor rename or otherwise modify the conversation? */
  canModify(ctx: PolicyContext): Promise<boolean>;
  /** May the actor delete the whole conversation? Admins of groups, channels and rooms. */
  canDelete(ctx: PolicyContext): Promise<boolean>;
  /** May the actor add members? Admins (and moderators of channels and rooms). */
  canAddMembers(ctx: PolicyContext): Promise<boolean>;
  /** May the actor remove `target`? Admins remove anyone; a member may remove themself. */
  canRemoveMember(ctx: PolicyContext, target: Member): Promise<boolean>;
  /** May the actor edit this message? Its sender only. */
  canEditMessage(ctx: PolicyContext, message: Message): Promise<boolean>;
  /** May the actor delete this message for everyone? Its sender only. */
  canDeleteMessage(ctx: PolicyContext, message: Message): Promise<boolean>;
  /** May the actor react to messages in this conversation? Members. */
  canReact(ctx: PolicyContext): Promise<boolean>;
}

const isAdmin = (m: Member | null): boolean => m?.role === 'admin';
const isStaff = (m: Member | null): boolean => m?.role === 'admin' || m?.role === 'moderator';

/** The default rules; `overrides` replaces individual methods. */
export function createPolicy(_settings: CoreSettings, overrides: Partial<Policy> = {}): Policy {
  const base: Policy = {
    async canView({ conversation, member }) {
      return member !== null || (conversation.isPublic && conversation.kind !== 'dm' && conversation.kind !== 'group');
    },
    async canPost({ conversation, member }) {
      if (member === null) return false;
      return conversation.kind === 'channel' ? isStaff(member) : true;
    },
    async canModify({ conversation, member }) {
      // Both members may rename their DM; the rename switches are checked by the core.
      if (member === null) return false;
      return conversation.kind === 'dm' ? true : isAdmin(member);
    },
    async canDelete({ conversation, member }) {
      return conversation.kind !== 'dm' && isAdmin(member);
    },
    async canAddMembers({ conversation, member }) {
      if (conversation.kind === 'dm') return false;
      return conversation.kind === 'group' ? isAdmin(member) : isStaff(member);
    },
    async canRemoveMember({ member }, target) {
      if (member === null) return false;
      return member.userId === target.userId || isAdmin(member);
    },
    async canEditMessage({ actor, member }, message) {
      return member !== null && message.senderId === actor.id;
    },
    async canDeleteMessage({ actor, member }, message) {
      return member !== null && message.senderId === actor.id;
    },
    async canReact({ member }) {
      return member !== null;
    },
  };
  return { ...base, ...overrides };
}

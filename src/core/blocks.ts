import { type CoreContext, loadVisible } from './context.js';
import { invalid, notFound } from './errors.js';
import type { ConversationId, User, UserId } from './types.js';

/** One user the actor blocks. */
export interface BlockedUser {
  user: User;
  blockedAt: Date;
}

/** A member's mute of one conversation. */
export interface MuteState {
  muted: boolean;
  /** When the mute ends; null while muted until unmuted (and when not muted). */
  until: Date | null;
}

/**
 * Personal policies: blocks between users and mutes of conversations.
 *
 * Blocking: if A blocks B, B cannot open or write in a DM with A (checked with the other DM
 * rules in `Conversations.checkDmAllowed`), and B's messages disappear for A wherever A reads
 * them (the store's viewer-aware reads leave them out; the real-time hub does not deliver them
 * to A). B is not told. A can still write to B.
 *
 * Muting: a muted conversation still delivers and counts messages as unread, but produces no
 * notifications (no pending notifications on connect).
 */
export class Blocks {
  constructor(private readonly ctx: CoreContext) {}

  /** Blocks `userId`. Blocking twice is not an error; says whether the block is new. */
  async block(actor: User, userId: UserId): Promise<{ user: User; created: boolean }> {
    const user = await this.target(actor, userId);
    const created = await this.ctx.store.blockUser(actor.id, user.id, this.ctx.now());
    return { user, created };
  }

  /** Lifts a block; says whether there was one. */
  async unblock(actor: User, userId: UserId): Promise<{ user: User; removed: boolean }> {
    const user = await this.target(actor, userId);
    return { user, removed: await this.ctx.store.unblockUser(actor.id, user.id) };
  }

  /** The users the actor blocks, oldest block first. */
  async list(actor: User): Promise<BlockedUser[]> {
    const rows = await this.ctx.store.listBlocked(actor.id);
    const users = new Map((await this.ctx.store.getUsers(rows.map((r) => r.blockedId))).map((u) => [u.id, u]));
    return rows.flatMap((r) => {
      const user = users.get(r.blockedId);
      return user ? [{ user, blockedAt: r.createdAt }] : [];
    });
  }

  /** Whether `blockerId` blocks `userId`. */
  async blocks(blockerId: UserId, userId: UserId): Promise<boolean> {
    return (await this.ctx.store.listBlockersOf(userId, [blockerId])).length > 0;
  }

  /** Those of `among` who block `senderId`: they must not receive `senderId`'s messages live. */
  async blockersOf(senderId: UserId, among: readonly UserId[]): Promise<UserId[]> {
    return this.ctx.store.listBlockersOf(senderId, among);
  }

  /** Mutes a conversation the actor is a member of, until `until` (default: until unmuted). */
  async mute(actor: User, conversationId: ConversationId, until: Date | null = null): Promise<MuteState> {
    const pc = await loadVisible(this.ctx, actor, conversationId);
    if (!pc.member) throw notFound();
    if (until !== null && until.getTime() <= this.ctx.now().getTime()) throw invalid('until', 'Must be in the future.');
    await this.ctx.store.setMute(conversationId, actor.id, until, this.ctx.now());
    return { muted: true, until };
  }

  /** Unmutes; unmuting a conversation that is not muted is not an error. */
  async unmute(actor: User, conversationId: ConversationId): Promise<MuteState> {
    const pc = await loadVisible(this.ctx, actor, conversationId);
    if (!pc.member) throw notFound();
    await this.ctx.store.clearMute(conversationId, actor.id);
    return { muted: false, until: null };
  }

  /** The conversations among `conversationIds` (all, when absent) the user has muted right now, with their end. */
  async mutedIn(userId: UserId, conversationIds?: readonly ConversationId[]): Promise<Map<ConversationId, MuteState>> {
    const now = this.ctx.now().getTime();
    const rows = await this.ctx.store.listMutes(userId, conversationIds);
    const out = new Map<ConversationId, MuteState>();
    for (const r of rows) if (r.until === null || r.until.getTime() > now) out.set(r.conversationId, { muted: true, until: r.until });
    return out;
  }

  private async target(actor: User, userId: UserId): Promise<User> {
    if (userId === actor.id) throw invalid('user_id', 'You cannot block yourself.');
    const user = await this.ctx.store.getUser(userId);
    if (!user) throw notFound();
    return user;
  }
}

/**
 * The contract every `Store` implementation passes. It talks to the store through the port
 * only, and asserts the semantics written on the port's doc comments
 * (src/core/ports/store.ts). An implementation runs it with:
 *
 * ```ts
 * runStoreContract('sqlite', async () => {
 *   const store = openSqliteStore({ filename: ':memory:' });
 *   await store.migrate();
 *   return store;
 * });
 * ```
 *
 * `open()` must return a fresh, migrated, empty store; each test gets its own.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type Conversation,
  type ConversationKind,
  type ErrorCode,
  type Member,
  type MemberRole,
  type Message,
  type Store,
  type User,
  type PortableRow,
  type UserId,
  PORTABLE_TABLES,
  ParleyError,
  dmKey,
} from '../../src/core/index.js';

/** Fixed clock: `at(n)` is n seconds after T0, so every ordering in the suite is deterministic. */
const T0 = Date.UTC(2024, 0, 15, 9, 0, 0);
const at = (seconds: number): Date => new Date(T0 + seconds * 1000);

async function expectError(promise: Promise<unknown>, code: ErrorCode): Promise<ParleyError> {
  const error = await promise.then(
    (value) => {
      throw new Error(`expected a ParleyError('${code}'), got a result: ${JSON.stringify(value)}`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ParleyError);
  expect((error as ParleyError).code).toBe(code);
  return error as ParleyError;
}

const must = <T>(value: T | null | undefined, what = 'value'): T => {
  if (value === null || value === undefined) throw new Error(`expected ${what} to exist`);
  return value;
};

export function runStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;

    beforeEach(async () => {
      store = await open();
    });

    afterEach(async () => {
      await store.close();
    });

    // ── helpers (through the port only) ──────────────────────────────────────
    const mkUser = (
      username: string,
      extra: { displayName?: string; email?: string; passwordHash?: string | null; avatarUrl?: string | null; now?: Date } = {},
    ): Promise<User> =>
      store.createUser({
        username,
        displayName: extra.displayName ?? `${username[0]?.toUpperCase() ?? ''}${username.slice(1)}`,
        email: extra.email ?? `${username.toLowerCase()}@example.com`,
        passwordHash: extra.passwordHash ?? null,
        ...(extra.avatarUrl !== undefined ? { avatarUrl: extra.avatarUrl } : {}),
        now: extra.now ?? at(0),
      });

    const mkConversation = (
      members: readonly (User | { user: User; role: MemberRole })[],
      opts: {
        kind?: ConversationKind;
        title?: string | null;
        objectKey?: string | null;
        dmKey?: string | null;
        isPublic?: boolean;
        createdBy?: UserId | null;
        now?: Date;
      } = {},
    ): Promise<Conversation> =>
      store.createConversation({
        kind: opts.kind ?? 'group',
        title: opts.title === undefined ? 'Team' : opts.title,
        objectKey: opts.objectKey ?? null,
        dmKey: opts.dmKey ?? null,
        isPublic: opts.isPublic ?? false,
        createdBy: opts.createdBy === undefined ? (members[0] ? ('user' in members[0] ? members[0].user.id : members[0].id) : null) : opts.createdBy,
        members: members.map((m) => ('user' in m ? { userId: m.user.id, role: m.role } : { userId: m.id, role: 'member' as const })),
        now: opts.now ?? at(0),
      });

    const post = async (
      conversation: Conversation | number,
      sender: User,
      content: string,
      now: Date,
      extra: { clientId?: string | null; parentId?: number | null } = {},
    ): Promise<Message> => {
      const { message } = await store.insertMessage({
        conversationId: typeof conversation === 'number' ? conversation : conversation.id,
        senderId: sender.id,
        content,
        parentId: extra.parentId ?? null,
        clientId: extra.clientId ?? null,
        now,
      });
      return message;
    };

    const seqs = (messages: readonly Message[]): number[] => messages.map((m) => m.seq);
    const ids = <T extends { id: number }>(items: readonly T[]): number[] => items.map((i) => i.id);
    const userIds = (members: readonly Member[]): number[] => members.map((m) => m.userId);

    // ── migrations ───────────────────────────────────────────────────────────
    describe('migrate', () => {
      it('is idempotent: running it again applies nothing and keeps the data', async () => {
        const alice = await mkUser('alice');
        const again = await store.migrate();
        expect(again.applied).toEqual([]);
        const third = await store.migrate();
        expect(third.applied).toEqual([]);
        expect(await store.getUser(alice.id)).toEqual(alice);
      });
    });

    // ── users ────────────────────────────────────────────────────────────────
    describe('users', () => {
      it('createUser returns the stored user with its fields', async () => {
        const u = await store.createUser({
          username: 'Alice',
          displayName: 'Alice Liddell',
          email: 'alice@example.com',
          passwordHash: 'hash-1',
          now: at(5),
        });
        expect(u).toEqual({
          id: expect.any(Number),
          username: 'Alice',
          displayName: 'Alice Liddell',
          email: 'alice@example.com',
          avatarUrl: null,
          isActive: true,
          createdAt: at(5),
        });
        expect(u).not.toHaveProperty('passwordHash');
        expect(await store.getUser(u.id)).toEqual(u);

        const withAvatar = await mkUser('bob', { avatarUrl: 'https://cdn.example.com/bob.png' });
        expect(withAvatar.avatarUrl).toBe('https://cdn.example.com/bob.png');
        expect(withAvatar.id).not.toBe(u.id);
      });

      it('createUser throws conflict (details.username) for a taken username, whatever its case', async () => {
        const alice = await mkUser('alice', { displayName: 'The first Alice' });
        const e = await expectError(mkUser('alice', { displayName: 'Impostor' }), 'conflict');
        expect(e.details?.username?.length).toBeGreaterThan(0);
        await expectError(mkUser('ALICE', { displayName: 'Impostor' }), 'conflict');
        await expectError(mkUser('aLiCe', { displayName: 'Impostor' }), 'conflict');
        // The failed attempts changed nothing.
        const stored = must(await store.getUserByUsername('Alice'));
        expect(stored.id).toBe(alice.id);
        expect(stored.displayName).toBe('The first Alice');
        // A different name is fine.
        expect((await mkUser('alice2')).id).not.toBe(alice.id);
      });

      it('getUser returns null for an unknown id', async () => {
        expect(await store.getUser(424242)).toBeNull();
      });

      it('getUserByUsername is case-insensitive and includes the password hash', async () => {
        const alice = await mkUser('Alice', { passwordHash: 'scrypt$secret' });
        const found = must(await store.getUserByUsername('aLICE'));
        expect(found).toEqual({ ...alice, passwordHash: 'scrypt$secret' });
        expect(await store.getUserByUsername('Alice')).toEqual(found);
        expect(await store.getUserByUsername('nobody')).toBeNull();

        const bob = await mkUser('bob');
        expect(must(await store.getUserByUsername('BOB')).passwordHash).toBeNull();
        expect(must(await store.getUserByUsername('BOB')).id).toBe(bob.id);
      });

      it('getUsers returns the users found and skips unknown ids', async () => {
        const a = await mkUser('alice');
        const b = await mkUser('bob');
        await mkUser('carol');
        const found = await store.getUsers([b.id, 999_999, a.id]);
        expect(ids(found).sort((x, y) => x - y)).toEqual([a.id, b.id].sort((x, y) => x - y));
        expect(found.find((u) => u.id === a.id)).toEqual(a);
        expect(await store.getUsers([])).toEqual([]);
        expect(await store.getUsers([999_999])).toEqual([]);
      });

      it('searchUsers matches username, display name or email, case-insensitively, ordered by username', async () => {
        const zed = await mkUser('zed', { displayName: 'Zed Smith', email: 'z@corp.test' });
        const amy = await mkUser('amy', { displayName: 'Amy', email: 'amy.smith@corp.test' });
        const smithy = await mkUser('Smithy', { displayName: 'S', email: 's@other.test' });
        await mkUser('bob', { displayName: 'Bob Jones', email: 'bob@other.test' });

        // "smith" is in zed's display name, amy's email and Smithy's username.
        expect(ids(await store.searchUsers('SMITH', 10))).toEqual([amy.id, smithy.id, zed.id]);
        expect(ids(await store.searchUsers('corp.TEST', 10))).toEqual([amy.id, zed.id]);
        expect(ids(await store.searchUsers('jones', 10))).toHaveLength(1);
        expect(await store.searchUsers('nobody-matches-this', 10)).toEqual([]);
      });

      it('searchUsers honours the limit, keeping the first usernames', async () => {
        for (const n of ['dave', 'carl', 'bea', 'anna', 'ed']) await mkUser(n, { email: `${n}@team.test` });
        const page = await store.searchUsers('team.test', 3);
        expect(page.map((u) => u.username)).toEqual(['anna', 'bea', 'carl']);
      });

      it('searchUsers leaves out inactive users', async () => {
        const a = await mkUser('alice');
        const b = await mkUser('alina');
        await store.updateUser(b.id, { isActive: false });
        expect(ids(await store.searchUsers('ali', 10))).toEqual([a.id]);
      });

      it('searchUsers treats % and _ in the query as literal characters', async () => {
        const percent = await mkUser('percent', { displayName: '100% Real' });
        const under = await mkUser('under_score');
        await mkUser('plain', { displayName: '1000 Real' });
        await mkUser('underxscore');

        expect(ids(await store.searchUsers('%', 10))).toEqual([percent.id]);
        expect(ids(await store.searchUsers('0% r', 10))).toEqual([percent.id]);
        expect(ids(await store.searchUsers('_', 10))).toEqual([under.id]);
        expect(ids(await store.searchUsers('r_s', 10))).toEqual([under.id]);
      });

      it('searchUsers is case-insensitive for non-ASCII letters too', async () => {
        const emilie = await mkUser('emilie', { displayName: 'Émilie Durand', email: 'e@example.fr' });
        const jurgen = await mkUser('jurgen', { displayName: 'JÜRGEN', email: 'j@example.de' });
        // Even the exact spelling of the display name must find it.
        expect(ids(await store.searchUsers('Émilie', 10))).toEqual([emilie.id]);
        expect(ids(await store.searchUsers('émilie', 10))).toEqual([emilie.id]);
        expect(ids(await store.searchUsers('jürgen', 10))).toEqual([jurgen.id]);
      });

      it('updateUser changes only the given fields; null clears the avatar; unknown id → null', async () => {
        const alice = await mkUser('alice', { avatarUrl: 'https://x.test/a.png' });
        const renamed = must(await store.updateUser(alice.id, { displayName: 'Alice L.' }));
        expect(renamed).toEqual({ ...alice, displayName: 'Alice L.' });

        const moved = must(await store.updateUser(alice.id, { email: 'new@example.com', avatarUrl: null }));
        expect(moved).toEqual({ ...alice, displayName: 'Alice L.', email: 'new@example.com', avatarUrl: null });

        const off = must(await store.updateUser(alice.id, { isActive: false }));
        expect(off.isActive).toBe(false);
        const on = must(await store.updateUser(alice.id, { isActive: true, avatarUrl: 'https://x.test/b.png' }));
        expect(on).toEqual({ ...moved, avatarUrl: 'https://x.test/b.png', isActive: true });
        expect(await store.getUser(alice.id)).toEqual(on);

        expect(await store.updateUser(999_999, { displayName: 'Ghost' })).toBeNull();
      });

      it('setPasswordHash replaces the hash the auth module reads', async () => {
        const alice = await mkUser('alice', { passwordHash: 'old' });
        await store.setPasswordHash(alice.id, 'new');
        expect(must(await store.getUserByUsername('alice')).passwordHash).toBe('new');
        await expect(store.setPasswordHash(999_999, 'x')).resolves.toBeUndefined();
      });
    });

    // ── users from a host application ────────────────────────────────────────
    describe('external users', () => {
      const ext = (externalId: string, username: string, more: { displayName?: string; email?: string; avatarUrl?: string | null } = {}) =>
        store.upsertExternalUser({ externalId, username, ...more, now: at(5) });

      it('creates a user on first sight and finds it again by external id', async () => {
        expect(await store.getUserByExternalId('host-1')).toBeNull();
        const u = await ext('host-1', 'hanna', { displayName: 'Hanna H', email: 'h@example.com', avatarUrl: 'https://x.test/h.png' });
        expect(u).toMatchObject({ username: 'hanna', displayName: 'Hanna H', email: 'h@example.com', avatarUrl: 'https://x.test/h.png', isActive: true });
        expect(u.createdAt).toEqual(at(5));
        expect(await store.getUserByExternalId('host-1')).toEqual(u);
        expect(await store.getUser(u.id)).toEqual(u);
        // Same id again: the same user, nothing changed.
        expect(await ext('host-1', 'hanna')).toEqual(u);
        // External users have no password, so built-in login can never match them.
        expect((await store.getUserByUsername('hanna'))?.passwordHash).toBeNull();
      });

      it('defaults the display name to the username and the email to empty', async () => {
        const u = await ext('host-2', 'ivo');
        expect(u).toMatchObject({ username: 'ivo', displayName: 'ivo', email: '', avatarUrl: null });
      });

      it('updates the profile fields that changed and keeps the ones left undefined', async () => {
        const u = await ext('host-3', 'jana', { displayName: 'Jana', email: 'j@example.com', avatarUrl: 'https://x.test/j.png' });
        const renamed = await ext('host-3', 'jana.k', { displayName: 'Jana K' });
        expect(renamed).toMatchObject({ id: u.id, username: 'jana.k', displayName: 'Jana K', email: 'j@example.com', avatarUrl: 'https://x.test/j.png' });
        const cleared = await ext('host-3', 'jana.k', { avatarUrl: null, email: '' });
        expect(cleared).toMatchObject({ id: u.id, avatarUrl: null, email: '' });
        expect(await store.getUserByUsername('jana')).toBeNull();
      });

      it('resolves a username taken by a local user with a deterministic suffix, and keeps it', async () => {
        const local = await mkUser('kim');
        await mkUser('kim_2');
        const a = await ext('host-4', 'KIM');
        expect(a.username).toBe('KIM_3');
        const b = await ext('host-5', 'kim');
        expect(b.username).toBe('kim_4');
        // Seen again with the same wanted name: no churn, same suffix.
        expect((await ext('host-4', 'KIM')).username).toBe('KIM_3');
        expect((await store.getUser(local.id))?.username).toBe('kim');
        // A long name stays within 150 characters with its suffix.
        const long = 'l'.repeat(150);
        await ext('host-6', long);
        const c = await ext('host-7', long);
        expect(c.username).toHaveLength(150);
        expect(c.username.endsWith('_2')).toBe(true);
      });

      it('concurrent first requests for one external id end with exactly one user', async () => {
        const results = await Promise.all(Array.from({ length: 8 }, () => ext('host-race', 'racer')));
        const ids = new Set(results.map((u) => u.id));
        expect(ids.size).toBe(1);
        expect(await store.searchUsers('racer', 10)).toHaveLength(1);
      });

      it('concurrent first requests of different users wanting one username all succeed, distinctly', async () => {
        const results = await Promise.all(Array.from({ length: 5 }, (_, i) => ext(`host-same-${i}`, 'sam')));
        expect(new Set(results.map((u) => u.username.toLowerCase())).size).toBe(5);
        expect(new Set(results.map((u) => u.id)).size).toBe(5);
      });

      it('a deactivated external user stays deactivated when seen again', async () => {
        const u = await ext('host-8', 'lea');
        await store.updateUser(u.id, { isActive: false });
        expect((await ext('host-8', 'lea', { displayName: 'Lea' })).isActive).toBe(false);
      });
    });

    // ── tokens ───────────────────────────────────────────────────────────────
    describe('auth tokens', () => {
      it('an unexpired token finds its user; an expired one does not', async () => {
        const alice = await mkUser('alice');
        await store.createToken({ tokenHash: 'h-session', userId: alice.id, kind: 'session', expiresAt: at(3600), now: at(0) });
        expect(await store.getUserByTokenHash('h-session', at(10))).toEqual(alice);
        expect(await store.getUserByTokenHash('h-session', at(3599))).toEqual(alice);
        expect(await store.getUserByTokenHash('h-session', at(3601))).toBeNull();
        expect(await store.getUserByTokenHash('h-unknown', at(10))).toBeNull();
      });

      it('a token without expiry never expires', async () => {
        const alice = await mkUser('alice');
        await store.createToken({ tokenHash: 'h-api', userId: alice.id, kind: 'api', expiresAt: null, now: at(0) });
        expect(await store.getUserByTokenHash('h-api', new Date(Date.UTC(2099, 0, 1)))).toEqual(alice);
      });

      it("an inactive user's token finds nobody, until the user is active again", async () => {
        const alice = await mkUser('alice');
        await store.createToken({ tokenHash: 'h', userId: alice.id, kind: 'api', expiresAt: null, now: at(0) });
        await store.updateUser(alice.id, { isActive: false });
        expect(await store.getUserByTokenHash('h', at(1))).toBeNull();
        await store.updateUser(alice.id, { isActive: true });
        expect(must(await store.getUserByTokenHash('h', at(1))).id).toBe(alice.id);
      });

      it('deleteToken revokes it and says whether it existed', async () => {
        const alice = await mkUser('alice');
        await store.createToken({ tokenHash: 'h1', userId: alice.id, kind: 'session', expiresAt: null, now: at(0) });
        await store.createToken({ tokenHash: 'h2', userId: alice.id, kind: 'session', expiresAt: null, now: at(0) });
        expect(await store.deleteToken('h1')).toBe(true);
        expect(await store.getUserByTokenHash('h1', at(1))).toBeNull();
        expect(await store.deleteToken('h1')).toBe(false);
        // Other tokens of the user keep working.
        expect(must(await store.getUserByTokenHash('h2', at(1))).id).toBe(alice.id);
      });
    });

    // ── conversations ────────────────────────────────────────────────────────
    describe('conversations', () => {
      it('createConversation stores the conversation and its first members', async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const c = await mkConversation([{ user: alice, role: 'admin' }, bob], {
          kind: 'channel',
          title: 'News',
          isPublic: true,
          now: at(7),
        });
        expect(c).toEqual({
          id: expect.any(Number),
          kind: 'channel',
          title: 'News',
          objectKey: null,
          isPublic: true,
          createdBy: alice.id,
          createdAt: at(7),
          updatedAt: at(7),
          lastActivityAt: at(7),
          lastSeq: 0,
        });
        expect(await store.getConversation(c.id)).toEqual(c);
        const members = await store.listMembers(c.id);
        expect(members).toEqual([
          {
            conversationId: c.id,
            userId: alice.id,
            role: 'admin',
            joinedAt: at(7),
            joinedSeq: 0,
            lastReadSeq: 0,
            readAt: null,
            lastDeliveredSeq: 0,
            deliveredAt: null,
          },
          expect.objectContaining({ userId: bob.id, role: 'member', lastReadSeq: 0, lastDeliveredSeq: 0 }),
        ]);
        expect(await store.getConversation(999_999)).toBeNull();
      });

      it('a conversation may start with no members (an object room)', async () => {
        const alice = await mkUser('alice');
        const room = await mkConversation([], { kind: 'room', title: 'product:42', objectKey: 'product:42', isPublic: true, createdBy: alice.id });
        expect(room.objectKey).toBe('product:42');
        expect(await store.countMembers(room.id)).toBe(0);
        expect(await store.getConversationByObjectKey('product:42')).toEqual(room);
        expect(await store.getConversationByObjectKey('product:43')).toBeNull();
      });

      it('getConversationByDmKey finds the DM of a pair, whichever side builds the key', async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const dm = await mkConversation([alice, bob], { kind: 'dm', title: null, dmKey: dmKey(alice.id, bob.id) });
        expect(dmKey(bob.id, alice.id)).toBe(dmKey(alice.id, bob.id));
        expect(await store.getConversationByDmKey(dmKey(bob.id, alice.id))).toEqual(dm);
        expect(await store.getConversationByDmKey('1:999999')).toBeNull();
      });

      it('a second conversation with the same dmKey throws conflict and writes nothing', async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const carol = await mkUser('carol');
        const key = dmKey(alice.id, bob.id);
        const first = await mkConversation([alice, bob], { kind: 'dm', title: null, dmKey: key });
        await expectError(mkConversation([alice, bob, carol], { kind: 'dm', title: null, dmKey: key, now: at(9) }), 'conflict');
        expect(await store.getConversationByDmKey(key)).toEqual(first);
        // Atomic: carol did not become a member of anything.
        expect((await store.listConversations(carol.id, { limit: 10 })).total).toBe(0);
        expect((await store.listConversations(alice.id, { limit: 10 })).total).toBe(1);
      });

      it('a second conversation with the same objectKey throws conflict', async () => {
        const alice = await mkUser('alice');
        const room = await mkConversation([alice], { kind: 'room', objectKey: 'post:1', isPublic: true });
        await expectError(mkConversation([alice], { kind: 'room', objectKey: 'post:1', isPublic: true }), 'conflict');
        expect(await store.getConversationByObjectKey('post:1')).toEqual(room);
        // Many conversations without keys are fine.
        await mkConversation([alice], { kind: 'group' });
        await mkConversation([alice], { kind: 'group' });
        expect((await store.listConversations(alice.id, { limit: 10 })).total).toBe(3);
      });

      it('updateConversation changes title and visibility and stamps updatedAt', async () => {
        const alice = await mkUser('alice');
        const c = await mkConversation([alice], { kind: 'channel', title: 'Old', now: at(0) });
        const renamed = must(await store.updateConversation(c.id, { title: 'New' }, at(30)));
        expect(renamed).toEqual({ ...c, title: 'New', updatedAt: at(30) });
        const opened = must(await store.updateConversation(c.id, { isPublic: true }, at(40)));
        expect(opened).toEqual({ ...c, title: 'New', isPublic: true, updatedAt: at(40) });
        const cleared = must(await store.updateConversation(c.id, { title: null }, at(50)));
        expect(cleared.title).toBeNull();
        expect(cleared.isPublic).toBe(true);
        expect(await store.getConversation(c.id)).toEqual(cleared);
        expect(await store.updateConversation(999_999, { title: 'x' }, at(60))).toBeNull();
      });

      it('deleteConversation removes it with its members, messages and reactions', async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const c = await mkConversation([alice, bob]);
        const other = await mkConversation([alice, bob], { title: 'Keep' });
        const m = await post(c, alice, 'hello', at(1));
        const kept = await post(other, alice, 'still here', at(2));
        await store.toggleReaction(m.id, bob.id, '👍', at(3));

        expect(await store.deleteConversation(c.id)).toBe(true);
        expect(await store.getConversation(c.id)).toBeNull();
        expect(await store.listMembers(c.id)).toEqual([]);
        expect(await store.getMember(c.id, alice.id)).toBeNull();
        expect(await store.getMessage(m.id)).toBeNull();
        expect(await store.listReactions([m.id])).toEqual([]);
        expect(ids((await store.listConversations(alice.id, { limit: 10 })).items)).toEqual([other.id]);
        expect(await store.searchMessages(alice.id, [{ words: ['hello'], prefix: false }], 10)).toEqual([]);
        expect(await store.getMessage(kept.id)).toEqual(kept);
        expect(await store.deleteConversation(c.id)).toBe(false);
      });
    });

    describe('listConversations', () => {
      it("lists only the user's conversations, newest activity first, ties by higher id first", async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const c1 = await mkConversation([alice, bob], { title: 'one', now: at(1) });
        const c2 = await mkConversation([alice], { title: 'two', now: at(2) });
        const c3 = await mkConversation([alice, bob], { title: 'three', now: at(2) }); // ties with c2
        const c4 = await mkConversation([bob], { title: 'not alice', now: at(9) });
        await post(c1, bob, 'wake up', at(5)); // c1 is now the most recent for alice

        const page = await store.listConversations(alice.id, { limit: 10 });
        expect(page.total).toBe(3);
        expect(ids(page.items)).toEqual([c1.id, c3.id, c2.id]);
        expect(page.items[0]?.lastActivityAt).toEqual(at(5));
        expect(ids(page.items)).not.toContain(c4.id);
        expect(await store.listConversations(999_999, { limit: 10 })).toEqual({ total: 0, items: [] });
      });

      it('filters by kind', async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const dm = await mkConversation([alice, bob], { kind: 'dm', title: null, dmKey: dmKey(alice.id, bob.id), now: at(1) });
        const group = await mkConversation([alice, bob], { kind: 'group', now: at(2) });
        const channel = await mkConversation([alice], { kind: 'channel', now: at(3) });
        const room = await mkConversation([alice], { kind: 'room', now: at(4) });

        expect(ids((await store.listConversations(alice.id, { limit: 10, kinds: ['dm'] })).items)).toEqual([dm.id]);
        const some = await store.listConversations(alice.id, { limit: 10, kinds: ['group', 'room'] });
        expect(some.total).toBe(2);
        expect(ids(some.items)).toEqual([room.id, group.id]);
        expect(ids((await store.listConversations(alice.id, { limit: 10 })).items)).toEqual([room.id, channel.id, group.id, dm.id]);
      });

      it("searches titles and the other members' usernames and display names, case-insensitively", async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob', { displayName: 'Robert Tables' });
        const carol = await mkUser('carol', { displayName: 'Carol' });
        const dmBob = await mkConversation([alice, bob], { kind: 'dm', title: null, dmKey: dmKey(alice.id, bob.id), now: at(1) });
        const dmCarol = await mkConversation([alice, carol], { kind: 'dm', title: null, dmKey: dmKey(alice.id, carol.id), now: at(2) });
        const planning = await mkConversation([alice, carol], { title: 'Release Planning', now: at(3) });

        expect(ids((await store.listConversations(alice.id, { limit: 10, search: 'planNING' })).items)).toEqual([planning.id]);
        expect(ids((await store.listConversations(alice.id, { limit: 10, search: 'BOB' })).items)).toEqual([dmBob.id]);
        expect(ids((await store.listConversations(alice.id, { limit: 10, search: 'tables' })).items)).toEqual([dmBob.id]);
        const carolHits = await store.listConversations(alice.id, { limit: 10, search: 'caro' });
        expect(carolHits.total).toBe(2);
        expect(ids(carolHits.items)).toEqual([planning.id, dmCarol.id]);
        expect(await store.listConversations(alice.id, { limit: 10, search: 'zzz' })).toEqual({ total: 0, items: [] });
        // Wildcards are literal.
        expect((await store.listConversations(alice.id, { limit: 10, search: '%' })).total).toBe(0);
        expect((await store.listConversations(alice.id, { limit: 10, search: 'release_planning' })).total).toBe(0);
      });

      it('search is case-insensitive for non-ASCII titles', async () => {
        const alice = await mkUser('alice');
        const c = await mkConversation([alice], { title: 'Équipe Été' });
        // Even the exact spelling of the title must find it.
        expect(ids((await store.listConversations(alice.id, { limit: 10, search: 'Équipe' })).items)).toEqual([c.id]);
        expect(ids((await store.listConversations(alice.id, { limit: 10, search: 'équipe' })).items)).toEqual([c.id]);
        expect(ids((await store.listConversations(alice.id, { limit: 10, search: 'ÉTÉ' })).items)).toEqual([c.id]);
      });

      it('pages with limit and offset; total ignores them', async () => {
        const alice = await mkUser('alice');
        const cs: Conversation[] = [];
        for (let i = 0; i < 5; i++) cs.push(await mkConversation([alice], { title: `c${i}`, now: at(i) }));
        const newestFirst = ids(cs).reverse();

        const p1 = await store.listConversations(alice.id, { limit: 2 });
        expect(p1).toEqual({ total: 5, items: expect.any(Array) });
        expect(ids(p1.items)).toEqual(newestFirst.slice(0, 2));
        const p2 = await store.listConversations(alice.id, { limit: 2, offset: 2 });
        expect(p2.total).toBe(5);
        expect(ids(p2.items)).toEqual(newestFirst.slice(2, 4));
        const p3 = await store.listConversations(alice.id, { limit: 2, offset: 4 });
        expect(ids(p3.items)).toEqual(newestFirst.slice(4));
        expect((await store.listConversations(alice.id, { limit: 0 })).items).toEqual([]);
      });

      it('`after` continues a keyset walk, through ties of lastActivityAt, without gaps or repeats', async () => {
        const alice = await mkUser('alice');
        // Three conversations share one activity time: the tie is broken by id.
        const cs: Conversation[] = [];
        for (const t of [1, 3, 3, 3, 5, 8]) cs.push(await mkConversation([alice], { now: at(t) }));
        const expected = (await store.listConversations(alice.id, { limit: 100 })).items;
        expect(ids(expected)).toEqual([cs[5], cs[4], cs[3], cs[2], cs[1], cs[0]].map((c) => must(c).id));

        const walked: Conversation[] = [];
        let after: { lastActivityAt: Date; id: number } | undefined;
        for (let guard = 0; guard < 10; guard++) {
          const page = await store.listConversations(alice.id, { limit: 2, ...(after ? { after } : {}) });
          expect(page.total).toBe(6);
          if (page.items.length === 0) break;
          walked.push(...page.items);
          const last = must(page.items[page.items.length - 1]);
          after = { lastActivityAt: last.lastActivityAt, id: last.id };
        }
        expect(ids(walked)).toEqual(ids(expected));
      });
    });

    // ── members ──────────────────────────────────────────────────────────────
    describe('members', () => {
      it('getMember returns the membership, or null for a non-member', async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const c = await mkConversation([{ user: alice, role: 'moderator' }]);
        expect(await store.getMember(c.id, alice.id)).toMatchObject({ conversationId: c.id, userId: alice.id, role: 'moderator' });
        expect(await store.getMember(c.id, bob.id)).toBeNull();
        expect(await store.getMember(999_999, alice.id)).toBeNull();
      });

      it('listMembers is in join order, ties by user id', async () => {
        const u1 = await mkUser('u1');
        const u2 = await mkUser('u2');
        const u3 = await mkUser('u3');
        const u4 = await mkUser('u4');
        const c = await mkConversation([u3, u1, u2], { now: at(0) }); // same join time → by id
        await store.addMembers(c.id, [{ userId: u4.id, role: 'member' }], at(10));
        expect(userIds(await store.listMembers(c.id))).toEqual([u1.id, u2.id, u3.id, u4.id]);

        // Someone who joined earlier but has a higher id comes first.
        const late = await mkConversation([u1], { now: at(0) });
        await store.addMembers(late.id, [{ userId: u4.id, role: 'member' }], at(5));
        await store.addMembers(late.id, [{ userId: u2.id, role: 'member' }], at(6));
        expect(userIds(await store.listMembers(late.id))).toEqual([u1.id, u4.id, u2.id]);
        expect(await store.listMembers(999_999)).toEqual([]);
      });

      it('listMembersOf returns the members of several conversations, same order per conversation', async () => {
        const u1 = await mkUser('u1');
        const u2 = await mkUser('u2');
        const u3 = await mkUser('u3');
        const a = await mkConversation([u2, u1]);
        const b = await mkConversation([u3]);
        const c = await mkConversation([u1, u3]);
        await store.addMembers(b.id, [{ userId: u1.id, role: 'member' }], at(5));

        const all = await store.listMembersOf([a.id, b.id]);
        expect(all).toHaveLength(4);
        const of = (id: number): number[] => all.filter((m) => m.conversationId === id).map((m) => m.userId);
        expect(of(a.id)).toEqual(userIds(await store.listMembers(a.id)));
        expect(of(a.id)).toEqual([u1.id, u2.id]);
        expect(of(b.id)).toEqual([u3.id, u1.id]);
        expect(all.some((m) => m.conversationId === c.id)).toBe(false);
        expect(await store.listMembersOf([])).toEqual([]);
      });

      it('countMembers counts current members', async () => {
        const u1 = await mkUser('u1');
        const u2 = await mkUser('u2');
        const c = await mkConversation([u1, u2]);
        expect(await store.countMembers(c.id)).toBe(2);
        await store.removeMember(c.id, u2.id);
        expect(await store.countMembers(c.id)).toBe(1);
        expect(await store.countMembers(999_999)).toBe(0);
      });

      it('addMembers adds only newcomers, keeps existing roles and returns the ids added', async () => {
        const admin = await mkUser('admin');
        const bob = await mkUser('bob');
        const carol = await mkUser('carol');
        const c = await mkConversation([{ user: admin, role: 'admin' }, bob]);
        const added = await store.addMembers(
          c.id,
          [
            { userId: admin.id, role: 'member' },
            { userId: carol.id, role: 'moderator' },
            { userId: bob.id, role: 'admin' },
          ],
          at(20),
        );
        expect(added).toEqual([carol.id]);
        expect(must(await store.getMember(c.id, admin.id)).role).toBe('admin');
        expect(must(await store.getMember(c.id, bob.id)).role).toBe('member');
        expect(await store.getMember(c.id, carol.id)).toMatchObject({ role: 'moderator', joinedAt: at(20) });
        expect(await store.addMembers(c.id, [{ userId: carol.id, role: 'member' }], at(21))).toEqual([]);
        expect(await store.addMembers(999_999, [{ userId: carol.id, role: 'member' }], at(21))).toEqual([]);
      });

      it("new members' read and delivery cursors start at lastSeq, so history is not unread", async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const c = await mkConversation([alice]);
        await post(c, alice, 'one', at(1));
        await post(c, alice, 'two', at(2));
        await post(c, alice, 'three', at(3));
        expect(await store.addMembers(c.id, [{ userId: bob.id, role: 'member' }], at(4))).toEqual([bob.id]);
        expect(await store.getMember(c.id, bob.id)).toMatchObject({ lastReadSeq: 3, lastDeliveredSeq: 3 });
        expect(await store.countUnread(bob.id)).toEqual(new Map());
        await post(c, alice, 'four', at(5));
        expect(await store.countUnread(bob.id)).toEqual(new Map([[c.id, 1]]));
      });

      it("joinedSeq is the lastSeq at the join, and stays there while the member's cursors move", async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const carol = await mkUser('carol');
        const c = await mkConversation([alice, bob]);
        await post(c, alice, 'm1', at(1));
        await store.advanceReadCursor(c.id, bob.id, 1, at(2));
        await store.addMembers(c.id, [{ userId: carol.id, role: 'member' }], at(3));
        // The first members were there from the start; carol joined after m1.
        expect((await store.listMembers(c.id)).map((m) => [m.userId, m.joinedSeq, m.lastReadSeq])).toEqual([
          [alice.id, 0, 1],
          [bob.id, 0, 1],
          [carol.id, 1, 1],
        ]);
        await post(c, alice, 'm2', at(4));
        // A late joiner's unread count starts after the history: m2 only, not m1.
        expect(await store.countUnread(carol.id)).toEqual(new Map([[c.id, 1]]));
        await post(c, carol, 'm3', at(5));
        await store.advanceReadCursor(c.id, carol.id, 3, at(6));
        await store.advanceDeliveryCursor(c.id, carol.id, 3, at(6));
        expect(await store.getMember(c.id, carol.id)).toMatchObject({ joinedSeq: 1, lastReadSeq: 3, lastDeliveredSeq: 3 });
        expect(must(await store.getMember(c.id, bob.id)).joinedSeq).toBe(0);
        // Adding someone already a member changes nothing.
        expect(await store.addMembers(c.id, [{ userId: carol.id, role: 'member' }], at(7))).toEqual([]);
        expect(must(await store.getMember(c.id, carol.id)).joinedSeq).toBe(1);
      });

      it('leaving and joining again starts joinedSeq over at the lastSeq of the new join', async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const c = await mkConversation([alice, bob]);
        await post(c, alice, 'm1', at(1));
        await store.removeMember(c.id, bob.id);
        await post(c, alice, 'm2', at(2));
        await store.addMembers(c.id, [{ userId: bob.id, role: 'member' }], at(3));
        expect(await store.getMember(c.id, bob.id)).toMatchObject({ joinedSeq: 2, lastReadSeq: 2, lastDeliveredSeq: 2 });
        expect(await store.countUnread(bob.id)).toEqual(new Map());
      });

      it('removeMember removes and says whether the user was a member', async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const c = await mkConversation([alice, bob]);
        expect(await store.removeMember(c.id, bob.id)).toBe(true);
        expect(await store.getMember(c.id, bob.id)).toBeNull();
        expect(await store.removeMember(c.id, bob.id)).toBe(false);
        expect(ids((await store.listConversations(bob.id, { limit: 10 })).items)).toEqual([]);
        expect(userIds(await store.listMembers(c.id))).toEqual([alice.id]);
      });

      it('setMemberRole changes a member role and returns false for non-members', async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const c = await mkConversation([alice]);
        expect(await store.setMemberRole(c.id, alice.id, 'moderator')).toBe(true);
        expect(must(await store.getMember(c.id, alice.id)).role).toBe('moderator');
        expect(await store.setMemberRole(c.id, bob.id, 'admin')).toBe(false);
        expect(await store.getMember(c.id, bob.id)).toBeNull();
      });
    });

    // ── messages ─────────────────────────────────────────────────────────────
    describe('messages', () => {
      it('insertMessage numbers messages 1, 2, 3… per conversation', async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const a = await mkConversation([alice, bob]);
        const b = await mkConversation([alice, bob]);
        const got = [
          await post(a, alice, 'a1', at(1)),
          await post(a, bob, 'a2', at(2)),
          await post(b, alice, 'b1', at(3)),
          await post(a, alice, 'a3', at(4)),
          await post(b, bob, 'b2', at(5)),
        ];
        expect(got.map((m) => [m.conversationId, m.seq])).toEqual([
          [a.id, 1],
          [a.id, 2],
          [b.id, 1],
          [a.id, 3],
          [b.id, 2],
        ]);
        expect(new Set(ids(got)).size).toBe(5);
      });

      it('insertMessage returns the stored message', async () => {
        const alice = await mkUser('alice');
        const c = await mkConversation([alice]);
        const parent = await post(c, alice, 'question?', at(1));
        const { message, created } = await store.insertMessage({
          conversationId: c.id,
          senderId: alice.id,
          content: 'answer',
          parentId: parent.id,
          clientId: 'c-1',
          now: at(2),
        });
        expect(created).toBe(true);
        expect(message).toEqual({
          id: expect.any(Number),
          conversationId: c.id,
          seq: 2,
          senderId: alice.id,
          content: 'answer',
          parentId: parent.id,
          clientId: 'c-1',
          createdAt: at(2),
          updatedAt: at(2),
          editedAt: null,
          deletedAt: null,
          forwardedFromId: null,
        });
        expect(await store.getMessage(message.id)).toEqual(message);
        expect(await store.getMessage(999_999)).toBeNull();
      });

      it("insertMessage bumps lastSeq and lastActivityAt and moves only the sender's cursors", async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const c = await mkConversation([alice, bob], { now: at(0) });
        await post(c, alice, 'hi', at(10));
        await post(c, alice, 'there', at(11));
        expect(await store.getConversation(c.id)).toMatchObject({ lastSeq: 2, lastActivityAt: at(11) });
        expect(await store.getMember(c.id, alice.id)).toMatchObject({
          lastReadSeq: 2,
          readAt: at(11),
          lastDeliveredSeq: 2,
          deliveredAt: at(11),
        });
        expect(await store.getMember(c.id, bob.id)).toMatchObject({ lastReadSeq: 0, readAt: null, lastDeliveredSeq: 0 });
      });

      it('a clientId retry by the same sender in the same conversation returns the original, writing nothing', async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const c = await mkConversation([alice, bob]);
        const first = await store.insertMessage({ conversationId: c.id, senderId: alice.id, content: 'once', parentId: null, clientId: 'k1', now: at(1) });
        const retry = await store.insertMessage({ conversationId: c.id, senderId: alice.id, content: 'once (retry)', parentId: null, clientId: 'k1', now: at(2) });
        expect(first.created).toBe(true);
        expect(retry).toEqual({ message: first.message, created: false });
        expect(await store.getConversation(c.id)).toMatchObject({ lastSeq: 1, lastActivityAt: at(1) });
        expect(await store.countMessages(c.id, { viewerId: bob.id, includeDeleted: true })).toBe(1);

        // Another sender may use the same clientId.
        const bobs = await store.insertMessage({ conversationId: c.id, senderId: bob.id, content: 'mine', parentId: null, clientId: 'k1', now: at(3) });
        expect(bobs.created).toBe(true);
        expect(bobs.message.seq).toBe(2);
        expect(bobs.message.senderId).toBe(bob.id);

        // So may the same sender in another conversation.
        const other = await mkConversation([alice]);
        const elsewhere = await store.insertMessage({ conversationId: other.id, senderId: alice.id, content: 'x', parentId: null, clientId: 'k1', now: at(4) });
        expect(elsewhere.created).toBe(true);
        expect(elsewhere.message.conversationId).toBe(other.id);

        // Without clientId, identical content is two messages.
        await post(c, alice, 'same', at(5));
        await post(c, alice, 'same', at(6));
        expect(await store.countMessages(c.id, { viewerId: alice.id, includeDeleted: false })).toBe(4);
      });

      it('listMessages orders by seq either way, with exclusive bounds, offset and limit', async () => {
        const alice = await mkUser('alice');
        const c = await mkConversation([alice]);
        for (let i = 1; i <= 6; i++) await post(c, alice, `m${i}`, at(i));
        const base = { viewerId: alice.id, includeDeleted: false };

        expect(seqs(await store.listMessages(c.id, { ...base, newestFirst: false, limit: 10 }))).toEqual([1, 2, 3, 4, 5, 6]);
        expect(seqs(await store.listMessages(c.id, { ...base, newestFirst: true, limit: 10 }))).toEqual([6, 5, 4, 3, 2, 1]);
        expect(seqs(await store.listMessages(c.id, { ...base, newestFirst: true, limit: 2 }))).toEqual([6, 5]);
        expect(seqs(await store.listMessages(c.id, { ...base, newestFirst: true, limit: 2, offset: 2 }))).toEqual([4, 3]);
        expect(seqs(await store.listMessages(c.id, { ...base, newestFirst: false, limit: 2, offset: 5 }))).toEqual([6]);
        expect(seqs(await store.listMessages(c.id, { ...base, beforeSeq: 4, newestFirst: true, limit: 10 }))).toEqual([3, 2, 1]);
        expect(seqs(await store.listMessages(c.id, { ...base, afterSeq: 4, newestFirst: false, limit: 10 }))).toEqual([5, 6]);
        expect(seqs(await store.listMessages(c.id, { ...base, afterSeq: 1, beforeSeq: 5, newestFirst: false, limit: 10 }))).toEqual([2, 3, 4]);
        expect(seqs(await store.listMessages(c.id, { ...base, afterSeq: 2, beforeSeq: 3, newestFirst: false, limit: 10 }))).toEqual([]);
        expect(await store.listMessages(999_999, { ...base, newestFirst: false, limit: 10 })).toEqual([]);
      });

      it('hidden messages are left out for the user who hid them only; hiding is idempotent', async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const c = await mkConversation([alice, bob]);
        const m1 = await post(c, alice, 'one', at(1));
        const m2 = await post(c, bob, 'two', at(2));
        await post(c, alice, 'three', at(3));
        await store.hideMessage(m2.id, alice.id, at(4));
        await store.hideMessage(m2.id, alice.id, at(5));
        await store.hideMessage(m1.id, alice.id, at(6));

        const q = { includeDeleted: true, newestFirst: false, limit: 10 };
        expect(seqs(await store.listMessages(c.id, { ...q, viewerId: alice.id }))).toEqual([3]);
        expect(seqs(await store.listMessages(c.id, { ...q, viewerId: bob.id }))).toEqual([1, 2, 3]);
        expect(await store.countMessages(c.id, { viewerId: alice.id, includeDeleted: false })).toBe(1);
        expect(await store.countMessages(c.id, { viewerId: bob.id, includeDeleted: false })).toBe(3);
        // The message itself still exists.
        expect(await store.getMessage(m2.id)).toEqual(m2);
      });

      it('soft-deleted messages are kept only with includeDeleted', async () => {
        const alice = await mkUser('alice');
        const c = await mkConversation([alice]);
        await post(c, alice, 'one', at(1));
        const m2 = await post(c, alice, 'two', at(2));
        await post(c, alice, 'three', at(3));
        const deleted = must(await store.softDeleteMessage(m2.id, at(9)));
        expect(deleted).toEqual({ ...m2, deletedAt: at(9), updatedAt: at(9) });
        expect(await store.getMessage(m2.id)).toEqual(deleted);

        const q = { viewerId: alice.id, newestFirst: false, limit: 10 };
        expect(seqs(await store.listMessages(c.id, { ...q, includeDeleted: false }))).toEqual([1, 3]);
        const withDeleted = await store.listMessages(c.id, { ...q, includeDeleted: true });
        expect(seqs(withDeleted)).toEqual([1, 2, 3]);
        expect(withDeleted[1]?.deletedAt).toEqual(at(9));
        expect(await store.softDeleteMessage(999_999, at(9))).toBeNull();
      });

      it('countMessages counts what listMessages returns without limit and offset', async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const c = await mkConversation([alice, bob]);
        const ms: Message[] = [];
        for (let i = 1; i <= 7; i++) ms.push(await post(c, i % 2 ? alice : bob, `m${i}`, at(i)));
        await store.softDeleteMessage(must(ms[1]).id, at(10)); // seq 2
        await store.hideMessage(must(ms[4]).id, bob.id, at(11)); // seq 5, hidden by bob

        for (const filter of [
          { viewerId: bob.id, includeDeleted: false },
          { viewerId: bob.id, includeDeleted: true },
          { viewerId: alice.id, includeDeleted: false },
          { viewerId: bob.id, includeDeleted: false, beforeSeq: 6 },
          { viewerId: bob.id, includeDeleted: true, afterSeq: 1, beforeSeq: 7 },
        ]) {
          const listed = await store.listMessages(c.id, { ...filter, newestFirst: true, limit: 2, offset: 1 });
          const all = await store.listMessages(c.id, { ...filter, newestFirst: true, limit: 100 });
          expect(await store.countMessages(c.id, filter)).toBe(all.length);
          expect(listed).toEqual(all.slice(1, 3));
        }
        expect(await store.countMessages(c.id, { viewerId: bob.id, includeDeleted: false })).toBe(5);
        expect(await store.countMessages(c.id, { viewerId: alice.id, includeDeleted: true })).toBe(7);
      });

      it('lastMessages gives the newest message each viewer sees, skipping deleted and hidden ones', async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const a = await mkConversation([alice, bob]);
        const b = await mkConversation([alice, bob]);
        const empty = await mkConversation([alice, bob]);
        const a1 = await post(a, alice, 'a1', at(1));
        const a2 = await post(a, bob, 'a2', at(2));
        const a3 = await post(a, alice, 'a3', at(3));
        const b1 = await post(b, bob, 'b1', at(4));
        const b2 = await post(b, bob, 'b2', at(5));

        const before = await store.lastMessages([a.id, b.id, empty.id], alice.id);
        expect(before.get(a.id)).toEqual(a3);
        expect(before.get(b.id)).toEqual(b2);
        expect(before.has(empty.id)).toBe(false);

        await store.softDeleteMessage(a3.id, at(6));
        await store.hideMessage(a2.id, alice.id, at(7));
        await store.hideMessage(b2.id, alice.id, at(8));
        const forAlice = await store.lastMessages([a.id, b.id], alice.id);
        expect(forAlice.get(a.id)?.id).toBe(a1.id);
        expect(forAlice.get(b.id)?.id).toBe(b1.id);
        const forBob = await store.lastMessages([a.id, b.id], bob.id);
        expect(forBob.get(a.id)?.id).toBe(a2.id);
        expect(forBob.get(b.id)?.id).toBe(b2.id);
        expect((await store.lastMessages([], alice.id)).size).toBe(0);
      });

      it('updateMessageContent replaces the content and sets editedAt', async () => {
        const alice = await mkUser('alice');
        const c = await mkConversation([alice]);
        const m = await post(c, alice, 'helo', at(1));
        const edited = must(await store.updateMessageContent(m.id, 'hello', at(5)));
        expect(edited).toEqual({ ...m, content: 'hello', editedAt: at(5), updatedAt: at(5) });
        expect(await store.getMessage(m.id)).toEqual(edited);
        expect(await store.updateMessageContent(999_999, 'x', at(5))).toBeNull();
      });

      it('hardDeleteMessage removes the message with its reactions; replies stay, unlinked', async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const c = await mkConversation([alice, bob]);
        const m = await post(c, alice, 'to be removed', at(1));
        const reply = await post(c, bob, 'a reply', at(2), { parentId: m.id });
        const other = await post(c, bob, 'other', at(3));
        await store.toggleReaction(m.id, bob.id, '👍', at(4));
        await store.toggleReaction(other.id, alice.id, '🎉', at(5));
        await store.hideMessage(m.id, bob.id, at(6));

        expect(await store.hardDeleteMessage(m.id)).toBe(true);
        expect(await store.getMessage(m.id)).toBeNull();
        expect(await store.listReactions([m.id, other.id])).toEqual([
          { messageId: other.id, userId: alice.id, emoji: '🎉', createdAt: at(5) },
        ]);
        expect(await store.getMessage(reply.id)).toEqual({ ...reply, parentId: null });
        expect(seqs(await store.listMessages(c.id, { viewerId: alice.id, includeDeleted: true, newestFirst: false, limit: 10 }))).toEqual([2, 3]);
        expect(await store.hardDeleteMessage(m.id)).toBe(false);
        // seq is never reused.
        expect((await post(c, alice, 'next', at(7))).seq).toBe(4);
      });

      it('hideMessage of a message that does not exist does not throw', async () => {
        const alice = await mkUser('alice');
        await expect(store.hideMessage(999_999, alice.id, at(1))).resolves.toBeUndefined();
      });
    });

    // ── reactions ────────────────────────────────────────────────────────────
    describe('reactions', () => {
      it('toggleReaction adds when absent and removes when present', async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const c = await mkConversation([alice, bob]);
        const m = await post(c, alice, 'react to me', at(1));
        expect(await store.toggleReaction(m.id, bob.id, '👍', at(2))).toBe('added');
        expect(await store.toggleReaction(m.id, alice.id, '👍', at(3))).toBe('added');
        expect(await store.toggleReaction(m.id, bob.id, '❤️', at(4))).toBe('added');
        expect(await store.listReactions([m.id])).toHaveLength(3);
        expect(await store.toggleReaction(m.id, bob.id, '👍', at(5))).toBe('removed');
        expect(await store.listReactions([m.id])).toEqual([
          { messageId: m.id, userId: alice.id, emoji: '👍', createdAt: at(3) },
          { messageId: m.id, userId: bob.id, emoji: '❤️', createdAt: at(4) },
        ]);
        expect(await store.toggleReaction(m.id, bob.id, '👍', at(6))).toBe('added');
        expect((await store.listReactions([m.id])).at(-1)).toEqual({ messageId: m.id, userId: bob.id, emoji: '👍', createdAt: at(6) });
      });

      it('listReactions returns the reactions of the given messages, oldest first', async () => {
        const u1 = await mkUser('u1');
        const u2 = await mkUser('u2');
        const c = await mkConversation([u1, u2]);
        const m1 = await post(c, u1, 'one', at(1));
        const m2 = await post(c, u1, 'two', at(2));
        const m3 = await post(c, u1, 'three', at(3));
        await store.toggleReaction(m2.id, u2.id, 'b', at(12));
        await store.toggleReaction(m1.id, u2.id, 'c', at(13));
        await store.toggleReaction(m2.id, u1.id, 'a', at(11));
        await store.toggleReaction(m3.id, u1.id, 'z', at(10));

        const rows = await store.listReactions([m1.id, m2.id]);
        expect(rows.map((r) => [r.messageId, r.emoji])).toEqual([
          [m2.id, 'a'],
          [m2.id, 'b'],
          [m1.id, 'c'],
        ]);
        expect(await store.listReactions([])).toEqual([]);
        expect(await store.listReactions([999_999])).toEqual([]);
      });
    });

    // ── cursors ──────────────────────────────────────────────────────────────
    describe('read and delivery cursors', () => {
      async function threeMessages() {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const c = await mkConversation([alice, bob]);
        for (let i = 1; i <= 3; i++) await post(c, alice, `m${i}`, at(i));
        return { alice, bob, c };
      }

      it('advanceReadCursor moves forward and stamps readAt', async () => {
        const { bob, c } = await threeMessages();
        expect(await store.advanceReadCursor(c.id, bob.id, 2, at(10))).toEqual({ before: 0, after: 2 });
        expect(await store.getMember(c.id, bob.id)).toMatchObject({ lastReadSeq: 2, readAt: at(10) });
        expect(await store.advanceReadCursor(c.id, bob.id, 3, at(11))).toEqual({ before: 2, after: 3 });
        expect(await store.getMember(c.id, bob.id)).toMatchObject({ lastReadSeq: 3, readAt: at(11), lastDeliveredSeq: 0 });
      });

      it('advanceReadCursor never moves backwards and leaves readAt alone when nothing moves', async () => {
        const { bob, c } = await threeMessages();
        await store.advanceReadCursor(c.id, bob.id, 3, at(10));
        expect(await store.advanceReadCursor(c.id, bob.id, 1, at(20))).toEqual({ before: 3, after: 3 });
        expect(await store.advanceReadCursor(c.id, bob.id, 3, at(21))).toEqual({ before: 3, after: 3 });
        expect(await store.getMember(c.id, bob.id)).toMatchObject({ lastReadSeq: 3, readAt: at(10) });
      });

      it("advanceReadCursor never goes past the conversation's lastSeq", async () => {
        const { alice, bob, c } = await threeMessages();
        expect(await store.advanceReadCursor(c.id, bob.id, 1000, at(10))).toEqual({ before: 0, after: 3 });
        expect(must(await store.getMember(c.id, bob.id)).lastReadSeq).toBe(3);
        // So the next message still counts as unread.
        await post(c, alice, 'm4', at(11));
        expect(await store.countUnread(bob.id)).toEqual(new Map([[c.id, 1]]));
      });

      it('advanceReadCursor returns null for a non-member', async () => {
        const { c } = await threeMessages();
        const carol = await mkUser('carol');
        expect(await store.advanceReadCursor(c.id, carol.id, 2, at(10))).toBeNull();
        expect(await store.advanceReadCursor(999_999, carol.id, 2, at(10))).toBeNull();
        expect(await store.getMember(c.id, carol.id)).toBeNull();
      });

      it('advanceDeliveryCursor follows the same rules on the delivery cursor only', async () => {
        const { bob, c } = await threeMessages();
        const carol = await mkUser('carol');
        expect(await store.advanceDeliveryCursor(c.id, bob.id, 2, at(10))).toEqual({ before: 0, after: 2 });
        expect(await store.advanceDeliveryCursor(c.id, bob.id, 1, at(11))).toEqual({ before: 2, after: 2 });
        expect(await store.advanceDeliveryCursor(c.id, bob.id, 99, at(12))).toEqual({ before: 2, after: 3 });
        expect(await store.getMember(c.id, bob.id)).toMatchObject({
          lastDeliveredSeq: 3,
          deliveredAt: at(12),
          lastReadSeq: 0,
          readAt: null,
        });
        expect(await store.advanceDeliveryCursor(c.id, carol.id, 1, at(13))).toBeNull();
      });
    });

    // ── unread ───────────────────────────────────────────────────────────────
    describe('countUnread and countFromOthers', () => {
      it("counts others' messages past the read cursor; own, deleted and hidden ones do not count", async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const c = await mkConversation([alice, bob]);
        const b1 = await post(c, bob, 'b1', at(1));
        await post(c, alice, 'a1', at(2));
        const b2 = await post(c, bob, 'b2', at(3));
        await post(c, bob, 'b3', at(4));
        await post(c, bob, 'b4', at(5));

        expect(await store.countUnread(alice.id)).toEqual(new Map([[c.id, 3]])); // alice's post read up to seq 2
        expect(await store.countUnread(bob.id)).toEqual(new Map()); // bob's own post moved his cursor to 5

        await store.softDeleteMessage(b2.id, at(6));
        expect(await store.countUnread(alice.id)).toEqual(new Map([[c.id, 2]]));
        const b4 = must((await store.listMessages(c.id, { viewerId: alice.id, includeDeleted: false, newestFirst: true, limit: 1 }))[0]);
        await store.hideMessage(b4.id, alice.id, at(7));
        expect(await store.countUnread(alice.id)).toEqual(new Map([[c.id, 1]]));

        await store.advanceReadCursor(c.id, alice.id, 5, at(8));
        expect(await store.countUnread(alice.id)).toEqual(new Map());
        expect(b1.seq).toBe(1);
      });

      it('leaves out conversations with nothing unread and honours the kinds and conversationIds filters', async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const dm = await mkConversation([alice, bob], { kind: 'dm', title: null, dmKey: dmKey(alice.id, bob.id) });
        const group = await mkConversation([alice, bob], { kind: 'group' });
        const room = await mkConversation([alice, bob], { kind: 'room' });
        const quiet = await mkConversation([alice, bob], { kind: 'group' });
        const notMine = await mkConversation([bob], { kind: 'group' });
        await post(dm, bob, 'x', at(1));
        await post(group, bob, 'x', at(2));
        await post(group, bob, 'y', at(3));
        await post(room, bob, 'x', at(4));
        await post(notMine, bob, 'x', at(5));
        await post(quiet, alice, 'only mine', at(6));

        expect(await store.countUnread(alice.id)).toEqual(
          new Map([
            [dm.id, 1],
            [group.id, 2],
            [room.id, 1],
          ]),
        );
        expect(await store.countUnread(alice.id, { kinds: ['dm'] })).toEqual(new Map([[dm.id, 1]]));
        expect(await store.countUnread(alice.id, { kinds: ['group', 'room'] })).toEqual(
          new Map([
            [group.id, 2],
            [room.id, 1],
          ]),
        );
        expect(await store.countUnread(alice.id, { conversationIds: [group.id, quiet.id, notMine.id] })).toEqual(new Map([[group.id, 2]]));
        expect(await store.countUnread(alice.id, { conversationIds: [dm.id, group.id], kinds: ['group'] })).toEqual(new Map([[group.id, 2]]));
        expect(await store.countUnread(alice.id, { conversationIds: [] })).toEqual(new Map());
        expect(await store.countUnread(999_999)).toEqual(new Map());
      });

      it('countFromOthers counts visible messages from others in (fromSeq, toSeq]', async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const c = await mkConversation([alice, bob]);
        await post(c, bob, '1', at(1));
        await post(c, alice, '2', at(2));
        const m3 = await post(c, bob, '3', at(3));
        const m4 = await post(c, bob, '4', at(4));
        await post(c, bob, '5', at(5));

        expect(await store.countFromOthers(c.id, alice.id, 0, 5)).toBe(4);
        expect(await store.countFromOthers(c.id, alice.id, 1, 5)).toBe(3);
        expect(await store.countFromOthers(c.id, alice.id, 0, 1)).toBe(1);
        expect(await store.countFromOthers(c.id, alice.id, 2, 2)).toBe(0);
        expect(await store.countFromOthers(c.id, bob.id, 0, 5)).toBe(1);
        await store.softDeleteMessage(m3.id, at(6));
        await store.hideMessage(m4.id, alice.id, at(7));
        expect(await store.countFromOthers(c.id, alice.id, 0, 5)).toBe(2);
        expect(await store.countFromOthers(c.id, bob.id, 0, 5)).toBe(1);
      });
    });

    // ── memberships, contacts, ranges, last seen ─────────────────────────────
    describe('memberships, contacts and message ranges', () => {
      it("listMembershipsOf lists all of a user's memberships, oldest first", async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const c1 = await mkConversation([alice, bob], { now: at(5) });
        const c2 = await mkConversation([{ user: alice, role: 'admin' }], { now: at(1) });
        const c3 = await mkConversation([bob], { now: at(2) });
        const c4 = await mkConversation([bob], { now: at(3) });
        await store.addMembers(c4.id, [{ userId: alice.id, role: 'moderator' }], at(9));

        const mine = await store.listMembershipsOf(alice.id);
        expect(mine.map((m) => [m.conversationId, m.role])).toEqual([
          [c2.id, 'admin'],
          [c1.id, 'member'],
          [c4.id, 'moderator'],
        ]);
        expect(mine[0]).toEqual(await store.getMember(c2.id, alice.id));
        expect(mine.some((m) => m.conversationId === c3.id)).toBe(false);
        expect(await store.listMembershipsOf(999_999)).toEqual([]);
      });

      it('listContactsOf lists each user sharing a conversation once, never the user', async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const carol = await mkUser('carol');
        const dave = await mkUser('dave');
        const loner = await mkUser('loner');
        await mkConversation([alice, bob], { kind: 'dm', title: null, dmKey: dmKey(alice.id, bob.id) });
        await mkConversation([alice, bob, carol]);
        await mkConversation([carol, dave]);
        await mkConversation([alice]);

        const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
        expect(sorted(await store.listContactsOf(alice.id))).toEqual(sorted([bob.id, carol.id]));
        expect(await store.listContactsOf(alice.id)).toHaveLength(2);
        expect(sorted(await store.listContactsOf(carol.id))).toEqual(sorted([alice.id, bob.id, dave.id]));
        expect(await store.listContactsOf(loner.id)).toEqual([]);
      });

      it('listFromOthers lists messages from others in (fromSeq, toSeq], ascending, at most limit', async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const c = await mkConversation([alice, bob]);
        // seq: 1 bob, 2 alice, 3 bob, 4 bob, 5 alice, 6 bob
        for (const [i, who] of [bob, alice, bob, bob, alice, bob].entries()) await post(c, who, `m${i + 1}`, at(i + 1));

        expect(seqs(await store.listFromOthers(c.id, alice.id, 0, 6, 10))).toEqual([1, 3, 4, 6]);
        expect(seqs(await store.listFromOthers(c.id, alice.id, 1, 4, 10))).toEqual([3, 4]);
        expect(seqs(await store.listFromOthers(c.id, alice.id, 0, 6, 2))).toEqual([1, 3]);
        expect(seqs(await store.listFromOthers(c.id, bob.id, 0, 6, 10))).toEqual([2, 5]);
        expect(await store.listFromOthers(c.id, alice.id, 6, 6, 10)).toEqual([]);
      });

      it('listFromOthers agrees with countFromOthers on deleted and hidden messages', async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const c = await mkConversation([alice, bob]);
        const ms: Message[] = [];
        for (let i = 1; i <= 5; i++) ms.push(await post(c, bob, `m${i}`, at(i)));
        await store.softDeleteMessage(must(ms[1]).id, at(10));
        await store.hideMessage(must(ms[3]).id, alice.id, at(11));
        const listed = await store.listFromOthers(c.id, alice.id, 0, 5, 100);
        expect(listed).toHaveLength(await store.countFromOthers(c.id, alice.id, 0, 5));
        expect(seqs(listed)).toEqual([1, 3, 5]);
      });

      it('listSeqRange lists every message in (fromSeq, toSeq], ascending, deleted ones included', async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const c = await mkConversation([alice, bob]);
        const other = await mkConversation([alice, bob]);
        const ms: Message[] = [];
        for (let i = 1; i <= 6; i++) ms.push(await post(c, i % 2 ? alice : bob, `m${i}`, at(i)));
        await post(other, alice, 'elsewhere', at(7));
        const softDeleted = must(await store.softDeleteMessage(must(ms[2]).id, at(8)));
        await store.hideMessage(must(ms[3]).id, alice.id, at(9));
        await store.hardDeleteMessage(must(ms[4]).id);

        const range = await store.listSeqRange(c.id, 1, 6, 100);
        expect(seqs(range)).toEqual([2, 3, 4, 6]);
        expect(range[1]).toEqual(softDeleted);
        expect(seqs(await store.listSeqRange(c.id, 0, 6, 2))).toEqual([1, 2]);
        expect(seqs(await store.listSeqRange(c.id, 0, 1, 100))).toEqual([1]);
        expect(await store.listSeqRange(c.id, 6, 100, 100)).toEqual([]);
        expect(await store.listSeqRange(999_999, 0, 100, 100)).toEqual([]);
      });

      it('setLastSeen / getLastSeen remember when users were last seen', async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const carol = await mkUser('carol');
        await store.setLastSeen(alice.id, at(10));
        await store.setLastSeen(bob.id, at(20));
        await store.setLastSeen(alice.id, at(30));
        expect(await store.getLastSeen([alice.id, bob.id, carol.id, 999_999])).toEqual(
          new Map([
            [alice.id, at(30)],
            [bob.id, at(20)],
          ]),
        );
        expect(await store.getLastSeen([])).toEqual(new Map());
        await expect(store.setLastSeen(999_999, at(1))).resolves.toBeUndefined();
        // Last seen is not part of the user record's other fields.
        expect(await store.getUser(alice.id)).toEqual(alice);
      });
    });

    // ── event log ────────────────────────────────────────────────────────────
    describe('event log', () => {
      const event = (conversationId: number | null, type: string, now: Date, recipients: readonly number[] | null = null) =>
        store.appendEvent({ conversationId, type, payload: JSON.stringify({ type, n: now.getTime() }), recipients, now });

      it('appendEvent stores the event as given, with growing ids', async () => {
        const alice = await mkUser('alice');
        const c = await mkConversation([alice]);
        const payload = '{"text":"héllo 👋","nested":{"a":[1,2]}}';
        const e1 = await store.appendEvent({ conversationId: c.id, type: 'message.created', payload, recipients: null, now: at(1) });
        expect(e1).toEqual({ id: expect.any(Number), conversationId: c.id, type: 'message.created', payload, createdAt: at(1) });
        const e2 = await event(null, 'user.updated', at(2), [alice.id]);
        const e3 = await event(c.id, 'typing', at(3));
        expect(e2.id).toBeGreaterThan(e1.id);
        expect(e3.id).toBeGreaterThan(e2.id);
        expect(e2.conversationId).toBeNull();
      });

      it("listEventsFor returns the events of the user's conversations and those naming them, after a cursor", async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const carol = await mkUser('carol');
        const ab = await mkConversation([alice, bob]);
        const bc = await mkConversation([bob, carol]);
        const e1 = await event(ab.id, 'message.created', at(1));
        const e2 = await event(bc.id, 'message.created', at(2));
        const e3 = await event(null, 'contact.added', at(3), [alice.id, alice.id]);
        const e4 = await event(ab.id, 'read.updated', at(4), [bob.id]); // targeted: only bob, though alice is a member
        const e5 = await event(ab.id, 'typing', at(5));

        expect(ids(await store.listEventsFor(alice.id, 0, 100))).toEqual([e1.id, e3.id, e5.id]);
        expect(ids(await store.listEventsFor(bob.id, 0, 100))).toEqual([e1.id, e2.id, e4.id, e5.id]);
        expect(ids(await store.listEventsFor(carol.id, 0, 100))).toEqual([e2.id]);
        expect(ids(await store.listEventsFor(alice.id, e1.id, 100))).toEqual([e3.id, e5.id]);
        expect(ids(await store.listEventsFor(bob.id, 0, 2))).toEqual([e1.id, e2.id]);
        expect(ids(await store.listEventsFor(bob.id, e5.id, 100))).toEqual([]);
        const [first] = await store.listEventsFor(alice.id, 0, 1);
        expect(first).toEqual(e1);
      });

      it('conversation events follow membership at read time', async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const c = await mkConversation([alice]);
        const before = await event(c.id, 'message.created', at(1));
        expect(await store.listEventsFor(bob.id, 0, 100)).toEqual([]);
        await store.addMembers(c.id, [{ userId: bob.id, role: 'member' }], at(2));
        expect(ids(await store.listEventsFor(bob.id, 0, 100))).toEqual([before.id]);
        await store.removeMember(c.id, bob.id);
        await event(c.id, 'member.removed', at(3));
        expect(await store.listEventsFor(bob.id, 0, 100)).toEqual([]);
      });

      it("a deleted conversation's events never reach the members of a later conversation", async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const eve = await mkUser('eve');
        const secret = await mkConversation([alice, bob], { title: 'Secret' });
        await store.appendEvent({
          conversationId: secret.id,
          type: 'message.created',
          payload: '{"content":"the safe code is 1234"}',
          recipients: null,
          now: at(1),
        });
        expect(await store.deleteConversation(secret.id)).toBe(true);
        // A store may hand out the freed id again: that must not reopen the old log to newcomers.
        const fresh = await mkConversation([eve], { title: 'Eve alone', now: at(2) });
        expect(await store.listEventsFor(eve.id, 0, 100)).toEqual([]);
        const own = await store.appendEvent({ conversationId: fresh.id, type: 'message.created', payload: '{}', recipients: null, now: at(3) });
        expect(ids(await store.listEventsFor(eve.id, 0, 100))).toEqual([own.id]);
      });

      it('eventLogBounds and pruneEvents: ids are never reused, even after pruning everything', async () => {
        expect(await store.eventLogBounds()).toEqual({ oldest: 0, newest: 0 });
        const e1 = await event(null, 'a', at(1), []);
        await event(null, 'b', at(2), []);
        const e3 = await event(null, 'c', at(3), []);
        expect(await store.eventLogBounds()).toEqual({ oldest: e1.id, newest: e3.id });

        expect(await store.pruneEvents(at(1))).toBe(0); // strictly before
        expect(await store.pruneEvents(at(3))).toBe(2);
        expect(await store.eventLogBounds()).toEqual({ oldest: e3.id, newest: e3.id });
        expect(await store.pruneEvents(at(100))).toBe(1);
        expect(await store.eventLogBounds()).toEqual({ oldest: 0, newest: e3.id });

        const e4 = await event(null, 'd', at(4), []);
        expect(e4.id).toBeGreaterThan(e3.id);
        expect(await store.eventLogBounds()).toEqual({ oldest: e4.id, newest: e4.id });
      });

      it('pruned events are no longer listed', async () => {
        const alice = await mkUser('alice');
        const c = await mkConversation([alice]);
        await event(c.id, 'old', at(1));
        const recent = await event(c.id, 'recent', at(10));
        await store.pruneEvents(at(5));
        expect(ids(await store.listEventsFor(alice.id, 0, 100))).toEqual([recent.id]);
      });
    });

    // ── search ───────────────────────────────────────────────────────────────
    describe('transactions: the outbox and group commit', () => {
      const hook = (n: number) => ({ endpointUrl: 'https://hooks.example.com/a', eventId: `evt_${n}`, eventType: 'message.created', payload: `{"n":${n}}` });

      /** One send as the core makes it: the message, its event-log row and its webhook row, together. */
      const send = (tx: Store, c: Conversation, sender: User, n: number, fail?: 'before-event' | 'after-event') =>
        (async () => {
          const { message } = await tx.insertMessage({ conversationId: c.id, senderId: sender.id, content: `m${n}`, parentId: null, clientId: `c${n}`, now: at(n) });
          if (fail === 'before-event') throw new ParleyError('validation', 'refused before its event');
          const event = await tx.appendEvent({ conversationId: c.id, type: 'message.created', payload: JSON.stringify({ message_id: message.id }), recipients: null, now: at(n) });
          await tx.enqueueWebhookDeliveries([hook(n)], at(n));
          if (fail === 'after-event') throw new ParleyError('validation', 'refused after its event');
          return { message, event };
        })();

      it('stores a write, its event and its webhook delivery together, and reads inside see the writes', async () => {
        const alice = await mkUser('alice');
        const c = await mkConversation([alice]);
        const out = await store.transaction(async (tx) => {
          const sent = await send(tx, c, alice, 1);
          // Inside, the transaction sees its own writes.
          expect(must(await tx.getConversation(c.id)).lastSeq).toBe(1);
          return sent;
        });
        expect(await store.getMessage(out.message.id)).toEqual(out.message);
        expect(ids(await store.listEventsFor(alice.id, 0, 10))).toEqual([out.event.id]);
        expect((await store.listWebhookDeliveries({ limit: 10 })).map((d) => d.eventId)).toEqual(['evt_1']);
      });

      it('stores nothing of a write that throws: no message, no event, no webhook delivery', async () => {
        const alice = await mkUser('alice');
        const c = await mkConversation([alice]);
        await expectError(store.transaction((tx) => send(tx, c, alice, 1, 'after-event')), 'validation');
        expect(await store.listMessages(c.id, { viewerId: alice.id, includeDeleted: true, newestFirst: false, limit: 10 })).toEqual([]);
        expect(must(await store.getConversation(c.id)).lastSeq).toBe(0);
        expect(await store.listEventsFor(alice.id, 0, 10)).toEqual([]);
        expect(await store.listWebhookDeliveries({ limit: 10 })).toEqual([]);
        // The store is usable afterwards, and the failed write left no gap in the sequence.
        const ok = await store.transaction((tx) => send(tx, c, alice, 2));
        expect(ok.message.seq).toBe(1);
      });

      it('commits writes that arrive together; one failing in the batch fails alone, with its own error', async () => {
        const alice = await mkUser('alice');
        const c = await mkConversation([alice]);
        const d = await mkConversation([alice], { title: 'Other' });
        // Started together, so they share batches; numbers 3 and 7 fail (one after writing its event).
        const runs = Array.from({ length: 10 }, (_, i) =>
          store.transaction((tx) => send(tx, i % 2 === 0 ? c : d, alice, i, i === 3 ? 'before-event' : i === 7 ? 'after-event' : undefined)),
        );
        const settled = await Promise.allSettled(runs);
        expect(settled.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
        for (const i of [3, 7]) {
          const r = settled[i] as PromiseRejectedResult;
          expect(r.reason).toBeInstanceOf(ParleyError);
          expect((r.reason as ParleyError).message).toMatch(/^refused/);
        }
        const ok = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
        // Every committed write has exactly its event and its webhook row; the failed ones have none.
        const events = await store.listEventsFor(alice.id, 0, 100);
        expect(ids(events)).toEqual(ok.map((o) => o.event.id));
        expect((await store.listWebhookDeliveries({ limit: 100 })).map((w) => w.eventId).sort()).toEqual(
          [0, 1, 2, 4, 5, 6, 8, 9].map((n) => `evt_${n}`).sort(),
        );
        const contents = async (conv: Conversation) =>
          (await store.listMessages(conv.id, { viewerId: alice.id, includeDeleted: true, newestFirst: false, limit: 100 })).map((m) => [m.seq, m.content]);
        expect(await contents(c)).toEqual([[1, 'm0'], [2, 'm2'], [3, 'm4'], [4, 'm6'], [5, 'm8']]);
        expect(await contents(d)).toEqual([[1, 'm1'], [2, 'm5'], [3, 'm9']]);
        // Event ids follow the order the writes were made in.
        expect(ok.map((o) => o.event.id)).toEqual([...ok.map((o) => o.event.id)].sort((x, y) => x - y));
      });

      it('keeps a conflict a conflict inside a batch, and the others commit', async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const key = dmKey(alice.id, bob.id);
        const dm = () =>
          store.transaction((tx) =>
            tx.createConversation({ kind: 'dm', title: null, objectKey: null, dmKey: key, isPublic: false, createdBy: alice.id, members: [{ userId: alice.id, role: 'member' }, { userId: bob.id, role: 'member' }], now: at(1) }),
          );
        const [first, second, other] = await Promise.allSettled([dm(), dm(), store.transaction((tx) => mkUserIn(tx, 'carol'))]);
        expect(first.status).toBe('fulfilled');
        expect(second.status).toBe('rejected');
        expect(((second as PromiseRejectedResult).reason as ParleyError).code).toBe('conflict');
        expect(other.status).toBe('fulfilled');
        expect(await store.getUserByUsername('carol')).not.toBeNull();
        expect(await store.getConversationByDmKey(key)).toEqual((first as PromiseFulfilledResult<Conversation>).value);
      });

      it('calls made outside a transaction while one runs neither join nor see it', async () => {
        const alice = await mkUser('alice');
        const c = await mkConversation([alice]);
        // Another request: its chain starts outside the transaction and runs while it is open.
        let go!: () => void;
        const outside = new Promise<void>((resolve) => (go = resolve)).then(() => mkUser('bob'));
        await expectError(
          store.transaction(async (tx) => {
            await send(tx, c, alice, 1);
            go();
            await new Promise((resolve) => setTimeout(resolve, 20));
            await send(tx, c, alice, 2);
            throw new ParleyError('validation', 'refused');
          }),
          'validation',
        );
        // The user created meanwhile is stored: it was never part of the failed transaction.
        expect((await outside).username).toBe('bob');
        expect(await store.getUserByUsername('bob')).not.toBeNull();
        expect(must(await store.getConversation(c.id)).lastSeq).toBe(0);
      });

      const mkUserIn = (tx: Store, username: string) => tx.createUser({ username, displayName: username, email: `${username}@example.com`, passwordHash: null, now: at(0) });
    });

    describe('webhook outbox', () => {
      const delivery = (n: number, endpointUrl = 'https://hooks.example.com/a') => ({
        endpointUrl,
        eventId: `evt_${n}`,
        eventType: 'message.created',
        payload: JSON.stringify({ id: `evt_${n}`, n }),
      });

      it('enqueues several deliveries at once as pending, due now, in the order given', async () => {
        const made = await store.enqueueWebhookDeliveries([delivery(1), delivery(2, 'https://hooks.example.com/b')], at(5));
        expect(made.map((d) => [d.eventId, d.endpointUrl])).toEqual([
          ['evt_1', 'https://hooks.example.com/a'],
          ['evt_2', 'https://hooks.example.com/b'],
        ]);
        expect(made[1]!.id).toBeGreaterThan(made[0]!.id);
        expect(made[0]).toEqual({
          id: made[0]!.id,
          ...delivery(1),
          status: 'pending',
          attempts: 0,
          nextAttemptAt: at(5),
          lastStatusCode: null,
          lastError: null,
          createdAt: at(5),
          deliveredAt: null,
        });
        expect(await store.getWebhookDelivery(made[0]!.id)).toEqual(made[0]);
        expect(await store.getWebhookDelivery(made[1]!.id + 1000)).toBeNull();
        expect(await store.enqueueWebhookDeliveries([], at(5))).toEqual([]);
      });

      it('claims due deliveries once, with a lease that makes them due again if never settled', async () => {
        const [a, b, c] = await store.enqueueWebhookDeliveries([delivery(1), delivery(2), delivery(3)], at(0));
        expect(await store.claimWebhookDeliveries(at(-1), at(60), 10)).toEqual([]); // not due yet
        const first = await store.claimWebhookDeliveries(at(1), at(60), 2);
        expect(first.map((d) => d.id)).toEqual([a!.id, b!.id]);
        expect(first.map((d) => [d.attempts, d.nextAttemptAt])).toEqual([
          [1, at(60)],
          [1, at(60)],
        ]);
        // Leased: another claimer gets only what is left.
        expect((await store.claimWebhookDeliveries(at(2), at(60), 10)).map((d) => d.id)).toEqual([c!.id]);
        expect(await store.claimWebhookDeliveries(at(3), at(60), 10)).toEqual([]);
        // A claimer that died never settled them: after the lease they are due again.
        const again = await store.claimWebhookDeliveries(at(61), at(120), 10);
        expect(again.map((d) => [d.id, d.attempts])).toEqual([
          [a!.id, 2],
          [b!.id, 2],
          [c!.id, 2],
        ]);
      });

      it('never hands the same delivery to two concurrent claimers', async () => {
        const made = await store.enqueueWebhookDeliveries(Array.from({ length: 20 }, (_, i) => delivery(i)), at(0));
        const claims = await Promise.all(Array.from({ length: 5 }, () => store.claimWebhookDeliveries(at(1), at(60), 6)));
        const ids = claims.flat().map((d) => d.id);
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids.sort((x, y) => x - y)).toEqual(made.map((d) => d.id));
      });

      it('records success, a retry at a later time, and failure for good', async () => {
        const [a, b] = await store.enqueueWebhookDeliveries([delivery(1), delivery(2)], at(0));
        await store.claimWebhookDeliveries(at(0), at(60), 10);
        const ok = await store.recordWebhookAttempt({ id: a!.id, attempts: 1 }, { delivered: true, statusCode: 204 }, at(3));
        expect(ok).toMatchObject({ status: 'delivered', attempts: 1, lastStatusCode: 204, lastError: null, deliveredAt: at(3) });
        const retry = await store.recordWebhookAttempt({ id: b!.id, attempts: 1 }, { delivered: false, statusCode: 500, error: 'HTTP 500', retryAt: at(40) }, at(3));
        expect(retry).toMatchObject({ status: 'pending', attempts: 1, nextAttemptAt: at(40), lastStatusCode: 500, lastError: 'HTTP 500', deliveredAt: null });
        expect(await store.claimWebhookDeliveries(at(39), at(100), 10)).toEqual([]);
        expect((await store.claimWebhookDeliveries(at(40), at(100), 10)).map((d) => [d.id, d.attempts])).toEqual([[b!.id, 2]]);
        const failed = await store.recordWebhookAttempt({ id: b!.id, attempts: 2 }, { delivered: false, statusCode: null, error: 'timed out', retryAt: null }, at(50));
        expect(failed).toMatchObject({ status: 'failed', attempts: 2, lastStatusCode: null, lastError: 'timed out' });
        // Neither delivered nor failed deliveries are ever claimed again.
        expect(await store.claimWebhookDeliveries(at(10_000), at(20_000), 10)).toEqual([]);
        expect(await store.recordWebhookAttempt({ id: b!.id + 1000, attempts: 1 }, { delivered: true, statusCode: 200 }, at(50))).toBeNull();
      });

      it('ignores the outcome of an attempt whose lease ran out and was claimed again', async () => {
        const [a] = await store.enqueueWebhookDeliveries([delivery(1)], at(0));
        const [stale] = await store.claimWebhookDeliveries(at(0), at(60), 10);
        // The first sender hangs past its lease; another worker claims the delivery again.
        const [fresh] = await store.claimWebhookDeliveries(at(61), at(120), 10);
        expect([stale!.attempts, fresh!.id, fresh!.attempts]).toEqual([1, a!.id, 2]);
        // The stale sender's late result (success or failure) changes nothing.
        expect(await store.recordWebhookAttempt(stale!, { delivered: true, statusCode: 200 }, at(70))).toBeNull();
        expect(await store.recordWebhookAttempt(stale!, { delivered: false, statusCode: 500, error: 'HTTP 500', retryAt: null }, at(70))).toBeNull();
        expect(await store.getWebhookDelivery(a!.id)).toMatchObject({ status: 'pending', attempts: 2, nextAttemptAt: at(120), lastStatusCode: null, lastError: null });
        // The attempt that holds it applies; once settled, even its own repeat is ignored.
        const failed = await store.recordWebhookAttempt(fresh!, { delivered: false, statusCode: 503, error: 'HTTP 503', retryAt: null }, at(80));
        expect(failed).toMatchObject({ id: a!.id, status: 'failed', attempts: 2, lastStatusCode: 503, lastError: 'HTTP 503', deliveredAt: null });
        expect(await store.recordWebhookAttempt(fresh!, { delivered: true, statusCode: 200 }, at(81))).toBeNull();
        expect(await store.getWebhookDelivery(a!.id)).toMatchObject({ status: 'failed', lastStatusCode: 503 });
      });

      it('lists the log newest first, by status, honouring the limit', async () => {
        const made = await store.enqueueWebhookDeliveries([delivery(1), delivery(2), delivery(3)], at(0));
        await store.claimWebhookDeliveries(at(0), at(60), 1);
        await store.recordWebhookAttempt({ id: made[0]!.id, attempts: 1 }, { delivered: false, statusCode: 410, error: 'HTTP 410', retryAt: null }, at(1));
        expect((await store.listWebhookDeliveries({ limit: 10 })).map((d) => d.eventId)).toEqual(['evt_3', 'evt_2', 'evt_1']);
        expect((await store.listWebhookDeliveries({ limit: 2 })).map((d) => d.eventId)).toEqual(['evt_3', 'evt_2']);
        expect((await store.listWebhookDeliveries({ status: 'failed', limit: 10 })).map((d) => d.eventId)).toEqual(['evt_1']);
        expect((await store.listWebhookDeliveries({ status: 'pending', limit: 10 })).map((d) => d.eventId)).toEqual(['evt_3', 'evt_2']);
        expect(await store.listWebhookDeliveries({ status: 'delivered', limit: 10 })).toEqual([]);
      });

      it('makes a failed delivery due again, keeping its attempts; not a delivered one', async () => {
        const [a, b] = await store.enqueueWebhookDeliveries([delivery(1), delivery(2)], at(0));
        await store.claimWebhookDeliveries(at(0), at(60), 10);
        await store.recordWebhookAttempt({ id: a!.id, attempts: 1 }, { delivered: false, statusCode: 500, error: 'HTTP 500', retryAt: null }, at(1));
        await store.recordWebhookAttempt({ id: b!.id, attempts: 1 }, { delivered: true, statusCode: 200 }, at(1));
        const again = await store.retryWebhookDelivery(a!.id, at(7));
        expect(again).toMatchObject({ id: a!.id, status: 'pending', attempts: 1, nextAttemptAt: at(7), lastError: 'HTTP 500' });
        expect(await store.retryWebhookDelivery(b!.id, at(7))).toBeNull();
        expect(await store.retryWebhookDelivery(b!.id + 1000, at(7))).toBeNull();
        expect((await store.claimWebhookDeliveries(at(7), at(60), 10)).map((d) => [d.id, d.attempts])).toEqual([[a!.id, 2]]);
      });
    });

    describe('searchMessages', () => {
      const term = (text: string, prefix = false) => ({ words: text.split(' '), prefix });

      async function world() {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const eve = await mkUser('eve');
        const shared = await mkConversation([alice, bob], { title: 'shared' });
        const bobOnly = await mkConversation([bob, eve], { title: 'private' });
        return { alice, bob, eve, shared, bobOnly };
      }

      it('finds messages only in conversations the user is a member of', async () => {
        const { alice, bob, shared, bobOnly } = await world();
        const inShared = await post(shared, bob, 'the launch date is friday', at(1));
        await post(bobOnly, bob, 'the launch is secret', at(2));

        const forAlice = await store.searchMessages(alice.id, [term('launch')], 10);
        expect(forAlice.map((h) => h.message.id)).toEqual([inShared.id]);
        expect(forAlice[0]?.message).toEqual(inShared);
        expect(await store.searchMessages(bob.id, [term('launch')], 10)).toHaveLength(2);

        // Leaving the conversation takes its messages out of the results.
        await store.removeMember(shared.id, alice.id);
        expect(await store.searchMessages(alice.id, [term('launch')], 10)).toEqual([]);
      });

      it('leaves out deleted messages and messages the user hid', async () => {
        const { alice, bob, shared } = await world();
        const soft = await post(shared, bob, 'budget draft one', at(1));
        const hard = await post(shared, bob, 'budget draft two', at(2));
        const hidden = await post(shared, bob, 'budget draft three', at(3));
        const kept = await post(shared, bob, 'budget draft four', at(4));
        await store.softDeleteMessage(soft.id, at(5));
        await store.hardDeleteMessage(hard.id);
        await store.hideMessage(hidden.id, alice.id, at(6));

        expect((await store.searchMessages(alice.id, [term('budget')], 10)).map((h) => h.message.id)).toEqual([kept.id]);
        const forBob = (await store.searchMessages(bob.id, [term('budget')], 10)).map((h) => h.message.id);
        expect(forBob.sort((a, b) => a - b)).toEqual([hidden.id, kept.id].sort((a, b) => a - b));
      });

      it('every term must match; a prefix term also matches longer words, a plain one does not', async () => {
        const { alice, bob, shared } = await world();
        const deploy = await post(shared, bob, 'Deployment finished on staging', at(1));
        const deploys = await post(shared, bob, 'deploy staging tonight', at(2));
        await post(shared, bob, 'production is fine', at(3));

        const hitIds = async (terms: { words: string[]; prefix: boolean }[]) =>
          (await store.searchMessages(alice.id, terms, 10)).map((h) => h.message.id).sort((a, b) => a - b);

        expect(await hitIds([term('deploy')])).toEqual([deploys.id]);
        expect(await hitIds([term('deploy', true)])).toEqual([deploy.id, deploys.id].sort((a, b) => a - b));
        expect(await hitIds([term('deploy', true), term('tonight')])).toEqual([deploys.id]);
        expect(await hitIds([term('staging'), term('production')])).toEqual([]);
        expect(await hitIds([term('DEPLOYMENT')])).toEqual([deploy.id]);
      });

      it('a term of several words is a phrase', async () => {
        const { alice, bob, shared } = await world();
        const exact = await post(shared, bob, 'please review the pull request today', at(1));
        await post(shared, bob, 'request to pull the latest review', at(2));

        const phrase = await store.searchMessages(alice.id, [term('pull request')], 10);
        expect(phrase.map((h) => h.message.id)).toEqual([exact.id]);
        const prefixPhrase = await store.searchMessages(alice.id, [term('pull req', true)], 10);
        expect(prefixPhrase.map((h) => h.message.id)).toEqual([exact.id]);
        expect(await store.searchMessages(alice.id, [term('request pull')], 10)).toEqual([]);
      });

      it('the highlighted snippet wraps matches in <mark> and escapes the user text', async () => {
        const { alice, bob, shared } = await world();
        await post(shared, bob, '<script>alert("x")</script> & the invoice is <b>late</b>', at(1));
        const [hit] = await store.searchMessages(alice.id, [term('invoice')], 10);
        const html = must(hit).highlighted;
        expect(html).toContain('<mark>invoice</mark>');
        expect(html).toContain('&lt;script&gt;');
        expect(html).toContain('&amp;');
        expect(html).not.toContain('<script>');
        expect(html).not.toContain('<b>');
        // Only the <mark> tags are markup.
        expect(html.replace(/<\/?mark>/g, '')).not.toMatch(/[<>]/);
        expect(must(hit).rank).toEqual(expect.any(Number));
      });

      it('marks prefix matches in the snippet', async () => {
        const { alice, bob, shared } = await world();
        await post(shared, bob, 'Deployment went well', at(1));
        const [hit] = await store.searchMessages(alice.id, [term('deploy', true)], 10);
        expect(must(hit).highlighted).toBe('<mark>Deployment</mark> went well');
      });

      it('ranks the best match first and honours the limit', async () => {
        const { alice, bob, shared } = await world();
        await post(shared, bob, 'a long message that mentions kiwi once among many many other unrelated words here', at(1));
        const best = await post(shared, bob, 'kiwi kiwi kiwi', at(2));
        await post(shared, bob, 'another kiwi mention in a fairly long sentence about fruit and other things', at(3));
        const hits = await store.searchMessages(alice.id, [term('kiwi')], 10);
        expect(hits).toHaveLength(3);
        expect(hits[0]?.message.id).toBe(best.id);
        expect(must(hits[0]).rank).toBeGreaterThanOrEqual(must(hits[1]).rank);
        expect(must(hits[1]).rank).toBeGreaterThanOrEqual(must(hits[2]).rank);
        expect(await store.searchMessages(alice.id, [term('kiwi')], 2)).toHaveLength(2);
      });

      it('finds edited messages by their new content only', async () => {
        const { alice, bob, shared } = await world();
        const m = await post(shared, bob, 'meet at noon', at(1));
        await store.updateMessageContent(m.id, 'meet at midnight', at(2));
        expect(await store.searchMessages(alice.id, [term('noon')], 10)).toEqual([]);
        const hits = await store.searchMessages(alice.id, [term('midnight')], 10);
        expect(hits.map((h) => h.message.content)).toEqual(['meet at midnight']);
      });

      it('never throws on words that look like full-text query syntax', async () => {
        const { alice, bob, shared } = await world();
        await post(shared, bob, 'cats AND dogs (or not) "quoted" star* NEAR col:umn', at(1));
        const odd = [
          [{ words: ['"'], prefix: false }],
          [{ words: ['"'], prefix: true }],
          [{ words: ['*'], prefix: true }],
          [{ words: ['AND'], prefix: false }],
          [{ words: ['OR'], prefix: true }],
          [{ words: ['NOT'], prefix: false }],
          [{ words: ['('], prefix: false }],
          [{ words: [')', '('], prefix: false }],
          [{ words: ['NEAR(cats dogs)'], prefix: false }],
          [{ words: ['col:umn'], prefix: false }],
          [{ words: ['cats'], prefix: false }, { words: ['AND'], prefix: false }, { words: ['"quoted"'], prefix: false }],
          [{ words: ['^cats'], prefix: false }],
          [{ words: ['-dogs'], prefix: false }],
          [{ words: ['+'], prefix: true }],
        ];
        for (const terms of odd) {
          await expect(store.searchMessages(alice.id, terms, 10)).resolves.toEqual(expect.any(Array));
        }
        // "AND" is a word to look for, not an operator.
        expect(await store.searchMessages(alice.id, [{ words: ['and'], prefix: false }], 10)).toHaveLength(1);
        expect(await store.searchMessages(alice.id, [{ words: ['quoted'], prefix: false }], 10)).toHaveLength(1);
        expect(await store.searchMessages(alice.id, [], 10)).toEqual([]);
      });
    });

    // ── blocks and mutes ─────────────────────────────────────────────────────
    describe('blocks and mutes', () => {
      it('records, lists and lifts blocks; blocking twice is not an error', async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const carol = await mkUser('carol');
        expect(await store.blockUser(alice.id, carol.id, at(2))).toBe(true);
        expect(await store.blockUser(alice.id, bob.id, at(1))).toBe(true);
        expect(await store.blockUser(alice.id, bob.id, at(3))).toBe(false);
        expect(await store.listBlocked(alice.id)).toEqual([
          { blockedId: bob.id, createdAt: at(1) },
          { blockedId: carol.id, createdAt: at(2) },
        ]);
        expect(await store.listBlocked(bob.id)).toEqual([]);
        expect((await store.listBlockersOf(bob.id, [alice.id, carol.id])).sort()).toEqual([alice.id]);
        expect(await store.listBlockersOf(bob.id, [carol.id])).toEqual([]);
        expect(await store.listBlockersOf(bob.id, [])).toEqual([]);
        expect(await store.unblockUser(alice.id, bob.id)).toBe(true);
        expect(await store.unblockUser(alice.id, bob.id)).toBe(false);
        expect(await store.listBlocked(alice.id)).toEqual([{ blockedId: carol.id, createdAt: at(2) }]);
      });

      it("leaves a blocked sender's messages out of everything the blocker reads, and only for the blocker", async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const carol = await mkUser('carol');
        const group = await mkConversation([alice, bob, carol]);
        const c1 = await post(group, carol, 'hello zebra', at(1));
        const b1 = await post(group, bob, 'bob says zebra', at(2));
        const c2 = await post(group, carol, 'carol again', at(3));
        const b2 = await post(group, bob, 'bob last', at(4));
        await store.blockUser(alice.id, bob.id, at(5));

        const filter = { viewerId: alice.id, includeDeleted: false };
        expect(ids(await store.listMessages(group.id, { ...filter, newestFirst: false, limit: 10 }))).toEqual([c1.id, c2.id]);
        expect(await store.countMessages(group.id, filter)).toBe(2);
        expect((await store.lastMessages([group.id], alice.id)).get(group.id)?.id).toBe(c2.id);
        expect((await store.countUnread(alice.id)).get(group.id)).toBe(2);
        expect(await store.countFromOthers(group.id, alice.id, 0, 4)).toBe(2);
        expect(ids(await store.listFromOthers(group.id, alice.id, 0, 4, 10))).toEqual([c1.id, c2.id]);
        expect((await store.searchMessages(alice.id, [{ words: ['zebra'], prefix: false }], 10)).map((h) => h.message.id)).toEqual([c1.id]);

        // Carol still sees everything.
        expect(ids(await store.listMessages(group.id, { viewerId: carol.id, includeDeleted: false, newestFirst: false, limit: 10 }))).toEqual([
          c1.id,
          b1.id,
          c2.id,
          b2.id,
        ]);
        expect((await store.lastMessages([group.id], carol.id)).get(group.id)?.id).toBe(b2.id);

        await store.unblockUser(alice.id, bob.id);
        expect(await store.countMessages(group.id, filter)).toBe(4);
        expect((await store.countUnread(alice.id)).get(group.id)).toBe(4);
      });

      it('mutes a conversation for members only, with an optional end, and unmutes', async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const eve = await mkUser('eve');
        const g1 = await mkConversation([alice, bob]);
        const g2 = await mkConversation([alice, bob]);
        expect(await store.setMute(g1.id, alice.id, null, at(1))).toBe(true);
        expect(await store.setMute(g2.id, alice.id, at(100), at(2))).toBe(true);
        expect(await store.setMute(g1.id, eve.id, null, at(1))).toBe(false);
        expect(await store.listMutes(alice.id)).toEqual([
          { conversationId: g1.id, userId: alice.id, until: null, createdAt: at(1) },
          { conversationId: g2.id, userId: alice.id, until: at(100), createdAt: at(2) },
        ]);
        expect(await store.listMutes(alice.id, [g2.id])).toEqual([{ conversationId: g2.id, userId: alice.id, until: at(100), createdAt: at(2) }]);
        expect(await store.listMutes(alice.id, [])).toEqual([]);
        expect(await store.listMutes(bob.id)).toEqual([]);
        expect(await store.listMutes(eve.id)).toEqual([]);

        // Muting again replaces the end.
        expect(await store.setMute(g2.id, alice.id, null, at(3))).toBe(true);
        expect((await store.listMutes(alice.id, [g2.id]))[0]?.until).toBeNull();

        expect(await store.clearMute(g1.id, alice.id)).toBe(true);
        expect(await store.clearMute(g1.id, alice.id)).toBe(false);
        expect((await store.listMutes(alice.id)).map((m) => m.conversationId)).toEqual([g2.id]);

        // Deleting the conversation takes its mutes with it.
        await store.deleteConversation(g2.id);
        expect(await store.listMutes(alice.id)).toEqual([]);
      });
    });
    // ── attachments ──────────────────────────────────────────────────────────
    describe('attachments', () => {
      const upload = (uploader: User, name: string, size: number, now: Date, key: string | null = `k/${name}`) =>
        store.insertAttachment({
          uploaderId: uploader.id,
          storageKey: key,
          thumbnailKey: key === null ? null : `${key}.thumb.webp`,
          name,
          size,
          mimeType: 'image/png',
          mediaType: 'image',
          width: 640,
          height: 480,
          externalUrl: key === null ? 'https://example.com/x.png' : null,
          metadata: key === null ? { alt: 'x' } : null,
          now,
        });

      it('records uploads unattached and reads them back', async () => {
        const alice = await mkUser('alice');
        const a = await upload(alice, 'cat.png', 1234, at(1));
        expect(a).toMatchObject({ uploaderId: alice.id, messageId: null, storageKey: 'k/cat.png', thumbnailKey: 'k/cat.png.thumb.webp', name: 'cat.png', size: 1234, mimeType: 'image/png', mediaType: 'image', width: 640, height: 480, externalUrl: null, metadata: null, createdAt: at(1) });
        expect(await store.getAttachment(a.id)).toEqual(a);
        expect(await store.getAttachment(a.id + 1000)).toBeNull();
        const m = await upload(alice, 'x.png', 0, at(2), null);
        expect((await store.getAttachment(m.id))?.metadata).toEqual({ alt: 'x' });
      });

      it('attaches own unattached uploads in the send transaction, with media and forwardedFromId', async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const c = await mkConversation([alice, bob]);
        const first = await post(c, alice, 'first', at(1));
        expect(first.forwardedFromId ?? null).toBeNull();
        const a1 = await upload(alice, 'a1.png', 10, at(1));
        const a2 = await upload(alice, 'a2.png', 20, at(1));
        const { message } = await store.insertMessage({
          conversationId: c.id,
          senderId: alice.id,
          content: '',
          parentId: null,
          clientId: null,
          now: at(2),
          forwardedFromId: first.id,
          attachmentIds: [a2.id, a1.id],
          media: [{ storageKey: null, thumbnailKey: null, name: 'u.jpg', size: 5, mimeType: 'image/jpeg', mediaType: 'image', width: null, height: null, externalUrl: 'https://example.com/u.jpg', metadata: { k: 1 } }],
        });
        expect(message.forwardedFromId).toBe(first.id);
        expect((await store.getMessage(message.id))?.forwardedFromId).toBe(first.id);
        const listed = await store.listAttachments([message.id, first.id]);
        expect(listed.map((a) => a.name)).toEqual(['a1.png', 'a2.png', 'u.jpg']);
        expect(listed.every((a) => a.messageId === message.id)).toBe(true);
        expect(listed[2]).toMatchObject({ uploaderId: alice.id, externalUrl: 'https://example.com/u.jpg', metadata: { k: 1 }, createdAt: at(2) });
        expect(ids(await store.listConversationAttachments(c.id))).toEqual(ids(listed));
      });

      it('refuses (and writes nothing) when an id is not the sender\'s or already attached', async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const c = await mkConversation([alice, bob]);
        const mine = await upload(alice, 'mine.png', 1, at(1));
        const theirs = await upload(bob, 'theirs.png', 1, at(1));
        const err = await expectError(
          store.insertMessage({ conversationId: c.id, senderId: alice.id, content: 'x', parentId: null, clientId: null, now: at(2), attachmentIds: [mine.id, theirs.id] }),
          'validation',
        );
        expect(err.details?.attachment_ids).toBeDefined();
        expect((await store.getConversation(c.id))?.lastSeq).toBe(0);
        expect((await store.getAttachment(mine.id))?.messageId).toBeNull();
        await store.insertMessage({ conversationId: c.id, senderId: alice.id, content: 'x', parentId: null, clientId: null, now: at(3), attachmentIds: [mine.id] });
        await expectError(
          store.insertMessage({ conversationId: c.id, senderId: alice.id, content: 'y', parentId: null, clientId: null, now: at(4), attachmentIds: [mine.id] }),
          'validation',
        );
        expect((await store.getConversation(c.id))?.lastSeq).toBe(1);
      });

      it('hard delete of a message or conversation takes its attachment rows; forwards are unlinked', async () => {
        const alice = await mkUser('alice');
        const c = await mkConversation([alice]);
        const a = await upload(alice, 'a.png', 1, at(1));
        const { message } = await store.insertMessage({ conversationId: c.id, senderId: alice.id, content: 'x', parentId: null, clientId: null, now: at(2), attachmentIds: [a.id] });
        const { message: fwd } = await store.insertMessage({ conversationId: c.id, senderId: alice.id, content: 'x', parentId: null, clientId: null, now: at(3), forwardedFromId: message.id });
        expect(await store.hardDeleteMessage(message.id)).toBe(true);
        expect(await store.getAttachment(a.id)).toBeNull();
        expect((await store.getMessage(fwd.id))?.forwardedFromId).toBeNull();
        const b = await upload(alice, 'b.png', 1, at(4));
        await store.insertMessage({ conversationId: c.id, senderId: alice.id, content: 'y', parentId: null, clientId: null, now: at(5), attachmentIds: [b.id] });
        await store.deleteConversation(c.id);
        expect(await store.getAttachment(b.id)).toBeNull();
      });

      it('lists old unattached uploads, deletes rows, and totals usage', async () => {
        const alice = await mkUser('alice');
        const c = await mkConversation([alice]);
        const old1 = await upload(alice, 'old1.png', 100, at(1));
        const old2 = await upload(alice, 'old2.png', 200, at(2));
        const fresh = await upload(alice, 'fresh.png', 400, at(10));
        const used = await upload(alice, 'used.png', 800, at(1));
        const url = await upload(alice, 'url.png', 5, at(1), null);
        await store.insertMessage({ conversationId: c.id, senderId: alice.id, content: 'x', parentId: null, clientId: null, now: at(3), attachmentIds: [used.id] });
        expect(await store.attachmentUsage()).toEqual({ files: 4, bytes: 1500, unattachedFiles: 3, unattachedBytes: 700 });
        expect(ids(await store.listUnattached(at(10), 10))).toEqual([old1.id, url.id, old2.id]);
        expect(ids(await store.listUnattached(at(10), 1))).toEqual([old1.id]);
        expect(await store.deleteAttachments([old1.id, old2.id])).toBe(2);
        expect(await store.deleteAttachments([])).toBe(0);
        expect(ids(await store.listUnattached(at(100), 10))).toContain(fresh.id);
        expect(await store.attachmentUsage()).toEqual({ files: 2, bytes: 1200, unattachedFiles: 1, unattachedBytes: 400 });
      });
    });

    // ── metadata (migration 0006) ──────────────────────────────────────────────
    describe('metadata', () => {
      it('keeps a conversation\'s metadata from creation, replaces it on update, clears it with null', async () => {
        const alice = await mkUser('alice');
        const plain = await mkConversation([alice]);
        expect(plain.metadata ?? null).toBeNull();
        const c = await store.createConversation({
          kind: 'group', title: 'Tagged', objectKey: null, dmKey: null, isPublic: false, createdBy: alice.id,
          members: [{ userId: alice.id, role: 'admin' }], now: at(1), metadata: { tag: 'read-only', nested: { n: 1, list: [1, 'two'] } },
        });
        expect(c.metadata).toEqual({ tag: 'read-only', nested: { n: 1, list: [1, 'two'] } });
        expect(must(await store.getConversation(c.id)).metadata).toEqual({ tag: 'read-only', nested: { n: 1, list: [1, 'two'] } });
        // A title change leaves the metadata alone.
        expect(must(await store.updateConversation(c.id, { title: 'Renamed' }, at(2))).metadata).toEqual({ tag: 'read-only', nested: { n: 1, list: [1, 'two'] } });
        expect(must(await store.updateConversation(c.id, { metadata: { tag: 'open' } }, at(3))).metadata).toEqual({ tag: 'open' });
        const listed = await store.listConversations(alice.id, { limit: 10 });
        expect(listed.items.find((x) => x.id === c.id)?.metadata).toEqual({ tag: 'open' });
        expect(must(await store.updateConversation(c.id, { metadata: null }, at(4))).metadata ?? null).toBeNull();
      });

      it('keeps a message\'s metadata from the send, through history, and replaces it on edit only when given', async () => {
        const alice = await mkUser('alice');
        const c = await mkConversation([alice]);
        const { message } = await store.insertMessage({
          conversationId: c.id, senderId: alice.id, content: 'hi', parentId: null, clientId: 'k1', now: at(1), metadata: { priority: 2, labels: ['a'] },
        });
        expect(message.metadata).toEqual({ priority: 2, labels: ['a'] });
        expect(must(await store.getMessage(message.id)).metadata).toEqual({ priority: 2, labels: ['a'] });
        const [listed] = await store.listMessages(c.id, { viewerId: alice.id, includeDeleted: false, newestFirst: true, limit: 10 });
        expect(listed?.metadata).toEqual({ priority: 2, labels: ['a'] });
        // A retried client id returns the first message, metadata included.
        const retry = await store.insertMessage({ conversationId: c.id, senderId: alice.id, content: 'hi', parentId: null, clientId: 'k1', now: at(2), metadata: { priority: 9 } });
        expect(retry.created).toBe(false);
        expect(retry.message.metadata).toEqual({ priority: 2, labels: ['a'] });
        expect(must(await store.updateMessageContent(message.id, 'edited', at(3))).metadata).toEqual({ priority: 2, labels: ['a'] });
        expect(must(await store.updateMessageContent(message.id, 'again', at(4), { priority: 1 })).metadata).toEqual({ priority: 1 });
        expect(must(await store.updateMessageContent(message.id, 'cleared', at(5), null)).metadata ?? null).toBeNull();
        const plain = await post(c, alice, 'no metadata', at(6));
        expect(plain.metadata ?? null).toBeNull();
      });
    });

    // ── read marks (migration 0009) ──────────────────────────────────────────
    describe('read marks', () => {
      it('recordRead marks ranges per read, independent of the read cursor a send moves', async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const carol = await mkUser('carol');
        const c = await mkConversation([alice, bob], { kind: 'dm', title: null, dmKey: dmKey(alice.id, bob.id) });
        await post(c, alice, 'a1', at(1));
        await post(c, alice, 'a2', at(2));
        // Bob replies: the insert moves his read cursor, not his read mark.
        await post(c, bob, 'b1', at(3));
        expect(must(await store.getMember(c.id, bob.id)).lastReadSeq).toBe(3);
        expect(await store.countUnread(bob.id)).toEqual(new Map());
        expect(await store.countUnreadByMark(bob.id)).toEqual(new Map([[c.id, 2]]));
        expect(await store.listReadMarks(c.id, bob.id, 0, 3)).toEqual([]);

        expect(await store.recordRead(c.id, bob.id, 1, at(10))).toEqual({ before: 0, after: 1 });
        expect(await store.countUnreadByMark(bob.id, { kinds: ['dm'] })).toEqual(new Map([[c.id, 1]]));
        // Never backwards, never past lastSeq, and a repeat changes nothing.
        expect(await store.recordRead(c.id, bob.id, 1, at(11))).toEqual({ before: 1, after: 1 });
        expect(await store.recordRead(c.id, bob.id, 99, at(12))).toEqual({ before: 1, after: 3 });
        expect(await store.countUnreadByMark(bob.id)).toEqual(new Map());
        expect(await store.countUnreadByMark(bob.id, { kinds: ['group'] })).toEqual(new Map());
        // Each range keeps the time it was read.
        expect(await store.listReadMarks(c.id, bob.id, 0, 3)).toEqual([
          { fromSeq: 0, uptoSeq: 1, readAt: at(10) },
          { fromSeq: 1, uptoSeq: 3, readAt: at(12) },
        ]);
        expect(await store.listReadMarks(c.id, bob.id, 1, 2)).toEqual([{ fromSeq: 1, uptoSeq: 3, readAt: at(12) }]);
        expect(await store.listReadMarks(c.id, alice.id, 0, 3)).toEqual([]);
        // Hidden messages do not count; non-members have no mark.
        const a3 = await post(c, alice, 'a3', at(13));
        expect(await store.countUnreadByMark(bob.id, { conversationIds: [c.id] })).toEqual(new Map([[c.id, 1]]));
        await store.hideMessage(a3.id, bob.id, at(14));
        expect(await store.countUnreadByMark(bob.id)).toEqual(new Map());
        expect(await store.recordRead(c.id, carol.id, 1, at(15))).toBeNull();
      });

      it('a late joiner\'s mark starts at their join: history is neither unread nor read by them', async () => {
        const alice = await mkUser('alice');
        const bob = await mkUser('bob');
        const c = await mkConversation([alice]);
        await post(c, alice, 'before', at(1));
        await store.addMembers(c.id, [{ userId: bob.id, role: 'member' }], at(2));
        expect(await store.countUnreadByMark(bob.id)).toEqual(new Map());
        await post(c, alice, 'after', at(3));
        expect(await store.countUnreadByMark(bob.id)).toEqual(new Map([[c.id, 1]]));
        expect(await store.recordRead(c.id, bob.id, 2, at(4))).toEqual({ before: 1, after: 2 });
        expect(await store.listReadMarks(c.id, bob.id, 0, 2)).toEqual([{ fromSeq: 1, uptoSeq: 2, readAt: at(4) }]);
      });
    });

    describe('export and import (portable rows)', () => {
      const dump = async (from: Store): Promise<Record<string, PortableRow[]>> => {
        const out: Record<string, PortableRow[]> = {};
        for (const table of PORTABLE_TABLES) {
          const rows: PortableRow[] = [];
          // Pages of 2 walk every composite key across page boundaries.
          for (let page = await from.exportRows(table, null, 2); page.length > 0; page = await from.exportRows(table, page[page.length - 1] ?? null, 2)) rows.push(...page);
          expect(await from.countRows(table)).toBe(rows.length);
          out[table] = rows;
        }
        return out;
      };

      it('copies every table into an empty store with ids, cursors, reactions and metadata kept; new ids continue after them', async () => {
        const alice = await mkUser('Alice', { passwordHash: 'hash-a' });
        const bob = await mkUser('bob');
        await store.createToken({ tokenHash: 'h1', userId: alice.id, kind: 'api', expiresAt: null, now: at(1) });
        await store.createToken({ tokenHash: 'h2', userId: bob.id, kind: 'session', expiresAt: at(9999), now: at(2) });
        const dm = await store.createConversation({
          kind: 'dm', title: null, objectKey: null, dmKey: dmKey(alice.id, bob.id), isPublic: false, createdBy: alice.id,
          members: [{ userId: alice.id, role: 'member' }, { userId: bob.id, role: 'member' }], now: at(3), metadata: { topic: 'x' },
        });
        const first = (await store.insertMessage({ conversationId: dm.id, senderId: alice.id, content: 'hello bob', parentId: null, clientId: 'c1', now: at(4), metadata: { n: [1] } })).message;
        const reply = (await store.insertMessage({ conversationId: dm.id, senderId: bob.id, content: 'hi alice', parentId: first.id, clientId: null, now: at(5) })).message;
        await store.toggleReaction(first.id, bob.id, '👍', at(6));
        await store.advanceReadCursor(dm.id, bob.id, first.seq, at(7));
        await store.advanceDeliveryCursor(dm.id, alice.id, reply.seq, at(8));
        await store.hideMessage(first.id, alice.id, at(9));
        await store.blockUser(bob.id, alice.id, at(10));
        await store.setMute(dm.id, alice.id, null, at(11));
        const upload = await store.insertAttachment({
          uploaderId: alice.id, storageKey: 'k/1', thumbnailKey: null, name: 'a.txt', size: 3, mimeType: 'text/plain', mediaType: 'file',
          width: null, height: null, externalUrl: null, metadata: { pages: 1 }, now: at(12),
        });

        const before = await dump(store);
        expect(before.reactions).toHaveLength(1);
        expect((await store.listTokens(null)).map((t) => t.tokenHash)).toEqual(['h1', 'h2']);
        expect((await store.getTokenInfo('h2'))?.expiresAt?.toISOString()).toBe(at(9999).toISOString());
        expect(await store.getTokenInfo('nope')).toBeNull();
        expect((await store.listTokens(bob.id)).map((t) => ({ hash: t.tokenHash, kind: t.kind, expires: t.expiresAt?.toISOString() }))).toEqual([
          { hash: 'h2', kind: 'session', expires: at(9999).toISOString() },
        ]);

        const target = await open();
        try {
          for (const table of PORTABLE_TABLES) expect(await target.importRows(table, before[table] ?? [])).toBe(before[table]?.length);
          await target.finishImport();
          expect(await dump(target)).toEqual(before);
          expect(must(await target.getUserByUsername('alice')).passwordHash).toBe('hash-a');
          expect(must(await target.getConversationByDmKey(dmKey(alice.id, bob.id))).id).toBe(dm.id);
          const history = await target.listSeqRange(dm.id, 0, 10, 10);
          expect(history.map((m) => m.content)).toEqual(['hello bob', 'hi alice']);
          expect(must(await target.getMember(dm.id, bob.id)).lastReadSeq).toBe(reply.seq);
          expect(must(await target.getMember(dm.id, alice.id)).lastDeliveredSeq).toBe(reply.seq);
          expect((await target.listReactions([first.id])).map((r) => r.emoji)).toEqual(['👍']);
          expect(must(await target.getAttachment(upload.id)).metadata).toEqual({ pages: 1 });
          // Generated ids go on after the imported ones.
          expect((await target.createUser({ username: 'carol', displayName: 'Carol', email: '', passwordHash: null, now: at(20) })).id).toBeGreaterThan(bob.id);
          const next = await target.insertMessage({ conversationId: dm.id, senderId: bob.id, content: 'after', parentId: null, clientId: null, now: at(21) });
          expect(next.message.id).toBeGreaterThan(reply.id);
          expect(next.message.seq).toBe(reply.seq + 1);
        } finally {
          await target.close();
        }
      });
    });
  });
}

/**
 * The data and the expectations of the `0009_read_marks` backfill, shared by the SQLite and
 * PostgreSQL tests: a database from before the migration keeps, as read marks, exactly what
 * its members' read cursors say they read.
 */
import { expect } from 'vitest';
import type { ConversationId, Store, UserId } from '../../src/core/index.js';

const T0 = Date.UTC(2024, 0, 15, 9, 0, 0);
const at = (s: number): Date => new Date(T0 + s * 1000);

export interface ReadMarksCase {
  conversationId: ConversationId;
  /** [userId, countUnreadByMark of the conversation, marks] after the backfill. */
  expected: [UserId, number, { fromSeq: number; uptoSeq: number; readAt: Date }[]][];
}

/** A DM where alice sent, bob read part of it, and carol joined a group late and read nothing. */
export async function seedReadCursors(store: Store): Promise<ReadMarksCase> {
  const mk = (username: string) => store.createUser({ username, displayName: username, email: `${username}@example.com`, passwordHash: null, now: at(0) });
  const [alice, bob, carol] = [await mk('alice'), await mk('bob'), await mk('carol')];
  const c = await store.createConversation({
    kind: 'group',
    title: 'Old',
    objectKey: null,
    dmKey: null,
    isPublic: false,
    createdBy: alice.id,
    members: [
      { userId: alice.id, role: 'admin' },
      { userId: bob.id, role: 'member' },
    ],
    now: at(0),
  });
  const post = (senderId: UserId, content: string, s: number) =>
    store.insertMessage({ conversationId: c.id, senderId, content, parentId: null, clientId: null, now: at(s) });
  await post(alice.id, 'm1', 1);
  await post(alice.id, 'm2', 2);
  await store.addMembers(c.id, [{ userId: carol.id, role: 'member' }], at(3));
  await post(alice.id, 'm3', 4);
  await store.advanceReadCursor(c.id, bob.id, 2, at(5));
  const readAt = (userId: UserId) => store.getMember(c.id, userId).then((m) => m?.readAt ?? null);
  const aliceReadAt = await readAt(alice.id);
  return {
    conversationId: c.id,
    expected: [
      // alice's own sends moved her cursor to 3: that range counts as read by her.
      [alice.id, 0, aliceReadAt ? [{ fromSeq: 0, uptoSeq: 3, readAt: aliceReadAt }] : []],
      [bob.id, 1, [{ fromSeq: 0, uptoSeq: 2, readAt: at(5) }]],
      [carol.id, 1, []],
    ],
  };
}

export async function expectReadMarksBackfilled(store: Store, seeded: ReadMarksCase): Promise<void> {
  for (const [userId, unread, marks] of seeded.expected) {
    expect(await store.listReadMarks(seeded.conversationId, userId, 0, 99)).toEqual(marks);
    const counted = (await store.countUnreadByMark(userId)).get(seeded.conversationId) ?? 0;
    expect(counted).toBe(unread);
  }
}

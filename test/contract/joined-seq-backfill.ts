/**
 * The data and the expectations of the `0008_member_joined_seq` backfill, shared by the SQLite
 * and PostgreSQL tests. Each backend builds the data through the port, removes the column
 * and the migration's record as a database from before it would be, migrates again, and
 * checks that every member's `joinedSeq` is what it would have been had the column existed.
 */
import { expect } from 'vitest';
import type { ConversationId, Store, UserId } from '../../src/core/index.js';

const T0 = Date.UTC(2024, 0, 15, 9, 0, 0);
const at = (s: number): Date => new Date(T0 + s * 1000);

export interface BackfillCase {
  conversationId: ConversationId;
  /** [userId, joinedSeq] in join order. */
  expected: [UserId, number][];
}

/** A group where carol joins after two messages and dave after three, then everyone posts. */
export async function seedLateJoiners(store: Store): Promise<BackfillCase> {
  const mk = (username: string) => store.createUser({ username, displayName: username, email: `${username}@example.com`, passwordHash: null, now: at(0) });
  const alice = await mk('alice');
  const bob = await mk('bob');
  const carol = await mk('carol');
  const dave = await mk('dave');
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
  await post(bob.id, 'm2', 2);
  await store.addMembers(c.id, [{ userId: carol.id, role: 'member' }], at(3));
  await post(alice.id, 'm3', 4);
  await store.addMembers(c.id, [{ userId: dave.id, role: 'member' }], at(5));
  await post(carol.id, 'm4', 6);
  await post(dave.id, 'm5', 7);
  await store.advanceReadCursor(c.id, bob.id, 5, at(8));
  const expected: [UserId, number][] = [
    [alice.id, 0],
    [bob.id, 0],
    [carol.id, 2],
    [dave.id, 3],
  ];
  expect((await store.listMembers(c.id)).map((m) => [m.userId, m.joinedSeq])).toEqual(expected);
  return { conversationId: c.id, expected };
}

export async function expectBackfilled(store: Store, seeded: BackfillCase): Promise<void> {
  expect((await store.listMembers(seeded.conversationId)).map((m) => [m.userId, m.joinedSeq])).toEqual(seeded.expected);
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer, TestUser } from './harness.js';
import { API, createChat, createGroup, expectInvalid, expectStatus, ids, newUser, send, startRestServer } from './rest-fixtures.js';

/** Asserts a 403 whose detail names what is disabled. */
function expectDisabled(r: { status: number; body: any; text: string }, detail: RegExp): void {
  expectStatus(r as never, 403);
  expect(Object.keys(r.body)).toEqual(['detail']);
  expect(r.body.detail).toMatch(detail);
}

describe('features turned off: reactions, edits, deletes, renaming DMs and rooms', () => {
  let s: TestServer;
  let a: TestUser;
  let b: TestUser;
  beforeAll(async () => {
    s = await startRestServer({
      allowAddingReactions: false,
      allowEditingOwnMessages: false,
      allowDeletingOwnMessages: false,
      allowRenamingDms: false,
      allowRenamingChatRooms: false,
    });
    a = await newUser(s, 'oa');
    b = await newUser(s, 'ob');
  });
  afterAll(() => s.close());

  it('reactions → 403 "Reactions are disabled."', async () => {
    const g = await createGroup(a, [b], 'G');
    const m = await send(a, g.id, 'hi');
    const r = await b.client.post(`${API}/messages/${m.id}/reactions/`, { emoji: '👍' });
    expectDisabled(r, /reactions are disabled/i);
    expect((await a.client.get(`${API}/messages/${m.id}/`)).body.reactions).toEqual([]);
  });

  it('editing own messages → 403, content unchanged', async () => {
    const g = await createGroup(a, [b], 'G');
    const m = await send(a, g.id, 'original');
    expectDisabled(await a.client.put(`${API}/messages/${m.id}/`, { content: 'changed' }), /editing messages is disabled/i);
    expectDisabled(await a.client.patch(`${API}/messages/${m.id}/`, { content: 'changed' }), /editing messages is disabled/i);
    expect((await a.client.get(`${API}/messages/${m.id}/`)).body).toMatchObject({ content: 'original', is_edited: false });
  });

  it('deleting own messages → 403, message still there', async () => {
    const g = await createGroup(a, [b], 'G');
    const m = await send(a, g.id, 'stays');
    expectDisabled(await a.client.delete(`${API}/messages/${m.id}/`), /deleting messages is disabled/i);
    expectStatus(await a.client.get(`${API}/messages/${m.id}/`), 200);
  });

  it('renaming a DM → 403 for either member; DMs themselves still work', async () => {
    const dm = await createChat(a, { chat_type: 'dm', member_ids: [b.id] });
    expectDisabled(await a.client.patch(`${API}/chats/${dm.id}/`, { title: 'Ours' }), /renaming direct messages is disabled/i);
    expectDisabled(await b.client.put(`${API}/chats/${dm.id}/`, { title: 'Ours' }), /renaming direct messages is disabled/i);
    expectStatus(await b.client.post(`${API}/chats/${dm.id}/messages/`, { content: 'still fine' }), 201);
  });

  it('renaming a room → 403 even for its admin; renaming a group still works', async () => {
    const room = await createChat(a, { chat_type: 'room', title: 'Lobby' });
    expect(room.admins).toEqual([a.id]);
    expectDisabled(await a.client.patch(`${API}/chats/${room.id}/`, { title: 'Hall' }), /renaming chat rooms is disabled/i);
    expect((await a.client.get(`${API}/chats/${room.id}/`)).body.title).toBe('Lobby');
    const g = await createGroup(a, [], 'Group');
    const r = await a.client.patch(`${API}/chats/${g.id}/`, { title: 'Group renamed' });
    expectStatus(r, 200);
    expect(r.body.title).toBe('Group renamed');
  });
});

describe('features turned off: DMs and chat rooms', () => {
  let s: TestServer;
  let a: TestUser;
  let b: TestUser;
  beforeAll(async () => {
    s = await startRestServer({ enableDms: false, enableChatRooms: false });
    a = await newUser(s, 'na');
    b = await newUser(s, 'nb');
  });
  afterAll(() => s.close());

  it('creating a DM → 403 "Direct messages are disabled."', async () => {
    expectDisabled(await a.client.post(`${API}/chats/`, { chat_type: 'dm', member_ids: [b.id] }), /direct messages are disabled/i);
    expect((await a.client.get(`${API}/chats/`)).body.count).toBe(0);
  });

  it('creating a room or asking for an object room → 403 "Chat rooms are disabled."', async () => {
    expectDisabled(await a.client.post(`${API}/chats/`, { chat_type: 'room', title: 'Lobby' }), /chat rooms are disabled/i);
    expectDisabled(await a.client.get(`${API}/rooms/?object=product:42`), /chat rooms are disabled/i);
  });

  it('groups and channels still work', async () => {
    expectStatus(await a.client.post(`${API}/chats/`, { chat_type: 'group', title: 'Still here', member_ids: [b.id] }), 201);
    expectStatus(await a.client.post(`${API}/chats/`, { chat_type: 'channel', title: 'News' }), 201);
  });
});

describe('messageSoftDelete with showDeletedMessageIndicators (default true)', () => {
  let s: TestServer;
  let a: TestUser;
  let b: TestUser;
  beforeAll(async () => {
    s = await startRestServer({ messageSoftDelete: true });
    a = await newUser(s, 'sa');
    b = await newUser(s, 'sb');
  });
  afterAll(() => s.close());

  it('a deleted message stays in the list with is_deleted true and empty content', async () => {
    const g = await createGroup(a, [b], 'Soft');
    const keep = await send(a, g.id, 'keep me');
    const gone = await send(a, g.id, 'secret words');
    await b.client.post(`${API}/messages/${gone.id}/reactions/`, { emoji: '👍' });
    const r = await a.client.delete(`${API}/messages/${gone.id}/`);
    expect(r.status).toBe(204);

    const list = await b.client.get(`${API}/chats/${g.id}/messages/`);
    expect(list.body.count).toBe(2);
    expect(ids(list.body.results)).toEqual([keep.id, gone.id]);
    const shown = list.body.results[1];
    expect(shown).toMatchObject({ id: gone.id, is_deleted: true, content: '', reactions: [], sender: { id: a.id } });
    expect(list.text).not.toContain('secret words');
    expect(list.body.results[0]).toMatchObject({ content: 'keep me', is_deleted: false });
  });

  it('a soft-deleted message is 404 by id, cannot be edited, reacted to or deleted again, and is not searchable', async () => {
    const g = await createGroup(a, [b], 'Soft 2');
    const m = await send(a, g.id, 'ephemeral axolotl');
    await a.client.delete(`${API}/messages/${m.id}/`);
    expect((await b.client.get(`${API}/messages/${m.id}/`)).body).toEqual({ detail: 'Not found.' });
    expectStatus(await a.client.patch(`${API}/messages/${m.id}/`, { content: 'back' }), 404);
    expectStatus(await b.client.post(`${API}/messages/${m.id}/reactions/`, { emoji: '👍' }), 404);
    expectStatus(await a.client.delete(`${API}/messages/${m.id}/`), 404);
    expect((await b.client.get(`${API}/search/?q=axolotl`)).body.count).toBe(0);
  });

  it('a soft-deleted message is neither last_message nor unread', async () => {
    const g = await createGroup(a, [b], 'Soft 3');
    const first = await send(a, g.id, 'first');
    const second = await send(a, g.id, 'second');
    await a.client.delete(`${API}/messages/${second.id}/`);
    const item = (await b.client.get(`${API}/chats/`)).body.results.find((c: any) => c.id === g.id);
    expect(item).toMatchObject({ last_message: { id: first.id, content: 'first' }, unread_count: 1 });
    const read = await b.client.post(`${API}/chats/${g.id}/mark-as-read/`);
    expect(read.body).toEqual({ status: 'success', marked_count: 1 });
  });
});

describe('messageSoftDelete without deleted-message indicators', () => {
  let s: TestServer;
  let a: TestUser;
  let b: TestUser;
  beforeAll(async () => {
    s = await startRestServer({ messageSoftDelete: true, showDeletedMessageIndicators: false });
    a = await newUser(s, 'ia');
    b = await newUser(s, 'ib');
  });
  afterAll(() => s.close());

  it('a deleted message disappears from the list and the count', async () => {
    const g = await createGroup(a, [b], 'Hidden');
    const keep = await send(a, g.id, 'keep');
    const gone = await send(a, g.id, 'gone');
    expect((await a.client.delete(`${API}/messages/${gone.id}/`)).status).toBe(204);
    const list = await b.client.get(`${API}/chats/${g.id}/messages/`);
    expect(list.body.count).toBe(1);
    expect(ids(list.body.results)).toEqual([keep.id]);
    expectStatus(await b.client.get(`${API}/messages/${gone.id}/`), 404);
  });
});

describe('limits: messageMaxLength, chatsPerPage, maxMembers, messagesPerPage (default 50)', () => {
  let s: TestServer;
  let a: TestUser;
  beforeAll(async () => {
    s = await startRestServer({ messageMaxLength: 20, chatsPerPage: 3, maxMembers: 3 });
    a = await newUser(s, 'la');
  });
  afterAll(() => s.close());

  it('messageMaxLength applies to sends and edits', async () => {
    const g = await createGroup(a, [], 'Short');
    expectStatus(await a.client.post(`${API}/chats/${g.id}/messages/`, { content: 'x'.repeat(20) }), 201);
    const long = await a.client.post(`${API}/chats/${g.id}/messages/`, { content: 'x'.repeat(21) });
    expectInvalid(long, 'content');
    expect(long.body.details.content[0]).toMatch(/20/);
    const m = await send(a, g.id, 'ok');
    expectInvalid(await a.client.patch(`${API}/messages/${m.id}/`, { content: 'y'.repeat(21) }), 'content');
  });

  it('chatsPerPage sets the chat page size', async () => {
    const u = await newUser(s, 'lp');
    for (let i = 0; i < 4; i++) await createGroup(u, [], `P${i}`);
    const p1 = await u.client.get(`${API}/chats/`);
    expect(p1.body.results).toHaveLength(3);
    expect(p1.body.next).toBe(`${s.url}${API}/chats/?page=2`);
    const p2 = await u.client.get(`${API}/chats/?page=2`);
    expect(p2.body.results).toHaveLength(1);
  });

  it('maxMembers caps creating, adding and joining', async () => {
    const [b, c, d] = [await newUser(s, 'mb'), await newUser(s, 'mc'), await newUser(s, 'md')];
    expectInvalid(await a.client.post(`${API}/chats/`, { chat_type: 'group', member_ids: [b.id, c.id, d.id] }), 'member_ids');
    const g = await createGroup(a, [b, c], 'Full');
    expect(g.member_count).toBe(3);
    expectInvalid(await a.client.post(`${API}/chats/${g.id}/members/add/`, { user_ids: [d.id] }), 'user_ids');
    // Re-adding people who are already in takes no seat.
    const readd = await a.client.post(`${API}/chats/${g.id}/members/add/`, { user_ids: [b.id, c.id] });
    expectStatus(readd, 200);
    expect(readd.body).toEqual({ status: 'success', added_count: 0 });
    const ch = await createChat(a, { chat_type: 'channel', title: 'Full channel', is_public: true, member_ids: [b.id, c.id] });
    const join = await d.client.post(`${API}/chats/${ch.id}/join/`);
    expect(join.status).toBe(400);
    expect(join.body.error).toBe('Invalid request');
    expect((await a.client.get(`${API}/chats/${ch.id}/`)).body.member_count).toBe(3);
  });

  it('messagesPerPage defaults to 50', async () => {
    const g = await createGroup(a, [], 'Fifty');
    for (let i = 1; i <= 53; i++) await send(a, g.id, `n${i}`);
    const p1 = await a.client.get(`${API}/chats/${g.id}/messages/`);
    expect(p1.body.count).toBe(53);
    expect(p1.body.results).toHaveLength(50);
    expect(p1.body.results[0].content).toBe('n4');
    expect(p1.body.results[49].content).toBe('n53');
    const p2 = await a.client.get(`${API}/chats/${g.id}/messages/?page=2`);
    expect(p2.body.results.map((m: any) => m.content)).toEqual(['n1', 'n2', 'n3']);
  });
});
